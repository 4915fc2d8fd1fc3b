"""Estimated Runs equals the number of sweep combinations.

Seed 001: "For grid search, create one run per configuration", so a plan with a
Parameters to Sweep table runs the product of its value counts (4 ranks × 2 learning rates
× 3 seeds = 24). A plan with a ``command:`` is counted by planc's own expansion
(:func:`compiler.spec.build`: zip, exclusions, explicit runs, seeds and repeats included),
the number ``planc compile`` writes. Without either, a front-matter ``sweep:`` that has only
``grid`` (with ``seeds``/``repeats``) is counted as a product. A Runs note that adds extra
runs to the sweep size (``13 (12 sweep + 1 baseline)``) is accepted.

Fix: the stated number becomes the sweep's size (``**Runs**: 8`` → ``**Runs**: 12``), written
with thousands commas when it had them. Safe when the value is the number alone: the count
restates the sweep, and compile runs the sweep whatever the count says. Unsafe when a note
follows (``8 (4 ranks × 2 seeds)``): the note may restate the old count and is not rewritten.

Severity: error — a stated run count that differs from the plan's own sweep is a
contradiction inside the document (severity policy in the README).

Failing::

    | `rank` | 4, 8, 16, 32 | … |
    | `seed` | 0, 1, 2 | … |
    ...
    - **Runs**: 8

Passing::

    - **Runs**: 12 (4 ranks × 3 seeds)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from ...fix import Fix, replace_in_line
from ...models.plan import sweep_size
from ..base import Context, Finding
from ._shared import plan

CODE = "PL022"
NAME = "effort-runs-match"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def _front_matter_size(fm: Any) -> int | None:
    sweep = fm.get("sweep") if isinstance(fm, dict) else None
    if not isinstance(sweep, dict) or not set(sweep) <= {"grid", "seeds", "repeats"}:
        return None
    grid = sweep.get("grid") or {}
    if not isinstance(grid, dict) or not all(isinstance(v, list) for v in grid.values()):
        return None
    seeds = sweep.get("seeds") or []
    repeats = sweep.get("repeats") or 1
    if not isinstance(seeds, list) or not isinstance(repeats, int):
        return None
    size = math.prod(len(v) for v in grid.values()) * max(1, len(seeds)) * max(1, repeats)
    return size if grid or seeds else None


def _expanded_size(ctx: Context) -> int | None:
    """The run count of a compilable plan (``command:``), from the same build compile runs;
    ``None`` when the plan has no command or does not expand (the EX rules say why)."""
    from ...spec import build, compilable

    if not compilable(ctx.doc):
        return None
    matrix = build(ctx.doc, ctx.settings).matrix
    return len(matrix.runs) if matrix is not None else None


def check(ctx: Context) -> Iterator[Finding]:
    model = plan(ctx)
    effort = model.effort
    if effort is None or effort.runs is None:
        return
    item = effort.items["runs"]
    source = ""
    size: int | None = None
    expanded = _expanded_size(ctx)
    if expanded is not None:
        size, source = expanded, "planc's expansion of the sweep"
    elif model.sweep is not None and model.sweep.rows:
        if any(r.range_reason or not r.name for r in model.sweep.rows):
            return  # PL016/PL017 report the table; no count to compare with
        size = sweep_size([(r.name, r.values) for r in model.sweep.rows])
        source = "the sweep table's " + " × ".join(str(len(r.values)) for r in model.sweep.rows)
    else:
        size = _front_matter_size(ctx.doc.front_matter)
        source = "the front-matter sweep"
    if not size or size == effort.runs:
        return
    note = item.raw[len(item.raw.split("(", 1)[0]):]
    if "+" in note and str(size) in re.findall(r"\d+", note.replace(",", "")):
        return
    yield Finding(item.line, item.value_column,
                  f"Runs is {effort.runs} but {source} = {size} runs",
                  f"write '**Runs**: {size}' or explain the extra runs as '{size} sweep + N …'",
                  _count_fix(ctx, item, effort.runs, size))


_COUNT = re.compile(r"\d{1,3}(?:,\d{3})+(?![\d,.])|\d+(?![\d,.])")


def _count_fix(ctx: Context, item: Any, stated: int, size: int) -> Fix | None:
    """Replace the stated count at the item's value column by ``size`` (see docstring)."""
    text = ctx.doc.line_text(item.line)[item.value_column - 1:]
    m = _COUNT.match(text.lstrip("*` "))
    if m is None or int(m.group(0).replace(",", "")) != stated:
        return None
    lead = len(text) - len(text.lstrip("*` "))
    new = f"{size:,}" if "," in m.group(0) else str(size)
    unsafe = bool(text[lead + m.end():].strip(" *`"))
    return replace_in_line(ctx.doc, item.line, m.group(0), new,
                           after=item.value_column + lead, unsafe=unsafe)
