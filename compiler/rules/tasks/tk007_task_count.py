"""A seed-003 task plan has 10 to 25 tasks in all.

"Prefer 10-25 total tasks across phases depending on scope": fewer means tasks too large
for one iteration, more means a plan nobody reviews. A preference, so a warning.

Severity: warning — the total of 10 to 25 tasks follows from the seed's guidance; it is not
a must.

Failing::

    5 phases with 2 tasks each except one with 1 (9 tasks)

Passing::

    5 phases with 3 tasks each (15 tasks)

Options: ``min_total`` (10), ``max_total`` (25).

Seed: 003 (Rules).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import count_option, plan_of

CODE = "TK007"
NAME = "task-count"
SEVERITY = "warning"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {"min_total": 10, "max_total": 25}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "phased" or not plan.phases:
        return
    lo, hi = count_option(ctx, "min_total"), count_option(ctx, "max_total")
    tasks = [t for t in plan.tasks if t.is_task]
    if len(tasks) < lo:
        line, col = plan.anchor()
        yield Finding(line, col,
                      f"task plan has {len(tasks)} task(s); the seed prefers {lo} to {hi}",
                      "break large tasks into units that fit one iteration")
    elif len(tasks) > hi:
        extra = tasks[hi]
        yield Finding(extra.line, extra.column,
                      f"task plan has {len(tasks)} tasks; the seed prefers at most {hi}",
                      "merge small tasks or move later work to a follow-up plan")
