"""Every task names its deliverable: ``| deliverable: <path>`` with a real path.

Tasks must be "explicit, testable, and path-aware": the deliverable is the file a later
iteration checks to decide the task is done. An unfilled ``<path>`` in plain text is
reported by CM005; this rule reports a missing or empty field and a placeholder hidden in a
code span (which CM005 does not read).

Severity: error — seed 003: every task "must be ... path-aware": its deliverable is a path.

Failing::

    - [ ] [P1-T1] Map the entry point | done-when: code map written
    - [ ] [P1-T2] Map the configs | deliverable: | done-when: listed
    - [ ] [P1-T3] Note the seeds | deliverable: `<path>` | done-when: listed

Passing::

    - [ ] [P1-T1] Map the entry point | deliverable: exp/analysis/code_map.md | done-when: written

Seed: 003 (Task line format).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import iter_missing_field

CODE = "TK010"
NAME = "task-deliverable"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from iter_missing_field(
        ctx,
        "deliverable",
        "deliverable",
        "append '| deliverable: <the file this task produces>'",
        "name the file this task produces",
    )
