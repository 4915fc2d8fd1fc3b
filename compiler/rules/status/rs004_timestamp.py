"""``last_updated`` is a quoted ``YYYY-MM-DD HH:MM:SS`` string or ``null``.

PyYAML reads an unquoted ``2025-10-18 14:03:22`` as a datetime, so the tracker would change
type on the next write. Source: formats.md §4 ("Quote last_updated"). In cruijff_kit's flat
form the run's one ``last_updated`` is checked once.

Severity: error — the value is not the timestamp the tracker format requires, and the next
write would change its type.

Failing::

    last_updated: 2025-10-18 14:03:22
    last_updated: "18/10/2025"

Passing::

    last_updated: "2025-10-18 14:03:22"
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import iter_stage_views, val_pos

CODE = "RS004"
NAME = "status-timestamp"
SEVERITY = "error"
KINDS = ("status",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    from ...models.status import TIMESTAMP  # pydantic only when a tracker is linted

    seen: set[tuple[str, ...]] = set()
    for view in iter_stage_views(ctx):
        value = view.stage.get("last_updated")
        if value is None or value == "":
            continue  # "" is RS005's
        where = tuple(str(p) for p in view.path("last_updated"))
        if where in seen:  # the flat form's stages share the run's last_updated
            continue
        seen.add(where)
        line, col = val_pos(ctx, view.path("last_updated"))
        if isinstance(value, (dt.datetime, dt.date)):
            text = value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, dt.datetime) \
                else value.isoformat()
            yield Finding(line, col, "last_updated is unquoted, so YAML reads it as a date",
                          f'quote it: last_updated: "{text}"')
        elif not isinstance(value, str) or not TIMESTAMP.match(value):
            yield Finding(line, col, f"last_updated {value!r} is not 'YYYY-MM-DD HH:MM:SS'")
