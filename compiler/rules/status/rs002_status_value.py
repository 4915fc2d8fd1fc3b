"""Every stage has a ``status`` of pending, submitted, running, completed, failed or skipped.

Source: seed 004 "runs_status.yaml" template (``# pending|submitted|running|completed|failed``,
``skipped`` for base models); formats.md §4.

Severity: error — a status outside the seed's values states no state sync or the site can
act on.

Failing::

    finetune:
      status: done

Passing::

    finetune:
      status: completed
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import iter_stage_locs, key_pos, val_pos

CODE = "RS002"
NAME = "status-value"
SEVERITY = "error"
KINDS = ("status",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    from ...models.status import STATUSES

    for loc, stage in iter_stage_locs(ctx):
        where = "/".join(str(p) for p in loc[1:])
        if "status" not in stage:
            line, col = key_pos(ctx, loc)
            yield Finding(line, col, f"{where} has no status", "add 'status: pending'")
            continue
        value = stage["status"]
        if value not in STATUSES:
            line, col = val_pos(ctx, [*loc, "status"])
            yield Finding(line, col, f"{where}: status {value!r} is not one of "
                          f"{', '.join(STATUSES)}")
