"""A seed-003 plan ends with a final reflection task that says what it inspects and decides.

"Add one final reflection task at the end of the planned phases." Like the midpoint
reflection, it must state the evidence to inspect, when to add follow-up tasks or phases,
and the criteria for continuing versus replanning (lenient keywords:
evidence/inspect/review, follow-up/add tasks, continue/replan).

Severity: error — seed 003: "Add mandatory reflection gates", one at the end of the planned
phases.

Failing::

    - [ ] [P5-T2] Final reflection: summarise | deliverable: analysis/final.md | done-when: written

Passing::

    - [ ] [P5-T2] Final reflection: review the evidence in stats.md; add a follow-up phase when
      the interval includes zero; continue to the write-up when the effect holds, otherwise
      replan | deliverable: analysis/final.md | done-when: the decision is written

Seed: 003 (Add mandatory reflection gates).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import missing_reflection_parts, plan_of, reflection_tasks

CODE = "TK015"
NAME = "final-reflection"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "phased" or not plan.phases:
        return
    tasks = reflection_tasks(plan, "final")
    if not tasks:
        line, col = plan.anchor()
        yield Finding(line, col, "task plan has no final reflection task",
                      "add a 'Final reflection' task in the last phase")
        return
    for task in tasks:
        missing = missing_reflection_parts(task.lower)
        if missing:
            yield Finding(task.description.line, task.description.column,
                          "final reflection does not state " + "; ".join(missing),
                          "name the evidence, when to add follow-ups, and the "
                          "continue-vs-replan criteria")
