"""The SLURM jobs a run group or sweep submits, with their resources (shared by CL008–CL011).

Per seed 004's per-run layout: a fine-tuned run submits one fine-tune job and one job per
evaluation; a control run only its evaluations; a sweep run one job (``compute`` of the
plan). Each entry is ``(what, run name, Resources, position key)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def jobs(matrix: Any) -> Iterator[tuple[str, str, Any, str]]:
    """Yield ``(what, run, resources, key)`` for every job of ``matrix``; ``what`` is
    ``fine-tune``, ``evaluation`` or ``job``; ``key`` the front-matter key of the setting."""
    for run in matrix.runs:
        if run.kind == "sweep":
            yield "job", run.name, run.train, "compute"
            continue
        if run.kind != "control":
            yield "fine-tune", run.name, run.train, "compute"
        for _ev in run.evaluations:
            yield "evaluation", run.name, run.eval, "compute.eval"


def count(matrix: Any) -> int:
    """How many SLURM jobs submitting ``matrix`` puts in the queue at once (per-run layout)."""
    return sum(1 for _ in jobs(matrix))


def pos(cc: Any, key: str, field: str) -> tuple[int, int]:
    """The position of ``<key>.<field>`` when the document states it, else of ``key``'s
    section, else of the cluster name."""
    spec = cc.spec
    positions = getattr(spec, "positions", {}) or {}
    for k in (f"{key}.{field}", f"compute.{field}", key, "compute.cluster"):
        if k in positions:
            return spec.pos(k)
    return cc.name_pos
