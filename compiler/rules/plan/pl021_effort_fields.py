"""Estimated Effort gives Runs (an integer), Time and Resources.

Seed 001, ``### Estimated Effort``::

    - **Runs**: <number of runs/experiments>
    - **Time**: <estimated wall-clock time>
    - **Resources**: <GPU/compute requirements>

Runs must be an exact integer; a note may follow (``24 (4 ranks × 2 learning rates × 3
seeds)``, ``1,200``). ``~24`` or ``20-30`` are not counts. Labels may be bold with the
colon inside or outside.

Severity: error — seed 000's exact structure requires Runs, Time and Resources; Runs must be
a number so it can be checked against the sweep.

Failing::

    ### Estimated Effort
    - **Runs**: ~20-30
    - **Time**:

Passing::

    ### Estimated Effort
    - **Runs**: 24 (4 ranks × 2 learning rates × 3 seeds)
    - **Time**: ~6 h wall-clock on 4 GPUs
    - **Resources**: 4× A100 80GB, 40 GB disk
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan

CODE = "PL021"
NAME = "effort-fields"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}

_FIELDS = (("runs", "Runs", "<number of runs>"), ("time", "Time", "<wall-clock time>"),
           ("resources", "Resources", "<GPU/compute requirements>"))


def check(ctx: Context) -> Iterator[Finding]:
    model = plan(ctx)
    sec = model.section("effort")
    if sec is None or model.effort is None:
        return
    items = model.effort.items
    for key, label, hint in _FIELDS:
        item = items.get(key)
        if item is None:
            yield Finding(sec.line, sec.column, f"Estimated Effort has no '**{label}**:'",
                          f"add '- **{label}**: {hint}'")
        elif not item.raw.strip():
            yield Finding(item.line, item.value_column, f"'**{label}**:' is empty",
                          f"write {hint}")
        elif key == "runs" and model.effort.runs is None:
            yield Finding(item.line, item.value_column,
                          f"Runs '{item.raw.splitlines()[0]}' is not an exact number of runs",
                          "write the integer count, e.g. '24 (4 ranks × 2 lrs × 3 seeds)'")
