"""The recipe matches GPUs per job and validation during training.

Seed 004 "Recipe Selection Logic": 1 GPU → ``lora_finetune_single_device`` (with validation
``lora_finetune_single_device_val``); more GPUs → ``lora_finetune_distributed_v1`` (the
torchtune built-in ``lora_finetune_distributed`` is accepted too). The seed's
``lora_finetune_distributed_val`` ("if available") never existed: it is always an error
(formats.md §8). Names may carry ``.py``. Recipes not named ``lora_finetune_*`` (custom
modules) are not checked.

Severity: error — seed 004's recipe selection: another recipe does not run the stated GPUs
or validation, so the run cannot be run as written.

Failing::

    - **Recipe**: `lora_finetune_single_device`
    - **GPUs per job**: 4
    - **Validation during training**: no

Passing::

    - **Recipe**: `lora_finetune_distributed`
    - **GPUs per job**: 4
    - **Validation during training**: no
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models.rungroup_doc import parse_bool, parse_recipe
from ..base import Context, Finding
from ._shared import plan_of

CODE = "RG007"
NAME = "recipe-selection"
SEVERITY = "error"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {}

NEVER_EXISTED = "lora_finetune_distributed_val"


def expected(gpus: int | None, val: bool | None) -> set[str]:
    """Recipes the seed's selection logic allows (``gpus``/``val`` ``None`` = unknown)."""
    single = {"lora_finetune_single_device", "lora_finetune_single_device_val"}
    multi = {"lora_finetune_distributed_v1", "lora_finetune_distributed"}
    allowed = single | multi
    if gpus is not None:
        allowed = single if gpus <= 1 else multi
    if val is True:
        allowed = {r for r in allowed if r.endswith("_val")}
    elif val is False:
        allowed = {r for r in allowed if not r.endswith("_val")}
    return allowed


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    plan = plan_of(ctx)
    if plan is None:
        return
    stated = plan.config.get("recipe")
    if stated is None:
        return
    recipe = parse_recipe(stated.value)
    col = doc.col_of(stated.line, recipe) if recipe else stated.column
    if recipe == NEVER_EXISTED:
        yield Finding(stated.line, col,
                      f"recipe {recipe!r} does not exist (the seed's 'if available' never was)",
                      "use lora_finetune_distributed without validation, or 1 GPU with "
                      "lora_finetune_single_device_val")
        return
    if not recipe.startswith("lora_finetune_"):
        return
    gpus = plan.gpus
    v = plan.config.get("validation during training")
    val = parse_bool(v.value) if v else None
    allowed = expected(gpus, val)
    if recipe in allowed:
        return
    why = []
    if gpus is not None:
        why.append(f"{gpus} GPU{'s' if gpus != 1 else ''} per job")
    if val is not None:
        why.append("validation during training" if val else "no validation during training")
    if not allowed:
        yield Finding(stated.line, col,
                      f"no recipe exists for {' and '.join(why)}",
                      "use 1 GPU for validation during training, or turn validation off")
        return
    yield Finding(stated.line, col,
                  f"recipe {recipe!r} does not match {' and '.join(why) or 'the plan'}",
                  "use " + " or ".join(sorted(allowed)))
