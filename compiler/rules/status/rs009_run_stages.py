"""Every run of the tracker has a stage, and each stage is written in one form.

A run entry records where its jobs stand; one with no stage at all (no nested
``finetune``/``run``/``evaluations``, and none of the flat ``finetune_*``/``eval_*`` keys)
tracks nothing, so planc cannot submit, sync or count it. A run that writes the same stage
twice, nested and flat (``finetune:`` beside ``finetune_status:``), states two statuses for
one job. Sources: seed 004 "runs_status.yaml" template (every run has ``finetune`` and
``evaluations``); cruijff_kit's flat form, niznik-dev/cruijff_kit
``.claude/skills/update-run-status/skill.md`` at d15ec1129ed5146f0fe481e0bb92363fa1f897ac
(every run has ``finetune_status`` … ``eval_output``).

Severity: error — a run without a stage cannot be run or tracked as written, and a stage
written in both forms contradicts itself.

Failing::

    runs:
      1B_rank4: {}
      1B_rank64:
        finetune: {status: pending, job_id: null, output: null, last_updated: null}
        finetune_status: completed

Passing::

    runs:
      1B_rank4:
        finetune_status: pending
        finetune_job_id: null
        finetune_output: null
        eval_status: pending
        eval_job_id: null
        eval_output: null
        last_updated: null
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import key_pos, runs_of

CODE = "RS009"
NAME = "status-run-stages"
SEVERITY = "error"
KINDS = ("status",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    from ...models.status import FLAT_STAGES, flat_prefixes, stages_of

    for name, rec in runs_of(ctx).items():
        if not isinstance(rec, dict):
            continue  # RS001's
        if not stages_of(rec):
            line, col = key_pos(ctx, ["runs", name])
            yield Finding(line, col, f"run {name!r} has no stage (no finetune, run or "
                          "evaluations, and no finetune_status/eval_status)",
                          "add 'finetune: {status: pending, job_id: null, output: null, "
                          "last_updated: null}' or run planc compile")
            continue
        for prefix in flat_prefixes(rec):
            stage = FLAT_STAGES[prefix]
            nested = "evaluations" if stage.startswith("evaluations/") else stage
            if isinstance(rec.get(nested), dict):
                line, col = key_pos(ctx, ["runs", name, f"{prefix}_status"]
                                    if f"{prefix}_status" in rec else ["runs", name])
                yield Finding(line, col, f"run {name!r} writes its {nested} stage twice: "
                              f"as {nested}: and as {prefix}_* keys",
                              "keep one form")
