"""Parameters to Sweep is one ``| Parameter | Values | Rationale |`` table.

Seed 001, ``### Parameters to Sweep``::

    | Parameter | Values | Rationale |
    |-----------|--------|-----------|

planc expands the sweep from this table (one run per combination), so each row needs a
parameter name, used once. Reported: no table in the section, other header cells, a table
without rows, an empty parameter name, a parameter listed twice.

Severity: error — a sweep table planc cannot read cannot be compiled into runs.

Failing::

    ### Parameters to Sweep
    - lr: 1e-4, 3e-4

Passing::

    ### Parameters to Sweep
    | Parameter | Values | Rationale |
    |-----------|--------|-----------|
    | `lr` | 1e-4, 3e-4 | bracket the default |
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models.plan import plain
from ..base import Context, Finding
from ._shared import plan

CODE = "PL016"
NAME = "sweep-table"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}

_HEADER = ("parameter", "values", "rationale")


def check(ctx: Context) -> Iterator[Finding]:
    model = plan(ctx)
    sec = model.section("parameters")
    if sec is None:
        return
    table = model.sweep
    if table is None:
        yield Finding(sec.line, sec.column, "Parameters to Sweep has no table",
                      "add '| Parameter | Values | Rationale |', or drop the section when "
                      "nothing is swept")
        return
    header = tuple(plain(h).lower() for h in table.header)
    if header != _HEADER:
        yield Finding(table.line, 1,
                      f"sweep table header is '| {' | '.join(table.header)} |'",
                      "use '| Parameter | Values | Rationale |'")
    if not table.rows:
        yield Finding(table.line, 1, "the sweep table has no rows", "add one row per parameter")
    seen: dict[str, int] = {}
    for row in table.rows:
        if not row.name:
            yield Finding(row.line, row.column, "sweep row without a parameter name",
                          "name the parameter (a code span such as `lr` names the placeholder)")
            continue
        if row.name in seen:
            yield Finding(row.line, row.column,
                          f"parameter '{row.name}' again (first on line {seen[row.name]})",
                          "merge the rows")
        else:
            seen[row.name] = row.line
