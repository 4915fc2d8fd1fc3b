"""Sweep values are concrete lists, not ranges.

Seed 001, *Guidelines*: "Suggest concrete hyperparameter values, not just ranges", and
"For grid search, create one run per configuration". A Values cell such as
``1e-5 to 1e-3``, ``between 4 and 64``, ``1-5``, ``0.1–0.5``, ``…`` or ``TBD`` names no
runs. Negative numbers and exponents (``-1``, ``1e-5``) are concrete values; the cell
syntax is documented in :func:`compiler.models.plan.parse_values`.

Severity: error — a range (``1e-5 to 1e-3``) does not say which runs to make, so the sweep
cannot be compiled as written.

Failing::

    | `lr` | 1e-5 to 1e-3 | typical LoRA range |

Passing::

    | `lr` | 1e-5, 1e-4, 1e-3 | one value per decade |
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan

CODE = "PL017"
NAME = "sweep-values-concrete"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    table = plan(ctx).sweep
    if table is None:
        return
    for row in table.rows:
        if row.range_reason is None:
            continue
        name = row.name or "parameter"
        if not row.raw.strip():
            yield Finding(row.line, row.values_column, f"'{name}' has no values",
                          "list the values to run, e.g. '1e-4, 3e-4'")
        else:
            yield Finding(row.line, row.values_column,
                          f"values of '{name}' are not a concrete list ({row.range_reason})",
                          "list the exact values to run, e.g. '1e-5, 1e-4, 1e-3'")
