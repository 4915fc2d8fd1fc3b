"""A task plan starts with the title ``# Tasks``.

Seeds 002 and 003 both open the file with ``# Tasks``; the research-agent server writes the
same title into its stub. A plan with another title (or none) is not recognised as a task
plan by tools that look for it.

Severity: error — seed 003's required structure starts with ``# Tasks``; without it the file
is not found as a task plan.

Failing::

    # Task Plan for the LR study
    ## Goal

Passing::

    # Tasks
    ## Goal

Seeds: 002 (task checklist template), 003 (Required Plan Structure).
"""

from __future__ import annotations

from collections.abc import Iterator

from ...document import normalise_title
from ..base import Context, Finding
from ._common import plan_of

CODE = "TK001"
NAME = "tasks-title"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form == "abort":
        return
    if plan.title is None:
        yield Finding(1, 1, "task plan has no '# Tasks' title", "start the file with '# Tasks'")
    elif normalise_title(plan.title.title) != "tasks":
        yield Finding(plan.title.line, plan.title.column,
                      f"task plan title is {plan.title.title!r}; the seed format uses '# Tasks'",
                      "rename the title to '# Tasks'")
