"""``job_id`` is a job id: a string, a non-negative integer, or ``null``.

SLURM job ids are strings in planc's trackers (an array element is
``"<array id>_<index>"``, formats.md §4), but cruijff_kit's own ``update_run_status.py``
writes integers (``yaml.dump`` of an int), so an integer id is accepted and compared as a
string everywhere. Anything else (a float, a list, ``true``) is not an id.

cruijff_kit's flat form is checked the same way at ``finetune_job_id`` / ``eval_job_id``.

Fix (unsafe): a float with an integral value (``4812345.0``, ``4.812345e6``) is rewritten as
the quoted integer string ``"4812345"``. Unsafe because the value changes type and YAML has
already rounded the float: ``48123450000000001.0`` reads back as a different number, so the
id planc writes may not be the one sbatch printed. Integer ids have no finding and so no fix
(cruijff_kit writes them); lists, booleans and negative numbers have no mechanical fix.

Severity: error — the tracker states something that is not a job id, and sync cannot
match it to the scheduler.

Failing::

    job_id: 4812345.0

Passing::

    job_id: "4812345"
    job_id: 4812345        # cruijff_kit's form
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...fix import replace_in_line
from ..base import Context, Finding
from ._shared import iter_stage_views, val_pos

_PLAIN = re.compile(r"[0-9.+eE_]+(?=\s*(?:#|$|,|\}))")

CODE = "RS003"
NAME = "status-job-id"
SEVERITY = "error"
KINDS = ("status",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    for view in iter_stage_views(ctx):
        value = view.stage.get("job_id")
        if value is None or isinstance(value, str) or (
                isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            continue
        key = view.key("job_id")
        line, col = val_pos(ctx, view.path("job_id"))
        yield Finding(line, col,
                      f"{key} {value!r} is a {type(value).__name__}, not a job id",
                      f'write the id as sbatch printed it, e.g. {key}: "4812345"',
                      _quote_fix(ctx, line, col, value))


def _quote_fix(ctx: Context, line: int, col: int, value: object):  # -> Fix | None
    """The unsafe fix for an integral float: its plain scalar at ``line``/``col`` becomes
    ``"<int>"``; ``None`` when the source text there is not that scalar."""
    if not isinstance(value, float) or not value.is_integer() or value < 0:
        return None
    m = _PLAIN.match(ctx.doc.line_text(line), col - 1)
    if m is None:
        return None
    try:
        if float(m.group(0)) != value:
            return None
    except ValueError:
        return None
    return replace_in_line(ctx.doc, line, m.group(0), f'"{int(value)}"', after=col, unsafe=True)
