"""The command template names a placeholder the sweep does not define.

Every ``{name}`` in ``command:`` is filled from the run's parameters (plus ``{out}`` and
``{run}``); an unknown one cannot be filled, so the run could not start.

Severity: error — a placeholder without a value cannot be rendered: the plan cannot be
compiled as written.

Failing::

    command: python train.py --lr {lr} --dir {plan_dir}

Passing::

    command: python train.py --lr {lr} --out {out}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "EX005"
NAME = "expand-placeholder"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
