"""The plan expands to more runs (or evaluation jobs) than planc builds for one group.

Runs are counted before any is made, so a plan of a few hundred bytes cannot make planc
build millions of runs: ``repeats: 1000000000``, six factors of twenty levels each
(64,000,000 runs), or ``epochs: 100000000`` with ``evaluation.epochs: all``. The cap is
``[tool.planc] max_runs`` (default 100,000), for runs and, separately, for evaluation jobs.

Severity: error — planc refuses to build more runs than its configured cap; the plan cannot
be compiled as written.

Failing::

    variables: {lr: [...20 levels], rank: [...20], dropout: [...20], wd: [...20],
                warmup: [...20], seq: [...20]}          # 64,000,000 runs

Passing::

    variables: {lr: [1e-4, 3e-4], rank: [8, 16]}       # 4 runs per model

Options: none (the cap is the project-wide ``max_runs`` setting).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "EX015"
NAME = "expand-too-many-runs"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
