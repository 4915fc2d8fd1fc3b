"""Every stage has a ``status`` of pending, submitted, running, completed, failed or skipped.

Source: seed 004 "runs_status.yaml" template (``# pending|submitted|running|completed|failed``,
``skipped`` for base models); formats.md §4.
cruijff_kit's flat form is checked the same way at its prefixed keys
(``finetune_status``, ``eval_status``, …; :mod:`compiler.models.status`).

Severity: error — a stage without a known status cannot be submitted, synced or counted.

Failing::

    finetune:
      status: done
    finetune_status: done            # flat form

Passing::

    finetune:
      status: completed
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import iter_stage_views, key_pos, val_pos

CODE = "RS002"
NAME = "status-value"
SEVERITY = "error"
KINDS = ("status",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    from ...models.status import STATUSES

    for view in iter_stage_views(ctx):
        where, key = view.where, view.key("status")
        if "status" not in view.stage:
            line, col = key_pos(ctx, view.base)
            name = where if view.prefix is None else f"{where}/{view.prefix}"
            yield Finding(line, col, f"{name} has no status", f"add '{key}: pending'")
            continue
        value = view.stage["status"]
        if value not in STATUSES:
            line, col = val_pos(ctx, view.path("status"))
            yield Finding(line, col, f"{where}: {key} {value!r} is not one of "
                          f"{', '.join(STATUSES)}")
