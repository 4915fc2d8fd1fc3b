"""No recipe fits the GPU count and validation setting (seed 004 Recipe Selection).

torchtune 0.6.1 has no distributed recipe with a validation loop; validation on more
than one GPU needs a custom recipe.

Severity: error — no recipe fits: the plan cannot be compiled as written.

Failing::

    training: {validation: true}
    compute: {gpus: 2}

Passing::

    training: {validation: true}
    compute: {gpus: 1}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "EX008"
NAME = "expand-recipe"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
