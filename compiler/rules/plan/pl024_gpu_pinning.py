"""GPU flags in commands match the cluster type.

Seed 001, *Compute Environment*: "Decide GPU pinning strategy (``CUDA_VISIBLE_DEVICES`` for
local_gpu, ``--gres`` for Slurm)" and "Skip GPU flags entirely for cpu_only clusters"; *GPU
Wrapper*: "For Slurm, gpuwrap is not needed". Checked in code blocks and code spans against
Compute Setup's Cluster type: ``cpu_only`` with ``CUDA_VISIBLE_DEVICES``, ``--gres``,
``--gpus`` or ``"gpuwrap_config": {"enabled": true}``; ``slurm`` with a
``CUDA_VISIBLE_DEVICES=`` assignment or gpuwrap enabled; ``local_gpu`` with ``--gres``.

Severity: warning — pinning GPUs by hand where the cluster type says otherwise is advice
(seed 000 "always plan for gpuwrap" on shared machines), and planc cannot know whether the
machine is shared.

Failing::

    - Cluster type: cpu_only
    ...
    `CUDA_VISIBLE_DEVICES=0 planc submit plans/x/plan.md`

Passing::

    - Cluster type: cpu_only
    ...
    `planc submit plans/x/plan.md`
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import iter_code, plan, position

CODE = "PL024"
NAME = "gpu-pinning"
SEVERITY = "warning"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}

_WRAP_ON = r'"gpuwrap_config"\s*:\s*\{\s*"enabled"\s*:\s*true'
_PATTERNS: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    "cpu_only": (
        (re.compile(r"\bCUDA_VISIBLE_DEVICES\b"), "cpu_only plans set no GPU flags"),
        (re.compile(r"--gres\b"), "cpu_only plans request no GPUs"),
        (re.compile(r"--gpus(?:-per-\w+)?\b"), "cpu_only plans request no GPUs"),
        (re.compile(_WRAP_ON), "gpuwrap does not apply to cpu_only"),
    ),
    "slurm": (
        (re.compile(r"\bCUDA_VISIBLE_DEVICES="), "Slurm assigns GPUs; request them with --gres"),
        (re.compile(_WRAP_ON), "on Slurm gpuwrap is disabled; the scheduler allocates GPUs"),
    ),
    "local_gpu": (
        (re.compile(r"--gres\b"),
         "--gres is a Slurm flag; pin local GPUs with CUDA_VISIBLE_DEVICES"),
    ),
}


def check(ctx: Context) -> Iterator[Finding]:
    model = plan(ctx)
    ctype = model.setup_value("cluster_type")
    patterns = _PATTERNS.get(ctype) if isinstance(ctype, str) else None
    if not patterns:
        return
    doc = ctx.doc
    for line, text, start, end in iter_code(doc, model.body_start):
        for pattern, why in patterns:
            for m in pattern.finditer(text, start, end):
                row, col = position(doc, line, text, m.start())
                yield Finding(row, col, f"'{m.group(0)}' on a {ctype} cluster: {why}",
                              "remove the flag or fix Cluster type")
