"""Total Runs = fine-tuned + controls = rows of All Runs = product of the factor levels + controls.

The Overview states ``N (F fine-tuned + C controls)``; the All Runs table must have N rows,
F of type Fine-tuned and C of type Control, and a full factorial design has as many
fine-tuned runs as the product of the Variables levels. Every row's Type is Fine-tuned or
Control. Source: seed 004 template (Overview, All Runs) and its concrete example ("4
fine-tuning runs + 2 control runs = 6 total runs").

Severity: error — the counts contradict each other or the run table: the document states two
numbers of runs.

Fix (safe): when the fine-tuned and control counts agree with the All Runs table but the
total is not their sum, the total ``N`` is replaced by ``F + C``. Safe because the total
only restates the two counts and the table; no run changes. Other mismatches (a count
against the table, the factor product) have no fix: which side is wrong is not known.

Failing::

    - **Total Runs**: 6 (4 fine-tuned + 1 controls)
    | Factor | Levels |
    | Model | Llama-3.2-1B-Instruct, Llama-3.2-3B-Instruct |
    | LoRA Rank | 4, 64, 128 |

Passing::

    - **Total Runs**: 6 (4 fine-tuned + 2 controls)
    | Factor | Levels |
    | Model | Llama-3.2-1B-Instruct, Llama-3.2-3B-Instruct |
    | LoRA Rank | 4, 64 |
"""

from __future__ import annotations

from collections.abc import Iterator
from math import prod

from ...fix import replace_in_line
from ..base import Context, Finding
from ._shared import plan_of

CODE = "RG003"
NAME = "run-count"
SEVERITY = "error"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    plan = plan_of(ctx)
    if plan is None:
        return
    ft, ctl = len(plan.finetuned), len(plan.controls)
    for row in plan.runs:
        if row.type not in ("fine-tuned", "control"):
            raw = row.cells.get("type", "")
            yield Finding(row.line, doc.col_of(row.line, raw) if raw else 1,
                          f"run {row.name!r} has Type {raw!r}; use Fine-tuned or Control")
    total = plan.total_runs
    stated = plan.overview.get("total runs")
    if stated is None:
        sec = next((s for s in plan.sections if s.title.lower() == "overview"), None)
        if sec is not None:
            yield Finding(sec.line, sec.column, "the Overview states no **Total Runs**",
                          "add '- **Total Runs**: N (F fine-tuned + C controls)'")
    elif total is None or plan.finetune_count is None:
        yield Finding(stated.line, stated.column,
                      f"cannot read Total Runs {stated.value!r}",
                      "write it as 'N (F fine-tuned + C controls)'")
    if total is not None and plan.finetune_count is not None and plan.control_count is not None:
        if total.value != plan.finetune_count + plan.control_count:
            want = plan.finetune_count + plan.control_count
            agree = plan.runs_line and (plan.finetune_count, plan.control_count) == (ft, ctl)
            fix = (replace_in_line(doc, total.line, str(total.value), str(want),
                                   after=total.column)
                   if agree and doc.line_text(total.line)[total.column - 1:]
                   .startswith(str(total.value)) else None)
            yield Finding(total.line, total.column,
                          f"Total Runs {total.value} is not {plan.finetune_count} fine-tuned + "
                          f"{plan.control_count} controls = {want}", None, fix)
        if plan.runs_line and plan.finetune_count != ft:
            yield Finding(total.line, total.column,
                          f"Overview says {plan.finetune_count} fine-tuned runs; "
                          f"All Runs lists {ft}")
        if plan.runs_line and plan.control_count != ctl:
            yield Finding(total.line, total.column,
                          f"Overview says {plan.control_count} controls; All Runs lists {ctl}")
    if total is not None and plan.runs_line and total.value != len(plan.runs):
        yield Finding(total.line, total.column,
                      f"Total Runs is {total.value} but the All Runs table has "
                      f"{len(plan.runs)} rows")
    if plan.variables:
        expected = prod(len(f.levels) for f in plan.variables)
        n_ft = plan.finetune_count if plan.finetune_count is not None else ft
        if expected != n_ft:
            first = plan.variables[0]
            sizes = " × ".join(str(len(f.levels)) for f in plan.variables)
            yield Finding(first.line, doc.col_of(first.line),
                          f"the factors give {sizes} = {expected} fine-tuned runs, "
                          f"but the plan has {n_ft}")
