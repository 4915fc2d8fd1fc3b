"""Every run has at least one evaluation, and the Evaluation Matrix rows are exactly the runs.

Without a matrix, every run gets every task of the Evaluation Tasks table (seed 004: "If
yes: Simple - all runs get all evaluation tasks"). Source: seed 004 checklist ("Evaluation
matrix is complete and consistent"; "Each run has at least one evaluation assigned").

Severity: error — a run without an evaluation, or a matrix row naming no run, contradicts
the run table.

Failing::

    | Run Name | capitalization_8L | Notes |
    | Llama-3.2-1B-Instruct_rank4 | - | none |

Passing::

    | Run Name | capitalization_8L | Notes |
    | Llama-3.2-1B-Instruct_rank4 | ✓ | All evals |
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan_of

CODE = "RG011"
NAME = "evaluation-coverage"
SEVERITY = "error"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    plan = plan_of(ctx)
    if plan is None:
        return
    evals = next((s for s in plan.sections if s.title.lower() == "evaluations"), None)
    if not plan.matrix and not plan.eval_tasks:
        if evals is not None and plan.runs:
            yield Finding(evals.line, evals.column, "no evaluation tasks: every run needs at "
                          "least one evaluation", "add an Evaluation Tasks table")
        return
    if not plan.matrix_line:
        return  # all runs get all tasks
    names = {r.name for r in plan.runs}
    seen: dict[str, int] = {}
    for row in plan.matrix:
        col = doc.col_of(row.line, row.run) if row.run else 1
        if row.run in seen:
            yield Finding(row.line, col, f"run {row.run!r} has two matrix rows "
                          f"(first on line {seen[row.run]})")
            continue
        seen[row.run] = row.line
        if plan.runs and row.run not in names:
            yield Finding(row.line, col, f"matrix row {row.run!r} is not a run of All Runs")
        elif not any(row.tasks.values()):
            yield Finding(row.line, col, f"run {row.run!r} has no evaluation (no ✓ in its row)",
                          "mark at least one task with ✓")
    for run in plan.runs:
        if run.name and run.name not in seen:
            yield Finding(run.line, doc.col_of(run.line, run.name),
                          f"run {run.name!r} has no row in the Evaluation Matrix")
