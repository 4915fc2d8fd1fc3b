"""Task ids match their phase and number 1, 2, 3 … within it, without gaps or repeats.

``[P2-T3]`` is the third task of Phase 2. Dependencies and the reflection gates refer to
tasks by id, so an id under the wrong phase, a skipped number or a repeated id makes
references ambiguous.

Severity: error — a repeated or skipped id makes ``depends:`` ambiguous: one id, two tasks.

Failing::

    ## Phase 2 - Experiment Design and Baselines
    - [ ] [P1-T1] Fix the protocol | deliverable: protocol.md | done-when: written
    - [ ] [P2-T3] Run the baseline | deliverable: base.csv | done-when: 5 rows
    - [ ] [P2-T3] Run the control | deliverable: control.csv | done-when: 5 rows

Passing::

    ## Phase 2 - Experiment Design and Baselines
    - [ ] [P2-T1] Fix the protocol | deliverable: protocol.md | done-when: written
    - [ ] [P2-T2] Run the baseline | deliverable: base.csv | done-when: 5 rows
    - [ ] [P2-T3] Run the control | deliverable: control.csv | done-when: 5 rows

Seed: 003 (``[P2-T3]`` task ids; IDs unique, ``Pn`` matches the phase).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import plan_of

CODE = "TK009"
NAME = "task-id"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "phased":
        return
    seen: dict[tuple[int, int], int] = {}
    for ph in plan.phases:
        expected = 1
        for task in ph.tasks:
            key = task.key
            if key is None or task.id is None:
                if task.is_task:  # an id-less task (TK008) still takes its place in the order
                    expected += 1
                continue
            phase, index = key
            at = (task.id.line, task.id.column)
            label = f"P{phase}-T{index}"
            if key in seen:
                yield Finding(*at, f"task id {label} is used twice (first at line {seen[key]})",
                              "give each task its own id")
                continue
            seen[key] = task.id.line
            if ph.number is not None and phase != ph.number:
                yield Finding(*at, f"task id {label} is under Phase {ph.number}",
                              f"number it P{ph.number}-T{expected}")
            elif index != expected:
                why = "ids number from 1" if expected == 1 else "ids have no gaps"
                yield Finding(*at, f"task id {label} should be P{phase}-T{expected} ({why})",
                              f"renumber it P{phase}-T{expected}")
            expected = index + 1 if phase == ph.number or ph.number is None else expected + 1
