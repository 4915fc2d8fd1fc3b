"""Unset stage values are ``null``, never ``""``.

Tools test ``job_id is None`` / ``output is None``; an empty string reads as set. Source:
formats.md §4 ("Unset = null, never \"\"") and the seed 004 template (all ``null``).

Severity: error — seed 004's tracker writes ``null`` for unset values; ``""`` states a value
that is not there (a finished stage with an empty job id).

Failing::

    output: ""

Passing::

    output: null
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import iter_stage_locs, val_pos

CODE = "RS005"
NAME = "status-empty-string"
SEVERITY = "error"
KINDS = ("status",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    for loc, stage in iter_stage_locs(ctx):
        for key, value in stage.items():
            if value == "" and isinstance(value, str):
                line, col = val_pos(ctx, [*loc, key])
                yield Finding(line, col, f"{key} is an empty string; unset values are null",
                              f"write {key}: null")
