"""Helpers shared by the ``experiment_summary.yaml`` rules: the validated model, positions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...document import node_position
from ..base import Context


def key_pos(ctx: Context, loc: Sequence[Any]) -> tuple[int, int]:
    """1-based (line, column) of the key at ``loc`` (nearest existing parent otherwise)."""
    line, col, _ = node_position(ctx.doc.yaml_node, loc)
    return line + 1 + ctx.doc.yaml_line, col + 1


def _validate(doc: Any) -> tuple[Any, list[dict[str, Any]]]:
    from pydantic import ValidationError

    from ...models.experiment_summary import ExperimentSummary

    try:
        return ExperimentSummary.model_validate(doc.yaml_data), []
    except ValidationError as exc:
        return None, list(exc.errors(include_url=False))


def validated(ctx: Context) -> tuple[Any, list[dict[str, Any]]]:
    """``(model or None, pydantic errors)`` for the document, built once."""
    return ctx.model("esum.validated", _validate)  # type: ignore[no-any-return]


def data(ctx: Context) -> dict[str, Any]:
    """The raw top-level mapping (``{}`` when the file is not a mapping)."""
    d = ctx.doc.yaml_data
    return d if isinstance(d, dict) else {}


def items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """``(index, mapping)`` for each mapping in a YAML list (others skipped: ES001's)."""
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)]


def section(d: dict[str, Any], *keys: str) -> Any:
    """``d[k1][k2]…`` or ``None`` where a step is missing or not a mapping."""
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)  # type: ignore[assignment]
    return d
