"""A fine-tuned run has no batch size for its model.

``training.batch_size`` may map models (or size classes) to batch sizes; a model left out
has no value to write into its config.

Severity: error — a fine-tuned run without a batch size cannot be configured.

Failing::

    training: {batch_size: {Llama-3.2-3B-Instruct: 8}}   # 1B run has none

Passing::

    training: {batch_size: {Llama-3.2-1B-Instruct: 16, Llama-3.2-3B-Instruct: 8}}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "EX011"
NAME = "expand-batch-size"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
