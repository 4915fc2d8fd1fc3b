"""An exclusion must state its reason.

A combination left out of a grid without a reason is a silent hole in the design;
seed 004 documents every deviation. Error: compile refuses it.

Severity: error — planc requires every exclusion to state its reason, so that a run missing
from the matrix is explained; without one the plan is not compiled as written.

Failing::

    exclude: [{levels: {model: Llama-3.2-3B-Instruct, lora_rank: 4}}]

Passing::

    exclude: [{levels: {model: Llama-3.2-3B-Instruct, lora_rank: 4}, reason: "OOM"}]
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "EX002"
NAME = "expand-exclusion-reason"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
