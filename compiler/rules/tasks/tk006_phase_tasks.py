"""Each phase holds 2 to 6 tasks.

"Each phase must have 2-6 tasks": a phase with one task is not a phase, and one with many
tasks no longer fits the iteration rhythm of the plan.

Severity: error — seed 003: "Each phase must have 2-6 tasks".

Failing::

    ## Phase 2 - Experiment Design and Baselines
    - [ ] [P2-T1] Run the baseline | deliverable: results/base.csv | done-when: 5 rows

Passing::

    ## Phase 2 - Experiment Design and Baselines
    - [ ] [P2-T1] Fix the protocol | deliverable: analysis/protocol.md | done-when: split stated
    - [ ] [P2-T2] Run the baseline | deliverable: results/base.csv | done-when: 5 rows

Options: ``min_tasks`` (2), ``max_tasks`` (6).

Seed: 003 (Produce a phased plan).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import count_option, plan_of

CODE = "TK006"
NAME = "phase-task-count"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {"min_tasks": 2, "max_tasks": 6}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "phased":
        return
    lo, hi = count_option(ctx, "min_tasks"), count_option(ctx, "max_tasks")
    for ph in plan.phases:
        tasks = [t for t in ph.tasks if t.is_task]
        name = f"Phase {ph.number}" if ph.number is not None else repr(ph.heading)
        if len(tasks) < lo:
            yield Finding(ph.line, ph.column,
                          f"{name} has {len(tasks)} task(s); each phase needs {lo} to {hi}",
                          "add tasks or merge the phase into another")
        elif len(tasks) > hi:
            extra = tasks[hi]
            yield Finding(extra.line, extra.column,
                          f"{name} has {len(tasks)} tasks; each phase holds at most {hi}",
                          "split the phase")
