"""A seed-003 plan has at least one ablation or sensitivity-analysis task.

"Ensure at least one task is dedicated to ablation/sensitivity analysis": a single best
setting says little until one knows which parts of it matter.

Severity: error — seed 003: "Ensure at least one task is dedicated to ablation/sensitivity
analysis".

Failing::

    (no task mentions an ablation or a sensitivity analysis)

Passing::

    - [ ] [P4-T3] Ablation: hidden width 32/64/128 at the best alpha | deliverable:
      results/width_ablation.csv | done-when: 30 runs COMPLETED and tabulated

Seed: 003 (Add analytics-first planning requirements).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import plan_of

CODE = "TK016"
NAME = "ablation-task"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}



def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "phased" or not plan.phases:
        return
    if any(t.is_task and ("ablat" in t.lower or "sensitiv" in t.lower) for t in plan.tasks):
        return
    line, col = plan.anchor()
    yield Finding(line, col, "task plan has no ablation or sensitivity-analysis task",
                  "add a task that varies one component or setting at a time")
