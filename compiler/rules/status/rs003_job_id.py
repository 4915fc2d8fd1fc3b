"""``job_id`` is a job id: a string, a non-negative integer, or ``null``.

SLURM job ids are strings in planc's trackers (an array element is
``"<array id>_<index>"``, formats.md §4), but cruijff_kit's own ``update_run_status.py``
writes integers (``yaml.dump`` of an int), so an integer id is accepted and compared as a
string everywhere. Anything else (a float, a list, ``true``) is not an id.

cruijff_kit's flat form is checked the same way at ``finetune_job_id`` / ``eval_job_id``.

Severity: error — the tracker states something that is not a job id, and sync cannot
match it to the scheduler.

Failing::

    job_id: 4812345.0

Passing::

    job_id: "4812345"
    job_id: 4812345        # cruijff_kit's form
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import iter_stage_views, val_pos

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
                      f'write the id as sbatch printed it, e.g. {key}: "4812345"')
