"""Every item in a phase is a task line with an id written ``[Pn-Tm]``.

The compact seed-003 line is ``- [ ] [P2-T3] description | deliverable: <path> |
done-when: <condition>``. A plain bullet inside a phase, a task without an id, an id
spelt another way (``[p2-t3]``, ``P2-T3:``) or a task with no description breaks the
id-based references (``depends``) and the execution loop that picks the next open task.

Severity: error — seed 003: "Every task must be explicit, testable, and path-aware"; a line
without an id cannot be named by ``depends:`` or tracked.

Failing::

    ## Phase 1 - Code Understanding
    - [ ] Read train.py | deliverable: notes.md | done-when: notes written
    - [ ] (p1-t2) Map configs | deliverable: configs.md | done-when: listed
    - remember the GPU quota

Passing::

    ## Phase 1 - Code Understanding
    - [ ] [P1-T1] Read train.py | deliverable: notes.md | done-when: notes written
    - [ ] [P1-T2] Map configs | deliverable: configs.md | done-when: listed

Seed: 003 (Task line format).
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models.tasks import is_canonical_id
from ..base import Context, Finding
from ._common import plan_of

CODE = "TK008"
NAME = "task-line-format"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "phased":
        return
    for ph in plan.phases:
        n = ph.number if ph.number is not None else "N"
        for task in ph.tasks:
            where = (task.content.line, task.content.column)
            if not task.is_task:
                yield Finding(*where, "list item in a phase is not a task line",
                              f"write '- [ ] [P{n}-Tm] description | deliverable: … | "
                              "done-when: …' or move the note to Planning Notes")
                continue
            if task.id is None:
                at = task.description if task.description.text else task.content
                yield Finding(at.line, at.column, "task has no id",
                              f"start the description with '[P{n}-Tm]'")
            elif not is_canonical_id(task.id.text):
                canon = f"[P{task.phase}-T{task.index}]"
                yield Finding(task.id.line, task.id.column,
                              f"task id {task.id.text!r} is not written as {canon!r}",
                              f"write {canon}")
            if not task.description.text:
                yield Finding(task.description.line, task.description.column,
                              "task has no description", "say what the task does")
