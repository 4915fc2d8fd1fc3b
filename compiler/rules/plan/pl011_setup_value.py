"""Compute Setup values are the seed's choices.

Seed 001: Cluster type is ``local_gpu``, ``slurm`` or ``cpu_only``; GPU count an integer;
gpuwrap ``enabled`` or ``disabled``; Environment ``venv``, ``conda`` or ``system``. Case,
code spans and a parenthetical note (``gpuwrap: enabled (shared node)``) are accepted, and
so is ``gpuwrap: n/a`` / ``not applicable`` (the seed's wording for ``cpu_only``, read as
disabled).

Severity: error — a value outside the seed's choices (``Cluster type: kubernetes``) cannot
be compiled; the seed lists the only choices.

Failing::

    - Cluster type: local GPU box
    - GPU count: four
    - gpuwrap: optional
    - Environment: micromamba

Passing::

    - Cluster type: local_gpu
    - GPU count: 4 (A100 80GB)
    - gpuwrap: enabled (shared node)
    - Environment: conda
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from ...models.plan import CLUSTER_TYPES, ENVIRONMENTS, GPUWRAP_VALUES, SETUP_LABELS
from ..base import Context, Finding
from ._shared import plan

CODE = "PL011"
NAME = "compute-setup-value"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}

_CHOICES = {"cluster_type": CLUSTER_TYPES, "gpuwrap": GPUWRAP_VALUES, "environment": ENVIRONMENTS}
_ENV_HINTS = {"uv": "venv", "virtualenv": "venv", ".venv": "venv", "poetry": "venv",
              "micromamba": "conda", "mamba": "conda", "miniconda": "conda", "pip": "system"}


def _fix(fieldname: str, raw: str) -> str:
    low = raw.lower().strip("`*_ ")
    if fieldname == "gpu_count":
        return "write a whole number, 0 for cpu_only"
    choices = _CHOICES[fieldname]
    if fieldname == "environment":
        for word, env in _ENV_HINTS.items():
            if word in low.split() or low.startswith(word):
                return f"use '{env}'"
    word = low.replace(" ", "_").replace("-", "_")
    near = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if near:
        return f"did you mean '{near[0]}'?"
    return "choose one of " + ", ".join(choices)


def check(ctx: Context) -> Iterator[Finding]:
    seen: set[str] = set()
    for item in plan(ctx).setup:
        if not item.field or item.field in seen:
            continue
        seen.add(item.field)
        if item.value is not None:
            continue
        label = SETUP_LABELS[item.field]
        if not item.raw:
            yield Finding(item.line, item.value_column, f"'{label}:' has no value",
                          _fix(item.field, ""))
            continue
        want = ("an integer" if item.field == "gpu_count"
                else " / ".join(_CHOICES[item.field]))
        yield Finding(item.line, item.value_column,
                      f"'{label}: {item.raw}' is not {want}", _fix(item.field, item.raw))
