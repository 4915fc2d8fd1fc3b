"""A seed-002 task list has 5 to 15 tasks.

"Aim for 5-15 tasks; if the goal is very large, group into phases." A preference, so a
warning; a goal that needs more should use the phased seed-003 form.

Severity: warning — seed 002's "5 to 15 tasks" is guidance an author may break on purpose.

Failing::

    ## Tasks
    - [ ] Task 1: Do everything

Passing::

    ## Tasks
    - [ ] Task 1: Read train.py and its configs
    - [ ] Task 2: Seed NumPy and torch from --seed
    - [ ] Task 3: Create the sweep through POST /sweeps/wild
    - [ ] Task 4: Create one run per learning rate through POST /runs
    - [ ] Task 5: Tabulate test accuracy per run from GET /runs

Options: ``min_total`` (5), ``max_total`` (15).

Seed: 002 (Rules).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import count_option, plan_of

CODE = "TK021"
NAME = "flat-task-count"
SEVERITY = "warning"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {"min_total": 5, "max_total": 15}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "flat" or plan.tasks_heading is None:
        return
    lo, hi = count_option(ctx, "min_total"), count_option(ctx, "max_total")
    n = len(plan.flat_tasks)
    if n < lo:
        yield Finding(plan.tasks_heading.line, plan.tasks_heading.column,
                      f"task list has {n} task(s); the seed aims for {lo} to {hi}",
                      "break the goal into steps of 5-15 minutes each")
    elif n > hi:
        extra = plan.flat_tasks[hi]
        yield Finding(extra.line, extra.column,
                      f"task list has {n} tasks; the seed aims for at most {hi}",
                      "group the work into phases (the seed-003 form)")
