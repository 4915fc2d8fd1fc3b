"""Two runs expand to the same name.

Two runs with one name would share a folder and a tracker record; the second would
overwrite the first. Error: compile stops.

Severity: error — two runs with one name cannot both be written: the plan cannot be compiled
as written.

Failing::

    sweep: {grid: {seed: [1, "1"]}}

Passing::

    sweep: {grid: {seed: [1, 2]}}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "EX004"
NAME = "expand-duplicate-run"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
