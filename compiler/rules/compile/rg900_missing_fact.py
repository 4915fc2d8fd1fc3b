"""A run group lacks a fact the compiler needs; the message says which and where.

Seed 004's ``runs_plan.md`` (or front-matter) must state the model paths, the dataset
path, epochs, the runs and the evaluation tasks; without one no launch artifact can be
written.

Severity: error — a fact the compiler needs is missing: the group cannot be compiled as
written.

Failing::

    ## Configuration
    - **Recipe**: lora_finetune_single_device        # no Epochs bullet

Passing::

    ## Configuration
    - **Epochs**: 2
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "RG900"
NAME = "rungroup-missing-fact"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
