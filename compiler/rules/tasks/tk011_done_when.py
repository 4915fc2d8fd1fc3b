"""Every task states when it is done: ``| done-when: <verifiable condition>``, not empty.

The condition is what the execution iteration checks before it ticks the box; without it
"done" is whatever the agent says.

Failing::

    - [ ] [P2-T2] Run the baseline | deliverable: results/baseline.csv
    - [ ] [P2-T3] Run the control | deliverable: results/control.csv | done-when:

Passing::

    - [ ] [P2-T2] Run the baseline | deliverable: results/baseline.csv | done-when: 5 rows

Seed: 003 (Task line format).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..base import Context, Finding
from ._common import plan_of

CODE = "TK011"
NAME = "task-done-when"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}

_CODE_PLACEHOLDER = re.compile(r"^`+\s*<[^<>`]*>\s*`+$")


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "phased":
        return
    for task in plan.tasks:
        if not task.is_task:
            continue
        part = task.done_when
        if part is None:
            at = task.id or task.content
            yield Finding(at.line, at.column, "task has no done-when condition",
                          "append '| done-when: <a condition a reviewer can check>'")
        elif not part.text:
            yield Finding(part.line, part.column, "task done-when condition is empty",
                          "state a condition a reviewer can check")
        elif _CODE_PLACEHOLDER.match(part.text):
            yield Finding(part.line, part.column,
                          f"task done-when condition is the placeholder {part.text}",
                          "state a condition a reviewer can check")
