"""An evaluated epoch is outside the trained epochs.

Epochs are 0-based (torchtune's ``epoch_N/`` folders); evaluating an epoch that is never
saved would fail at run time.

Severity: error — an epoch that is never trained has no checkpoint to evaluate.

Failing::

    training: {epochs: 2}
    evaluation: {epochs: [2]}

Passing::

    training: {epochs: 2}
    evaluation: {epochs: [0, 1]}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "EX009"
NAME = "expand-epoch"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
