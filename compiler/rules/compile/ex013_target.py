"""Which built-in cluster profile a plan compiles for when it names none.

The plan's Compute Setup ``Cluster type`` (or front-matter ``cluster_type`` /
``compute.cluster_type``) chooses SLURM scripts, a local GPU launcher or a CPU launcher;
without a named profile planc uses its built-in one for that type and says so. Info:
context, not a problem.

Severity: info — which profile a plan compiles for is context.

Failing::

    ### Compute Setup
    - Cluster type: slurm        # info: built-in 'generic-slurm' profile

Passing::

    ---
    cluster: della
    ---
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "EX013"
NAME = "compile-target"
SEVERITY = "info"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
