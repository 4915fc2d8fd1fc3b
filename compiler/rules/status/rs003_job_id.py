"""``job_id`` is a quoted string or ``null``.

SLURM job ids are strings in the tracker (an array element is ``"<array id>_<index>"``); one
upstream tool wrote integers, which then compare unequal to the ids ``squeue`` prints.
Source: formats.md §4 ("job_id is a quoted string").

Failing::

    job_id: 4812345

Passing::

    job_id: "4812345"
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import iter_stage_locs, val_pos

CODE = "RS003"
NAME = "status-job-id"
SEVERITY = "error"
KINDS = ("status",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    for loc, stage in iter_stage_locs(ctx):
        value = stage.get("job_id")
        if value is None or isinstance(value, str):
            continue
        line, col = val_pos(ctx, [*loc, "job_id"])
        yield Finding(line, col, f"job_id {value!r} is a {type(value).__name__}, not a quoted "
                      "string", f'write job_id: "{value}"')
