"""The cluster profile a plan names must exist and be valid.

The name comes from the run group's ``compute.cluster`` (or a plan's front-matter
``cluster``), else ``[tool.planc] cluster``; profiles live in ``clusters/<name>.yaml``.

Severity: error — a profile that does not exist or is invalid cannot be compiled for.

Failing::

    compute: {cluster: dela}

Passing::

    compute: {cluster: della}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import cluster_context

CODE = "CL001"
NAME = "cluster-profile"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    cc = cluster_context(ctx)
    if cc is None or cc.error is None:
        return
    line, col = cc.name_pos if cc.named_in_plan else (1, 1)
    yield Finding(line, col, f"cluster profile {cc.name!r}: {cc.error}")
