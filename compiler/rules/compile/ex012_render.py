"""A generated artifact cannot be written safely.

Values that land in ``#SBATCH`` lines, shell scripts or YAML must fit there (one line,
no spaces in SLURM values, absolute paths where the scripts need them). Lint runs the
same checks as the script renderer, so a plan that lints clean always compiles.

Severity: error — the artifact cannot be written safely, so compile refuses.

Failing::

    compute: {partition: "gpu --exclusive"}

Passing::

    compute: {partition: gpu}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "EX012"
NAME = "compile-render"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
