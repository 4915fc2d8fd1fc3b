"""A stage that is submitted, running or completed names its job.

``submitted`` and ``running`` are states of a scheduled job, and a ``completed`` stage is
one whose job finished: each has the id sbatch printed (or planc run's ``local-<pid>``,
research-agent's ``research-agent:<id>``). Without one, ``planc status --sync`` can never
move the stage on, and nothing says which job's output the results are. ``failed`` is not
checked: a stage can fail before it has a job (an evaluation whose fine-tune failed, a
refused submission). Unset ids are ``null``; an empty ``job_id: ""`` is RS005's. In
cruijff_kit's flat form this is ``finetune_status`` with ``finetune_job_id`` (the
update-run-status skill: "capture job_id" for running, completed and failed jobs).

Severity: error — the tracker states a job ran (or runs) and names none.

Failing::

    finetune: {status: completed, job_id: null, output: null, last_updated: null}
    finetune_status: running
    finetune_job_id: null

Passing::

    finetune: {status: completed, job_id: "4812345", output: /abs/r/slurm-4812345.out,
               last_updated: "2025-10-18 14:03:22"}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import iter_stage_views, key_pos, val_pos

CODE = "RS010"
NAME = "status-job-id-missing"
SEVERITY = "error"
KINDS = ("status",)
OPTIONS: dict[str, object] = {}

_NEEDS_ID = ("submitted", "running", "completed")


def check(ctx: Context) -> Iterator[Finding]:
    for view in iter_stage_views(ctx):
        status = view.stage.get("status")
        if status not in _NEEDS_ID or view.stage.get("job_id") is not None:
            continue
        key = view.key("job_id")
        if "job_id" in view.stage:
            line, col = val_pos(ctx, view.path("job_id"))
        else:
            line, col = key_pos(ctx, view.path("status"))
        name = view.where if view.prefix is None else f"{view.where}/{view.prefix}"
        yield Finding(line, col, f"{name} is {status} but has no job id",
                      f"write the job's id ({key}: \"<id>\"), or status: pending if it "
                      "never ran")
