"""Task checkboxes are ``[ ]`` (open), ``[x]`` (done) or ``[/]`` (in progress).

The research-agent server picks the next step as the first ``[/]`` line, else the first
``[ ]`` line; any other mark (``[X]``, ``[-]``, ``[]``, ``[x ]``) is never selected, so the
task silently drops out of the loop. A task line without a checkbox drops out the same way.

Severity: error — a checkbox outside ``[ ]``/``[x]``/``[/]`` states no status, so the task
cannot be tracked as written.

Failing::

    - [X] [P1-T1] Map the entry point | deliverable: code_map.md | done-when: written
    - [-] [P1-T2] Map the configs | deliverable: configs.md | done-when: listed
    - [P1-T3] Note the seeds | deliverable: seeds.md | done-when: listed

Passing::

    - [x] [P1-T1] Map the entry point | deliverable: code_map.md | done-when: written
    - [/] [P1-T2] Map the configs | deliverable: configs.md | done-when: listed
    - [ ] [P1-T3] Note the seeds | deliverable: seeds.md | done-when: listed

Seeds: 003 (task line grammar); the server's checkbox states (formats.md §2).
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models.tasks import VALID_MARKS, Part
from ..base import Context, Finding
from ._common import plan_of

CODE = "TK012"
NAME = "checkbox-state"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}


def _suggest(mark: str) -> str:
    low = mark.strip().lower()
    if low == "x":
        return "write [x] (lower-case, no spaces) for a done task"
    if low == "/":
        return "write [/] (no spaces) for a task in progress"
    return "use [ ] (open), [/] (in progress) or [x] (done)"


def _bad_mark(mark: Part) -> Finding | None:
    if mark.text in VALID_MARKS:
        return None
    return Finding(mark.line, mark.column, f"checkbox [{mark.text}] is not one of [ ], [/], [x]",
                   _suggest(mark.text))


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form == "abort":
        for box in plan.boxes:
            if (f := _bad_mark(box)) is not None:
                yield f
        return
    items = plan.flat_items if plan.form == "flat" else [t for t in plan.tasks if t.is_task]
    for item in items:
        if item.mark is None:
            yield Finding(item.content.line, item.content.column, "task has no checkbox",
                          "start the line with '- [ ] '")
        elif (f := _bad_mark(item.mark)) is not None:
            yield f
