"""Unset stage values are ``null``, never ``""``.

Tools test ``job_id is None`` / ``output is None``; an empty string reads as set. Source:
formats.md §4 ("Unset = null, never \"\"") and the seed 004 template (all ``null``);
cruijff_kit's update-run-status skill says the same for its flat form ("Use ``null`` (not
empty string) for unset fields"), which is checked at its prefixed keys.

Severity: error — an empty value reads as set: a stage with ``job_id: ""`` claims a job
that no scheduler knows.

Failing::

    output: ""
    finetune_job_id: ""          # flat form

Passing::

    output: null
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import iter_stage_views, val_pos

CODE = "RS005"
NAME = "status-empty-string"
SEVERITY = "error"
KINDS = ("status",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    seen: set[tuple[str, ...]] = set()
    for view in iter_stage_views(ctx):
        for field, value in view.fields():
            if value == "" and isinstance(value, str):
                where = tuple(str(p) for p in view.path(field))
                if where in seen:  # the flat form's stages share last_updated
                    continue
                seen.add(where)
                key = view.key(field)
                line, col = val_pos(ctx, view.path(field))
                yield Finding(line, col, f"{key} is an empty string; unset values are null",
                              f"write {key}: null")
