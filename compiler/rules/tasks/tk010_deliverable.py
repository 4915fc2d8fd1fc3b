"""Every task names its deliverable: ``| deliverable: <path>`` with a real path.

Tasks must be "explicit, testable, and path-aware": the deliverable is the file a later
iteration checks to decide the task is done. An unfilled ``<path>`` in plain text is
reported by CM005; this rule reports a missing or empty field and a placeholder hidden in a
code span (which CM005 does not read).

Failing::

    - [ ] [P1-T1] Map the entry point | done-when: code map written
    - [ ] [P1-T2] Map the configs | deliverable: | done-when: listed
    - [ ] [P1-T3] Note the seeds | deliverable: `<path>` | done-when: listed

Passing::

    - [ ] [P1-T1] Map the entry point | deliverable: exp/analysis/code_map.md | done-when: written

Seed: 003 (Task line format).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..base import Context, Finding
from ._common import plan_of

CODE = "TK010"
NAME = "task-deliverable"
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
        part = task.deliverable
        if part is None:
            at = task.id or task.content
            yield Finding(at.line, at.column, "task has no deliverable",
                          "append '| deliverable: <the file this task produces>'")
        elif not part.text:
            yield Finding(part.line, part.column, "task deliverable is empty",
                          "name the file this task produces")
        elif _CODE_PLACEHOLDER.match(part.text):
            yield Finding(part.line, part.column,
                          f"task deliverable is the placeholder {part.text}",
                          "name the file this task produces")
