"""``--only`` of ``planc submit`` and ``planc run``: which runs of a group to launch.

An entry is a run name (``alpha0.0001_seed0``) or ``FACTOR=LEVEL[,LEVEL…]``
(``alpha=1e-4``, ``alpha=1e-4,1e-3``, ``model=Llama-3.2-1B-Instruct``); entries may repeat.
A run is selected when it is named, or when factor entries were given and it matches every
factor named (levels of one factor are alternatives, different factors must all match).
Levels compare as the expansion renders them (``str``, booleans ``true``/``false``), and
numerically when both sides are numbers, so ``1e-4`` selects the level ``0.0001``.
A run's levels are its expanded factors (:attr:`compiler.matrix.Run.factors`); a control
run (no factors) has the level of ``model`` that it evaluates. Run names never hold ``=``
or ``,`` (:data:`compiler.layout.NAME`), so the two forms cannot be confused.

Selection is per run, so a selected run's evaluations still wait for its own fine-tune
(SLURM ``afterok``/``aftercorr``, the local runner's order). Anything that selects
nothing — an unknown run, factor or level — is a :class:`SelectionError` naming the valid
ones (the CLI exits 2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


class SelectionError(ValueError):
    """An ``--only`` entry names no run, factor or level; the message lists valid ones."""


def render(value: Any) -> str:
    """A level as the expansion renders it in commands and names."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(text: str) -> float | None:
    if text.strip().lower() in ("true", "false", "nan", "inf", "-inf", "infinity"):
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def same_level(wanted: str, level: Any) -> bool:
    """Whether the typed ``wanted`` names ``level`` (numbers compare numerically)."""
    shown = render(level)
    if wanted == shown:
        return True
    a, b = _number(wanted), _number(shown)
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)


def levels_of(runs: Mapping[str, Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Factor → its levels in first-seen order, over ``runs`` (run → factor → level)."""
    out: dict[str, list[Any]] = {}
    for factors in runs.values():
        for name, level in factors.items():
            seen = out.setdefault(name, [])
            if not any(render(x) == render(level) for x in seen):
                seen.append(level)
    return out


def _describe(levels: dict[str, list[Any]]) -> str:
    return "; ".join(f"{f} ({', '.join(render(v) for v in vals)})" for f, vals in levels.items())


def select(entries: Sequence[str], names: Sequence[str],
           factors: Mapping[str, Mapping[str, Any]] | None) -> list[str]:
    """The run names ``entries`` select, in ``names`` order.

    ``names``: the group's runs (its tracker). ``factors``: run → factor → level, or
    ``None`` when the group's plan is not available (then only run names are accepted).
    Raises :class:`SelectionError`.
    """
    chosen: set[str] = set()
    wanted: dict[str, list[str]] = {}
    for entry in entries:
        if "=" not in entry:
            for name in (n.strip() for n in entry.split(",")):
                if name not in names:
                    shown = ", ".join(names[:20]) + (" …" if len(names) > 20 else "")
                    raise SelectionError(f"--only {entry}: no run {name!r} in the group; runs: "
                                         f"{shown}")
                chosen.add(name)
            continue
        factor, _, text = entry.partition("=")
        factor = factor.strip()
        if factors is None:
            raise SelectionError(f"--only {entry}: the factor levels of this group are not "
                                 "known (no manifest.json naming its plan, or the plan changed "
                                 "since it was compiled); name runs instead, or compile again")
        levels = levels_of({n: factors.get(n, {}) for n in names})
        if factor not in levels:
            raise SelectionError(f"--only {entry}: no factor {factor!r}; factors: "
                                 + (_describe(levels) or "none (name runs instead)"))
        for level in (t.strip() for t in text.split(",")):
            if not any(same_level(level, v) for v in levels[factor]):
                raise SelectionError(f"--only {entry}: {factor} has no level {level!r}; "
                                     f"levels: {', '.join(render(v) for v in levels[factor])}")
            wanted.setdefault(factor, []).append(level)
    if wanted:
        assert factors is not None
        for name in names:
            have = factors.get(name, {})
            if all(f in have and any(same_level(w, have[f]) for w in ws)
                   for f, ws in wanted.items()):
                chosen.add(name)
        if not chosen:
            asked = " ".join(f"{f}={','.join(ws)}" for f, ws in wanted.items())
            raise SelectionError(f"--only {asked}: no run has all of these levels")
    return [n for n in names if n in chosen]


def group_factors(plan: Any) -> dict[str, dict[str, Any]] | None:
    """Run → factor → level from expanding ``plan`` (a path) with its project's settings;
    a control run gets ``model`` when the group varies ``model``. ``None`` when the plan
    does not expand."""
    from pathlib import Path

    from .config import load_settings
    from .document import load
    from .spec import expand_document

    settings, _ = load_settings(Path(plan))
    matrix, _diags = expand_document(load(Path(plan)), settings)
    if matrix is None:
        return None
    out = {r.name: dict(r.factors) for r in matrix.runs}
    if any("model" in f for f in out.values()):
        for r in matrix.runs:
            if not r.factors and getattr(r, "model", None):
                out[r.name] = {"model": r.model}
    return out
