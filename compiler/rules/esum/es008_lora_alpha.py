"""A stated LoRA alpha is 2 × the run's LoRA rank.

Seed 004: "LoRA alpha: Auto-set to 2 × rank by ``setup_finetune.py``" (and its checklist
"LoRA alpha correctly calculated (2 × rank)"); cruijff_kit's scaffolding and planc's
compile both set it so. A ``lora_alpha`` in ``controls`` or a run's ``parameters`` that is
not 2 × that run's ``lora_rank`` states a value that will not run.

Severity: error — the document states a setting that contradicts what is trained.

Failing::

    controls: {lora_alpha: 16}
    runs: [{name: r8, type: fine-tuned, model: m, parameters: {lora_rank: 4}}]

Passing::

    controls: {lora_alpha: 8}
    runs: [{name: r4, type: fine-tuned, model: m, parameters: {lora_rank: 4}}]
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import data, items, key_pos

CODE = "ES008"
NAME = "esum-lora-alpha"
SEVERITY = "error"
KINDS = ("experiment-summary",)
OPTIONS: dict[str, object] = {}


def _int(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def check(ctx: Context) -> Iterator[Finding]:
    d = data(ctx)
    controls = d.get("controls") if isinstance(d.get("controls"), dict) else {}
    reported_controls = False
    for i, run in items(d.get("runs")):
        if run.get("type") != "fine-tuned":
            continue
        params = run.get("parameters") if isinstance(run.get("parameters"), dict) else {}
        rank = _int(params.get("lora_rank", controls.get("lora_rank")))
        if "lora_alpha" in params:
            alpha, loc = _int(params["lora_alpha"]), ["runs", i, "parameters", "lora_alpha"]
        else:
            alpha, loc = _int(controls.get("lora_alpha")), ["controls", "lora_alpha"]
            if reported_controls:
                continue
        if rank is None or alpha is None or alpha == 2 * rank:
            continue
        if loc[0] == "controls":
            reported_controls = True
        yield Finding(*key_pos(ctx, loc),
                      f"lora_alpha {alpha} is not 2 × lora_rank {rank} = {2 * rank} for run "
                      f"{run.get('name')!r}; setup_finetune.py sets alpha to 2 × rank",
                      f"lora_alpha: {2 * rank}" if loc[0] == "runs" else None)
