"""Shared work of the CL rules: the plan's spec, its cluster profile and its expansion,
built once per document.

The profile is the one the plan names (run group ``compute.cluster``, plan front-matter
``cluster``), else ``[tool.planc] cluster``; without one, the CL rules report nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...document import Document
from ..base import Context


@dataclass
class ClusterContext:
    spec: Any
    name: str
    name_pos: tuple[int, int]
    named_in_plan: bool
    profile: Any = None
    error: str | None = None
    matrix: Any = None
    diagnostics: list[Any] = field(default_factory=list)


def _names_a_cluster(doc: Document, settings: Any) -> bool:
    """Cheap pre-check (no imports): is there a cluster profile to check this plan against?"""
    if getattr(settings, "cluster", None):
        return True
    fm = doc.front_matter if isinstance(doc.front_matter, dict) else {}
    if doc.kind == "plan":
        return bool(fm.get("cluster"))
    compute = fm.get("compute")
    return isinstance(compute, dict) and bool(compute.get("cluster"))


def _build(doc: Document, settings: Any) -> ClusterContext | None:
    if not _names_a_cluster(doc, settings):
        return None  # keeps expand, the registry and pydantic out of a plain lint
    from ...clusters import load_profile
    from ...spec import build, compilable

    if not compilable(doc):
        return None
    built = build(doc, settings)
    spec = built.spec
    if spec is None:
        return None
    if doc.kind == "run-group":
        named = spec.compute.get("cluster")
        pos = spec.pos("compute.cluster")
    else:
        named = spec.cluster
        pos = spec.pos("compute.cluster") if named else spec.pos("command")
    name = named or getattr(settings, "cluster", None)
    if not name:
        return None
    cc = ClusterContext(spec=spec, name=name, name_pos=pos, named_in_plan=bool(named))
    profile, diags = load_profile(name, settings)
    if profile is None:
        cc.error = diags[0].message if diags else f"cannot load cluster profile {name!r}"
        return cc
    cc.profile = profile
    cc.matrix, cc.diagnostics = built.matrix, list(built.diagnostics)
    return cc


def cluster_context(ctx: Context) -> ClusterContext | None:
    """The :class:`ClusterContext` of the document (``None``: no profile to check against)."""
    settings = ctx.settings
    return ctx.model("cluster.context", lambda d: _build(d, settings))


def time_pos(cc: ClusterContext, key: str = "compute.time") -> tuple[int, int]:
    spec = cc.spec
    return spec.pos(key) if hasattr(spec, "pos") else (1, 1)
