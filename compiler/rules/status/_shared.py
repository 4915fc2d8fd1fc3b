"""Helpers shared by the ``runs_status.yaml`` rules: positions, the sibling run plan."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ... import layout
from ...document import MAX_BYTES, decode, load, node_position, value_position
from ...models.rungroup_doc import RunPlanDoc, parse_run_plan
from ..base import Context

PLAN_NAME = layout.RUN_PLAN


def key_pos(ctx: Context, loc: Sequence[Any]) -> tuple[int, int]:
    """1-based (line, column) of the key at ``loc`` (nearest existing parent otherwise)."""
    line, col, _ = node_position(ctx.doc.yaml_node, loc)
    return line + 1, col + 1


def val_pos(ctx: Context, loc: Sequence[Any]) -> tuple[int, int]:
    """1-based (line, column) of the value at ``loc`` (the key's position when absent)."""
    pos = value_position(ctx.doc.yaml_node, loc)
    if pos is None:
        return key_pos(ctx, loc)
    return pos[0] + 1, pos[1] + 1


def runs_of(ctx: Context) -> dict[str, Any]:
    """The ``runs`` mapping of the tracker (``{}`` when absent or malformed)."""
    data = ctx.doc.yaml_data
    runs = data.get("runs") if isinstance(data, dict) else None
    return runs if isinstance(runs, dict) else {}


def iter_stage_locs(ctx: Context) -> Iterator[tuple[list[Any], dict[str, Any]]]:
    """(YAML path, stage mapping) for every nested ``finetune``, ``run`` and evaluation stage.

    The nested form only; :func:`iter_stage_views` also yields the flat form's stages."""
    for name, rec in runs_of(ctx).items():
        if not isinstance(rec, dict):
            continue
        for key in ("finetune", "run"):
            if isinstance(rec.get(key), dict):
                yield ["runs", name, key], rec[key]
        evals = rec.get("evaluations")
        if isinstance(evals, dict):
            for ek, st in evals.items():
                if isinstance(st, dict):
                    yield ["runs", name, "evaluations", ek], st


@dataclass(frozen=True)
class StageView:
    """One stage as a rule sees it, in either tracker form.

    ``stage`` maps field names (``status``, ``job_id``, …) to values; ``base`` is the YAML
    path of the stage mapping (nested) or of the run record (flat, ``prefix`` set);
    ``where`` names the stage in messages (``<run>/finetune``, or ``<run>`` for the flat
    form, whose key names already say the stage).
    """

    run: Any
    stage_key: str
    stage: Mapping[str, Any]
    base: list[Any]
    prefix: str | None = None

    @property
    def where(self) -> str:
        """``<run>/<stage key>`` (nested) or ``<run>`` (flat)."""
        return "/".join(str(p) for p in self.base[1:])

    def key(self, field: str) -> str:
        """The key as written in the file: ``status`` or ``finetune_status``."""
        if self.prefix is None:
            return field
        from ...models.status import FLAT_SHARED

        return field if field in FLAT_SHARED else f"{self.prefix}_{field}"

    def path(self, field: str) -> list[Any]:
        """YAML path of ``field``'s key (for :func:`key_pos` / :func:`val_pos`)."""
        return [*self.base, self.key(field)]

    def fields(self) -> Iterator[tuple[str, Any]]:
        """(field, value) pairs of the stage."""
        return iter(self.stage.items())


def iter_stage_views(ctx: Context) -> Iterator[StageView]:
    """Every stage of the tracker in both forms (:func:`compiler.models.status.stages_of`):
    nested stages at their mapping, cruijff_kit's flat stages at their run record."""
    from ...models.status import FLAT_STAGES, FlatStage, flat_prefixes

    for name, rec in runs_of(ctx).items():
        if not isinstance(rec, dict):
            continue
        for key in ("finetune", "run"):
            if isinstance(rec.get(key), dict):
                yield StageView(name, key, rec[key], ["runs", name, key])
        evals = rec.get("evaluations")
        if isinstance(evals, dict):
            for ek, st in evals.items():
                if isinstance(st, dict):
                    yield StageView(name, f"evaluations/{ek}", st,
                                    ["runs", name, "evaluations", ek])
        for prefix in flat_prefixes(rec):
            yield StageView(name, FLAT_STAGES[prefix], FlatStage(rec, prefix),
                            ["runs", name], prefix)


_PLANS: OrderedDict[tuple[str, bytes], RunPlanDoc | None] = OrderedDict()
_PLANS_MAX = 32


def _load_plan(doc) -> RunPlanDoc | None:  # type: ignore[no-untyped-def]
    """Parse the sibling plan; memoised per process on (path, content hash), so a watch loop
    or the site re-linting unchanged trackers does not re-parse their plans."""
    path = Path(doc.path).with_name(PLAN_NAME)
    try:
        raw = path.read_bytes() if path.is_file() else None
    except OSError:
        raw = None
    if raw is None or len(raw) > MAX_BYTES:
        return None
    key = (str(path), hashlib.blake2b(raw, digest_size=16).digest())
    if key in _PLANS:
        _PLANS.move_to_end(key)
        return _PLANS[key]
    text, _problem = decode(raw)
    plan_doc = load(path, text=text)
    plan = parse_run_plan(plan_doc) if plan_doc.kind == "run-group" else None
    _PLANS[key] = plan
    if len(_PLANS) > _PLANS_MAX:
        _PLANS.popitem(last=False)
    return plan


def sibling_plan(ctx: Context) -> RunPlanDoc | None:
    """The parsed ``runs_plan.md`` beside the status file (read once per status document),
    or ``None`` when there is none or it is not a run plan."""
    return ctx.model("status.sibling-plan", _load_plan)
