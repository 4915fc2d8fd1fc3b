"""Every task states when it is done: ``| done-when: <verifiable condition>``, not empty.

The condition is what the execution iteration checks before it ticks the box; without it
"done" is whatever the agent says.

Severity: error — seed 003: every task "must be ... testable": its done-when is a verifiable
condition.

Failing::

    - [ ] [P2-T2] Run the baseline | deliverable: results/baseline.csv
    - [ ] [P2-T3] Run the control | deliverable: results/control.csv | done-when:

Passing::

    - [ ] [P2-T2] Run the baseline | deliverable: results/baseline.csv | done-when: 5 rows

Seed: 003 (Task line format).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import iter_missing_field

CODE = "TK011"
NAME = "task-done-when"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from iter_missing_field(
        ctx,
        "done_when",
        "done-when condition",
        "append '| done-when: <a condition a reviewer can check>'",
        "state a condition a reviewer can check",
    )
