"""``| depends: P1-T2, …`` names earlier tasks of this plan.

Dependencies order the work: a task can only wait for a task that exists and comes before
it. A dependency on itself or on a later task can never be satisfied in order, and a name
that is not a task id cannot be checked at all.

Severity: error — a dependency on a task that does not exist (or comes later) can never be
met: the plan contradicts itself.

Failing::

    - [ ] [P2-T1] Run the baseline | deliverable: base.csv | done-when: 5 rows | depends: P2-T2
    - [ ] [P2-T2] Tabulate | deliverable: table.md | done-when: written | depends: P9-T1, setup

Passing::

    - [ ] [P2-T1] Run the baseline | deliverable: base.csv | done-when: 5 rows
    - [ ] [P2-T2] Tabulate | deliverable: table.md | done-when: written | depends: P2-T1

Seed: 003 ("Include task dependencies where needed").
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import plan_of

CODE = "TK013"
NAME = "task-depends"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "phased":
        return
    order: dict[tuple[int, int], int] = {}
    tasks = [t for t in plan.tasks if t.is_task]
    for pos, task in enumerate(tasks):
        if task.key is not None:
            order.setdefault(task.key, pos)
    for pos, task in enumerate(tasks):
        if task.depends is None:
            continue
        if not task.depends.text:
            yield Finding(task.depends.line, task.depends.column, "depends field is empty",
                          "name the task ids this task waits for, or drop the field")
            continue
        for other in task.depends_other:
            yield Finding(other.line, other.column, f"depends names {other.text!r}, not a task id",
                          "write ids such as P1-T2, separated by commas")
        for dep in task.depends_ids:
            phase, index = (int(x) for x in dep.text[1:].split("-T"))
            target = order.get((phase, index))
            if target is None:
                yield Finding(dep.line, dep.column,
                              f"depends on {dep.text}, which is not a task in this plan",
                              "name an existing task id")
            elif target == pos:
                yield Finding(dep.line, dep.column, f"task depends on itself ({dep.text})",
                              "remove it from the depends list")
            elif target > pos:
                yield Finding(dep.line, dep.column,
                              f"depends on {dep.text}, which comes later in the plan",
                              "move the task after its dependency or drop the dependency")
