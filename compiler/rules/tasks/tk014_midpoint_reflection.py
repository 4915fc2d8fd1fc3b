"""A seed-003 plan has a midpoint reflection task that says what it inspects and decides.

"Add one midpoint reflection task after first baseline and first main-method result are
available." It must state the evidence to inspect, when to add follow-up tasks or phases,
and the criteria for continuing versus replanning. Keywords are matched leniently:
evidence/inspect/review, follow-up/add tasks, continue/replan.

Severity: error — seed 003: "Add mandatory reflection gates"; reflection tasks "must
explicitly state" what they inspect and decide.

Failing::

    - [ ] [P3-T3] Midpoint reflection | deliverable: analysis/midpoint.md | done-when: written

Passing::

    - [ ] [P3-T3] Midpoint reflection: inspect the evidence in baseline.csv and sweep.csv; add
      follow-up tasks when a level has failed runs; continue when the best alpha beats the
      baseline by more than one seed s.d., otherwise replan | deliverable: analysis/midpoint.md
      | done-when: the decision and its reason are written

Seed: 003 (Add mandatory reflection gates).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import missing_reflection_parts, plan_of, reflection_tasks

CODE = "TK014"
NAME = "midpoint-reflection"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "phased" or not plan.phases:
        return
    tasks = reflection_tasks(plan, "midpoint")
    if not tasks:
        line, col = plan.anchor()
        yield Finding(line, col, "task plan has no midpoint reflection task",
                      "add a 'Midpoint reflection' task after the first baseline and main result")
        return
    for task in tasks:
        missing = missing_reflection_parts(task.lower)
        if missing:
            yield Finding(task.description.line, task.description.column,
                          "midpoint reflection does not state " + "; ".join(missing),
                          "name the evidence, when to add follow-ups, and the "
                          "continue-vs-replan criteria")
