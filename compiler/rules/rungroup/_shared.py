"""Helpers shared by the run-group rules: the parsed plan, level matching, tolerances."""

from __future__ import annotations

import re

from ...models.rungroup_doc import MODEL_KEY, RunPlanDoc, build_run_plan
from ..base import Context

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*B\b", re.I)


def plan_of(ctx: Context) -> RunPlanDoc | None:
    """The document's :class:`RunPlanDoc`, parsed once per document; ``None`` for the
    front-matter form of a run group (front-matter and no ``# Run Plan:`` title), whose body
    is free prose (the front-matter is checked by the CM rules, and planc generates the
    seed 004 document from it)."""
    plan: RunPlanDoc = ctx.model(MODEL_KEY, build_run_plan)
    if plan.name is None and ctx.doc.front_matter:
        return None
    return plan


def norm(text: str) -> str:
    return " ".join(text.strip().lower().split())


def level_matches(value: str, level: str) -> bool:
    """Whether a cell value names a factor level: equal, or one ends with the other
    (``"Llama-3.2-1B-Instruct"`` matches level ``"1B-Instruct"``), case-insensitive."""
    v, lv = norm(value), norm(level)
    if not v or not lv:
        return False
    return v == lv or v.endswith(lv) or lv.endswith(v)


def match_level(value: str, levels: list[str]) -> str | None:
    """The level ``value`` names (exact match first), else ``None``."""
    for lv in levels:
        if norm(value) == norm(lv):
            return lv
    for lv in levels:
        if level_matches(value, lv):
            return lv
    return None


def model_size_b(model: str) -> float | None:
    """Parameter count in billions from a model name (``Llama-3.2-3B-Instruct`` → 3.0)."""
    m = _SIZE.search(model)
    return float(m.group(1)) if m else None


def close(stated: float, computed: float, tolerance: float) -> bool:
    """``stated`` within ``tolerance`` (a fraction) of ``computed``."""
    return abs(stated - computed) <= tolerance * max(abs(computed), 1e-9)


def fmt(x: float) -> str:
    """A number for a message: integers without decimals, else up to 3 significant places."""
    if abs(x - round(x)) < 1e-9:
        return f"{int(round(x)):,}"
    return f"{x:,.3g}" if abs(x) < 100 else f"{x:,.1f}"


def is_model_factor(name: str) -> bool:
    return "model" in name.lower()


def is_rank_factor(name: str) -> bool:
    return "rank" in name.lower()
