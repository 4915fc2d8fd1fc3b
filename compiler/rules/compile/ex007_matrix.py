"""The evaluation matrix names an unknown task.

A matrix entry for a task that is not under ``evaluation.tasks`` cannot be compiled into
an evaluation job.

Severity: error — an unknown evaluation task cannot be run: the plan cannot be compiled as
written.

Failing::

    evaluation: {tasks: [{name: cap, script: cap.py}], matrix: [{run: r1, tasks: [other]}]}

Passing::

    evaluation: {tasks: [{name: cap, script: cap.py}], matrix: [{run: r1, tasks: [cap]}]}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "EX007"
NAME = "expand-matrix"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
