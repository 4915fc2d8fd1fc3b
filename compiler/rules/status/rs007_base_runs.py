"""Control (base-model) runs skip fine-tuning and have evaluation keys without an epoch.

A base run's ``finetune.status`` is ``skipped`` (with the note "Base model - no fine-tuning
required"), and its evaluations are keyed ``<task>``, not ``<task>_epoch_<N>``: base models
are evaluated once. Runs are controls when ``runs_plan.md`` beside the file says so (else
when their name ends in ``_base``). In cruijff_kit's flat form the fine-tune stage is
``finetune_status`` (checked there). Source: seed 004 "IMPORTANT - Base Model Evaluations"
and the ``runs_status.yaml`` template.

Severity: error — the tracker states a fine-tune (or a per-epoch evaluation) that a base
run does not have.

Failing::

    Llama-3.2-1B-Instruct_base:
      finetune: {status: pending, job_id: null, output: null, last_updated: null}
      evaluations:
        capitalization_8L_epoch_0: {status: pending, job_id: null, output: null, last_updated: null}

Passing::

    Llama-3.2-1B-Instruct_base:
      finetune: {status: skipped, job_id: null, output: null, last_updated: null,
                 note: "Base model - no fine-tuning required"}
      evaluations:
        capitalization_8L: {status: pending, job_id: null, output: null, last_updated: null}
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import key_pos, runs_of, sibling_plan, val_pos

CODE = "RS007"
NAME = "status-base-run"
SEVERITY = "error"
KINDS = ("status",)
OPTIONS: dict[str, object] = {}

_EPOCH = re.compile(r"_epoch_\d+$")


def check(ctx: Context) -> Iterator[Finding]:
    plan = sibling_plan(ctx)
    if plan is not None and plan.runs:
        controls = {r.name for r in plan.controls}
    else:
        controls = {str(n) for n in runs_of(ctx) if str(n).endswith("_base")}
    from ...models.status import FlatStage, stage_of

    for name, rec in runs_of(ctx).items():
        if str(name) not in controls or not isinstance(rec, dict):
            continue
        ft = stage_of(rec, "finetune")
        if isinstance(ft, FlatStage):
            if ft.get("status") != "skipped":
                line, col = val_pos(ctx, ["runs", name, ft.key_for("status")])
                yield Finding(line, col, f"base run {name!r}: finetune_status is "
                              f"{ft.get('status')!r}; base models are not fine-tuned",
                              "write finetune_status: skipped")
        elif isinstance(ft, dict):
            if ft.get("status") != "skipped":
                line, col = val_pos(ctx, ["runs", name, "finetune", "status"])
                yield Finding(line, col, f"base run {name!r}: finetune.status is "
                              f"{ft.get('status')!r}; base models are not fine-tuned",
                              "write status: skipped")
        elif ft is None:
            line, col = key_pos(ctx, ["runs", name])
            yield Finding(line, col, f"base run {name!r} has no finetune stage",
                          "add finetune: {status: skipped, note: \"Base model - no fine-tuning "
                          "required\"}")
        evals = rec.get("evaluations")
        if isinstance(evals, dict):
            for key in evals:
                if _EPOCH.search(str(key)):
                    line, col = key_pos(ctx, ["runs", name, "evaluations", key])
                    yield Finding(line, col, f"base run {name!r}: evaluation {key!r} has an "
                                  "epoch suffix; base models are evaluated once",
                                  f"name it {_EPOCH.sub('', str(key))!r}")
