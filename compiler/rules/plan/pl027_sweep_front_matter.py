"""The sweep table and a front-matter ``sweep:`` name the same parameters and values.

When a plan has both, planc compiles the front-matter ``sweep:`` (``grid``, ``zip``,
``seeds``/``repeats``) and the Parameters to Sweep table is what the reviewer reads
(seed 001: "The user will review the plan and then approve it for execution"). If they
differ, the runs are not the ones that were approved. Values are compared as numbers where
both sides are numbers (YAML ``1.0e-4`` equals the table's ``1e-4``). A front-matter sweep
with explicit ``runs`` is not compared.

Severity: error — the table and the front-matter state two different sweeps; the document
contradicts itself.

Failing::

    ---
    kind: plan
    command: python train.py --lr {lr}
    sweep:
      grid: {lr: [1.0e-4, 3.0e-4]}
    ---
    ...
    | `lr` | 1e-4, 1e-3 | bracket the default |

Passing::

    sweep:
      grid: {lr: [1.0e-4, 3.0e-4]}
    ...
    | `lr` | 1e-4, 3e-4 | bracket the default |
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...models.plan import parse_number
from ..base import Context, Finding
from ._shared import plan

CODE = "PL027"
NAME = "sweep-front-matter-mismatch"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def _factors(sweep: Any) -> dict[str, list[Any]] | None:
    if not isinstance(sweep, dict) or sweep.get("runs"):
        return None
    out: dict[str, list[Any]] = {}
    for block in ("zip", "grid"):
        part = sweep.get(block) or {}
        if not isinstance(part, dict):
            return None
        for name, values in part.items():
            if not isinstance(values, list):
                return None
            out[str(name)] = values
    seeds = sweep.get("seeds") or []
    repeats = sweep.get("repeats")
    if "seed" not in out:
        if isinstance(seeds, list) and seeds:
            out["seed"] = seeds
        elif isinstance(repeats, int) and repeats > 0:
            out["seed"] = list(range(1, repeats + 1))
    return out or None


def _norm(value: Any) -> object:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return float(value)
    num = parse_number(str(value))
    return float(num) if num is not None else str(value).strip()


def _show(values: list[Any]) -> str:
    return ", ".join(str(v) for v in values)


def check(ctx: Context) -> Iterator[Finding]:
    model = plan(ctx)
    fm = ctx.doc.front_matter
    table = model.sweep
    if table is None or not table.rows or not isinstance(fm, dict):
        return
    factors = _factors(fm.get("sweep"))
    if factors is None:
        return
    seen: set[str] = set()
    for row in table.rows:
        if not row.name or row.range_reason:
            continue  # PL016/PL017 report these
        seen.add(row.name)
        if row.name not in factors:
            yield Finding(row.line, row.column,
                          f"'{row.name}' is in the sweep table but not in the front-matter sweep",
                          "add it to sweep.grid, or drop the row")
            continue
        want = factors[row.name]
        if [_norm(v) for v in row.values] != [_norm(v) for v in want]:
            yield Finding(row.line, row.values_column,
                          f"'{row.name}' values {_show(row.values)} differ from the "
                          f"front-matter sweep's {_show(want)}",
                          "make the table and the front-matter list the same values")
    for name in factors:
        if name not in seen and not any(r.name == name for r in table.rows):
            yield Finding(table.line, 1,
                          f"front-matter sweep parameter '{name}' is missing from the sweep table",
                          f"add a row for `{name}`")
