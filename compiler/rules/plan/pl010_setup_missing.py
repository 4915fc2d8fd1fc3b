"""Compute Setup gives Cluster type, GPU count, gpuwrap and Environment, once each.

Seed 001, ``### Compute Setup``::

    - Cluster type: <local_gpu / slurm / cpu_only>
    - GPU count: <N>
    - gpuwrap: <enabled / disabled>
    - Environment: <venv / conda / system>

"Include compute setup and gpuwrap recommendations in every plan." Keys may be bold
(``**Cluster type**:``) and are matched without regard to case. A bullet with a similar
key (``- GPUs: 4``) is reported at its line with the key to use; other extra bullets are
allowed.

Severity: error — seed 000's exact structure requires the four Compute Setup fields, and
without them the target cannot be chosen, so the plan cannot be compiled as written.

Failing::

    ### Compute Setup
    - Cluster type: slurm
    - GPUs: 4

Passing::

    ### Compute Setup
    - Cluster type: slurm
    - GPU count: 4
    - gpuwrap: disabled
    - Environment: conda
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from ...models.plan import SETUP_FIELDS, SETUP_LABELS
from ..base import Context, Finding
from ._shared import plan

CODE = "PL010"
NAME = "compute-setup-missing"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}

_ALIASES = {
    "cluster": "cluster_type", "cluster_type": "cluster_type", "cluster kind": "cluster_type",
    "gpus": "gpu_count", "gpu": "gpu_count", "number of gpus": "gpu_count",
    "num gpus": "gpu_count", "gpu_count": "gpu_count", "n gpus": "gpu_count",
    "gpu wrapper": "gpuwrap", "gpuwrap_config": "gpuwrap", "gpu wrap": "gpuwrap",
    "env": "environment", "python environment": "environment", "environment type": "environment",
}


def _guess(key: str) -> str | None:
    low = " ".join(key.lower().replace("-", " ").split())
    if low in _ALIASES:
        return _ALIASES[low]
    near = difflib.get_close_matches(low, list(SETUP_FIELDS), n=1, cutoff=0.75)
    return SETUP_FIELDS[near[0]] if near else None


def check(ctx: Context) -> Iterator[Finding]:
    model = plan(ctx)
    sec = model.section("compute_setup")
    if sec is None:
        return
    seen: dict[str, int] = {}
    guesses: dict[str, tuple[int, int, str]] = {}
    for item in model.setup:
        if item.field:
            if item.field in seen:
                yield Finding(item.line, item.column,
                              f"'{SETUP_LABELS[item.field]}' given again (first on line "
                              f"{seen[item.field]})", "keep one")
            else:
                seen[item.field] = item.line
        elif item.key:
            guess = _guess(item.key)
            if guess and guess not in guesses:
                guesses[guess] = (item.line, item.column, item.key)
    for fieldname, label in SETUP_LABELS.items():
        if fieldname in seen:
            continue
        if fieldname in guesses:
            line, col, key = guesses[fieldname]
            yield Finding(line, col, f"'{key}:' is not a Compute Setup key; missing '{label}:'",
                          f"rename it to '{label}:'")
        else:
            yield Finding(sec.line, sec.column, f"Compute Setup has no '{label}:' bullet",
                          f"add '- {label}: <value>'")
