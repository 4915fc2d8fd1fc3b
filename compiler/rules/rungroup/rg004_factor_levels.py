"""Every fine-tuned run uses declared factor levels, and every combination appears once.

For each factor of the Variables table, a run's level is read from the All Runs column of
the same name (``Model``, ``LoRA Rank``, …) or, when there is no such column, from the run
name's ``_``-separated parts. Levels match when equal or when one ends with the other
(``Llama-3.2-1B-Instruct`` names level ``1B-Instruct``). Control runs must use a declared
model. Source: seed 004 template (Variables, All Runs) and checklist ("Table includes all
runs"; "Names clearly indicate experimental factors").

Severity: error — a run with an undeclared level, or a combination listed twice or missing,
contradicts the factor table.

Failing::

    | Model | Llama-3.2-1B-Instruct |
    | LoRA Rank | 4, 64 |
    ...
    | Llama-3.2-1B-Instruct_rank4 | Llama-3.2-1B-Instruct | 4 | 16 | Fine-tuned | ~22 min |
    | Llama-3.2-1B-Instruct_rank8 | Llama-3.2-1B-Instruct | 8 | 16 | Fine-tuned | ~22 min |

Passing::

    | Llama-3.2-1B-Instruct_rank4 | Llama-3.2-1B-Instruct | 4 | 16 | Fine-tuned | ~22 min |
    | Llama-3.2-1B-Instruct_rank64 | Llama-3.2-1B-Instruct | 64 | 16 | Fine-tuned | ~22 min |
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product

from ...models.rungroup_doc import RunRow
from ..base import Context, Finding
from ._shared import is_model_factor, is_rank_factor, match_level, norm, plan_of

CODE = "RG004"
NAME = "factor-levels"
SEVERITY = "error"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {}


def run_value(row: RunRow, factor: str) -> str | None:
    """The text that names ``factor``'s level for ``row`` (``None`` when absent)."""
    key = norm(factor)
    if key in row.cells:
        return row.cells[key]
    if is_model_factor(factor) and "model" in row.cells:
        return row.cells["model"]
    if is_rank_factor(factor):
        for k in ("lora rank", "rank"):
            if k in row.cells:
                return row.cells[k]
    return None


def run_level(row: RunRow, factor: str, levels: list[str]) -> tuple[str | None, str]:
    """(matched level or None, the text looked at)."""
    value = run_value(row, factor)
    if value is not None:
        return match_level(value, levels), value
    for part in row.name.split("_"):
        lv = match_level(part, levels)
        if lv is not None and norm(part) == norm(lv):
            return lv, part
    return None, row.name


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    plan = plan_of(ctx)
    if plan is None:
        return
    if not plan.variables or not plan.runs:
        return
    seen: dict[tuple[str, ...], int] = {}
    for row in plan.finetuned:
        combo: list[str] = []
        for f in plan.variables:
            lv, text = run_level(row, f.name, f.levels)
            if lv is None:
                yield Finding(row.line, doc.col_of(row.line, text) if text else 1,
                              f"run {row.name!r}: {text!r} is not a level of factor {f.name!r} "
                              f"({', '.join(f.levels)})")
                break
            combo.append(lv)
        else:
            key = tuple(combo)
            if key in seen:
                yield Finding(row.line, doc.col_of(row.line, row.name),
                              f"run {row.name!r} repeats the combination "
                              f"{', '.join(key)} of line {seen[key]}")
            else:
                seen[key] = row.line
    model_factor = next((f for f in plan.variables if is_model_factor(f.name)), None)
    if model_factor is not None:
        for row in plan.controls:
            if row.model and match_level(row.model, model_factor.levels) is None:
                yield Finding(row.line, doc.col_of(row.line, row.model),
                              f"control run {row.name!r} uses model {row.model!r}, which is not "
                              f"a level of {model_factor.name!r}")
    if seen or plan.finetuned:
        for combo in product(*(f.levels for f in plan.variables)):
            if tuple(combo) not in seen:
                yield Finding(plan.runs_line, 1,
                              "no fine-tuned run for the combination " + ", ".join(
                                  f"{f.name}={lv}" for f, lv in zip(plan.variables, combo,
                                                                    strict=True)))
