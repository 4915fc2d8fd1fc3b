"""The project's model registry (``[tool.planc] models``) is invalid.

Compile reads each model's torchtune components from the registry; an invalid entry
makes every plan that uses the registry uncompilable.

Severity: error — an invalid model registry cannot be used to configure any run.

Failing::

    Llama-X: {component: 3}

Passing::

    Llama-X: {component: torchtune.models.llama3_2.lora_llama3_2_1b, ...}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "MR001"
NAME = "model-registry"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
