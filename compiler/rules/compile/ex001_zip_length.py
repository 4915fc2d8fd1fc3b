"""Zipped factors must have level lists of equal length.

A ``zip`` design pairs the i-th levels of every factor, so unequal lists cannot be
expanded: compile would stop. Error: the plan cannot be compiled as written.

Severity: error — zipped factors of unequal length cannot be expanded: the plan cannot be
compiled as written.

Failing::

    sweep: {zip: {lr: [1e-4, 1e-3], seed: [1, 2, 3]}}

Passing::

    sweep: {zip: {lr: [1e-4, 1e-3, 1e-2], seed: [1, 2, 3]}}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "EX001"
NAME = "expand-zip-length"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
