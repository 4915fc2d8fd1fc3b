"""The cluster profile cannot be loaded, or contradicts the plan's cluster type.

Compile writes SLURM or local launchers from the profile; a profile that is missing,
invalid, or of another type than the plan states leaves nothing true to write.

Severity: error — the profile cannot be loaded, or contradicts the plan's own cluster type.

Failing::

    compute: {cluster: nosuch}

Passing::

    compute: {cluster: della}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "EX010"
NAME = "expand-cluster"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
