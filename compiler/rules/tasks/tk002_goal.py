"""A task plan has a non-empty ``## Goal`` section.

The goal is what every later iteration reads back to decide the next step, so it must be
written out, not left empty.

Severity: error — seed 003's required structure: the Goal is what every task serves.

Failing::

    # Tasks
    ## Goal
    ## Planning Notes

Passing::

    # Tasks
    ## Goal
    Measure how L2 strength changes held-out accuracy on digits.

Seeds: 002 and 003 (``## Goal`` followed by ``{{goal}}``).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import plan_of

CODE = "TK002"
NAME = "tasks-goal"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form == "abort":
        return
    if plan.goal is None:
        line, col = plan.anchor()
        yield Finding(line, col, "task plan has no '## Goal' section",
                      "add '## Goal' with the session goal under the title")
    elif not plan.goal.nonempty:
        yield Finding(plan.goal.line, plan.goal.column, "'## Goal' section is empty",
                      "write the goal under the heading")
