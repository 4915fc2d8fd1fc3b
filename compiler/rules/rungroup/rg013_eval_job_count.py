"""The stated total of evaluation jobs matches the matrix and the evaluated epochs.

Total = Σ fine-tuned runs (✓ tasks × evaluated epochs) + Σ control runs (✓ tasks); without a
matrix every run gets every task. Evaluated epochs come from "Fine-tuned models:" (``epoch_N``
mentions, "all epochs", "last epoch", "first epoch"; "best epoch" counts one) and must lie in
``0 … epochs-1``. Source: seed 004 "Evaluation Configuration" (``{num_finetuned_runs} runs ×
{num_tasks} tasks × {num_epochs} epochs`` + base runs × tasks) and "IMPORTANT - Base Model
Evaluations".

Severity: error — the stated total of evaluation jobs is arithmetic the document gets wrong.

Failing::

    - Fine-tuned models: all epochs (0, 1)
    - **Total: 8 evaluations**          # 4 runs × 2 tasks × 2 epochs + 2 base × 2 = 20

Passing::

    - Fine-tuned models: all epochs (0, 1)
    - **Total: 20 evaluations**
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models.rungroup_doc import RunPlanDoc
from ..base import Context, Finding
from ._shared import plan_of

CODE = "RG013"
NAME = "evaluation-job-count"
SEVERITY = "error"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {}


def expected_jobs(plan: RunPlanDoc, n_epochs: int) -> int:
    """Evaluation jobs the matrix implies with ``n_epochs`` evaluated epochs per fine-tune."""
    all_tasks = len(plan.eval_tasks) or len(plan.matrix_tasks)
    total = 0
    for run in plan.runs:
        row = plan.matrix_for(run.name)
        tasks = sum(row.tasks.values()) if row is not None else (
            0 if plan.matrix_line else all_tasks)
        total += tasks * (n_epochs if run.type == "fine-tuned" else 1)
    return total


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    plan = plan_of(ctx)
    if plan is None:
        return
    epochs = plan.epochs
    chosen = plan.eval_epoch_list
    fe = plan.finetuned_epochs
    if fe is not None and chosen is not None and epochs is not None:
        bad = [] if isinstance(chosen, range) else [n for n in chosen if not 0 <= n < epochs]
        if bad:
            yield Finding(fe.line, fe.column,
                          f"evaluated epoch(s) {', '.join(f'epoch_{n}' for n in bad)} do not exist "
                          f"with {epochs} epochs (epoch_0 … epoch_{epochs - 1})")
    stated = plan.stated_eval_jobs
    if stated is None or not plan.runs:
        return
    names = {r.name for r in plan.runs}
    if plan.matrix_line and ({r.run for r in plan.matrix} != names):
        return  # the matrix and All Runs name different runs (RG011 says where): no count
    if chosen is not None:
        n_epochs = len(chosen)
    elif fe is not None and "best" in fe.value.lower():
        n_epochs = 1
    else:
        return
    want = expected_jobs(plan, n_epochs)
    if want != stated.value:
        yield Finding(stated.line, doc.col_of(stated.line, str(stated.value)),
                      f"the plan states {stated.value} evaluation jobs; the matrix with "
                      f"{n_epochs} evaluated epoch(s) per fine-tuned run gives {want}")
