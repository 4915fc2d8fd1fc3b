"""The recipe is not a torchtune built-in: say where it comes from.

``lora_finetune_distributed_v1`` (seed 004's multi-GPU recipe) and
``lora_finetune_single_device_val`` are custom modules of the toolkit, not torchtune 0.6.1
built-ins; the built-in multi-GPU recipe is ``lora_finetune_distributed``. Both are accepted;
this is a reminder that a custom recipe must be importable on the cluster (formats.md §8).

Severity: info — a custom recipe module is legitimate; planc notes that it cannot check it.

Failing::

    - **Recipe**: `lora_finetune_distributed_v1`

Passing::

    - **Recipe**: `lora_finetune_distributed`
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models.rungroup_doc import parse_recipe
from ..base import Context, Finding
from ._shared import plan_of

CODE = "RG008"
NAME = "recipe-not-builtin"
SEVERITY = "info"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {}

CUSTOM = {
    "lora_finetune_distributed_v1": "the torchtune built-in is lora_finetune_distributed",
    "lora_finetune_single_device_val": "it is the toolkit's validation variant",
}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan is None:
        return
    stated = plan.config.get("recipe")
    if stated is None:
        return
    recipe = parse_recipe(stated.value)
    if recipe in CUSTOM:
        yield Finding(stated.line, ctx.doc.col_of(stated.line, recipe),
                      f"recipe {recipe!r} is a custom module, not a torchtune 0.6.1 built-in "
                      f"({CUSTOM[recipe]})", "make sure the module is importable in the job")
