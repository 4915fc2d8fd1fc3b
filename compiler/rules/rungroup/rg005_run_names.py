"""Run names are unique and follow ``{model}_{factors}_rank{r}`` / ``{model}_base``.

``{model}`` is the full Hugging Face model name without the organisation
(``Llama-3.2-1B-Instruct``, not ``meta-llama/Llama-3.2-1B-Instruct``); ``{factors}`` are the
levels of the factors other than model and LoRA rank, in Variables order; a part may carry a
label before the level and a unit after it (level ``8`` as ``8L``, level ``1e-4`` as
``lr1e-4``, batch ``16`` as ``bs16``), as seed 004's examples write them. Source: seed 004
"Naming Convention" and checklist ("All runs properly named following convention"; "No
duplicate run names").

Severity: error — seed 004: "Run names must use the full HuggingFace model naming
convention", and names must be unique to be compiled.

Failing::

    | 1B_r4 | Llama-3.2-1B-Instruct | 4 | 16 | Fine-tuned | ~22 min |
    | Llama-3.2-1B-Instruct_control | Llama-3.2-1B-Instruct | - | - | Control | eval only |

Passing::

    | Llama-3.2-1B-Instruct_rank4 | Llama-3.2-1B-Instruct | 4 | 16 | Fine-tuned | ~22 min |
    | Mistral-7B-Instruct-v0.3_lr1e-4_rank8 | Mistral-7B-Instruct-v0.3 | 8 | 4 | Fine-tuned | ~1 h |
    | Llama-3.2-1B-Instruct_base | Llama-3.2-1B-Instruct | - | - | Control | eval only |
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import is_model_factor, is_rank_factor, norm, plan_of
from .rg004_factor_levels import run_level

CODE = "RG005"
NAME = "run-name-convention"
SEVERITY = "error"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {}


def level_in_part(part: str, level: str) -> bool:
    """Whether a name part writes ``level``, alone or with a letter label before it and a
    unit after it (``lr1e-4`` and ``1e-4``; ``5L`` and ``5``; ``bs16`` and ``16``)."""
    p, lv = norm(part), norm(level)
    return bool(lv) and re.fullmatch(r"[a-z_]*" + re.escape(lv) + r"[a-z]*", p) is not None


def expected_name(model: str, factor_parts: list[str], rank: int | None) -> str:
    """The seed 004 name: ``{model}_{parts…}_rank{r}``, or ``{model}_base`` for a control."""
    if rank is None:
        return f"{model}_base"
    return "_".join([model, *factor_parts, f"rank{rank}"])


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    plan = plan_of(ctx)
    if plan is None:
        return
    seen: dict[str, int] = {}
    others = [f for f in plan.variables
              if not is_model_factor(f.name) and not is_rank_factor(f.name)]
    for row in plan.runs:
        col = doc.col_of(row.line, row.name) if row.name else 1
        if not row.name:
            yield Finding(row.line, col, "run has no name")
            continue
        if row.name in seen:
            yield Finding(row.line, col,
                          f"run name {row.name!r} is used twice (first on line {seen[row.name]})")
            continue
        seen[row.name] = row.line
        model = row.model
        if not model:
            continue
        if "/" in model:
            yield Finding(row.line, doc.col_of(row.line, model),
                          f"model {model!r} has an organisation prefix; use the Hugging Face "
                          f"name without it ({model.rsplit('/', 1)[-1]!r})")
            model = model.rsplit("/", 1)[-1]
        if row.type == "control":
            want = expected_name(model, [], None)
            if row.name != want:
                yield Finding(row.line, col, f"control run {row.name!r} should be named {want!r}")
            continue
        if row.type != "fine-tuned":
            continue
        if row.lora_rank is None:
            yield Finding(row.line, col, f"fine-tuned run {row.name!r} has no LoRA rank")
            continue
        prefix, suffix = f"{model}_", f"_rank{row.lora_rank}"
        parts: list[str] = []
        for f in others:
            lv, _text = run_level(row, f.name, f.levels)
            parts.append(lv or "…")
        want = expected_name(model, parts, row.lora_rank)
        ok = row.name.startswith(prefix) and row.name.endswith(suffix)
        if ok and others:
            middle = row.name[len(prefix):len(row.name) - len(suffix)].split("_")
            ok = len(middle) == len(parts) and all(
                p == "…" or level_in_part(m, p) for m, p in zip(middle, parts, strict=True))
        elif ok:
            ok = row.name == want
        if not ok:
            yield Finding(row.line, col,
                          f"fine-tuned run {row.name!r} should be named {want!r} "
                          "({model}_{factors}_rank{r})")
