"""Evaluation keys follow the plan: ``<task>_epoch_<N>`` for fine-tuned runs, tasks from the matrix.

For each run of the ``runs_plan.md`` beside the file: every evaluation key names a task the
Evaluation Matrix marks ✓ for that run (every task, without a matrix); fine-tuned keys end in
``_epoch_<N>`` with ``0 ≤ N < epochs`` (torchtune's ``epoch_N/`` folders); and every ✓ task
has at least one key. Base keys without a suffix are RS007's. A run in cruijff_kit's flat
form has one evaluation stage (``eval_status``) that names no task, so it is not checked
here. Source: seed 004 "runs_status.yaml" template and checklist ("Evaluation tasks match
the evaluation matrix").

Severity: error — the tracker states evaluations the plan does not have, or lacks ones it
has.

Failing::

    Llama-3.2-1B-Instruct_rank4:
      evaluations:
        capitalization_8L: …            # no epoch
        reasoning_epoch_5: …            # 2 epochs: epoch_0, epoch_1

Passing::

    Llama-3.2-1B-Instruct_rank4:
      evaluations:
        capitalization_8L_epoch_1: …
        reasoning_epoch_1: …
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import key_pos, runs_of, sibling_plan

CODE = "RS008"
NAME = "status-evaluation-keys"
SEVERITY = "error"
KINDS = ("status",)
OPTIONS: dict[str, object] = {}

_KEY = re.compile(r"^(.+)_epoch_(\d+)$")


def check(ctx: Context) -> Iterator[Finding]:
    from ...models.status import flat_prefixes

    plan = sibling_plan(ctx)
    if plan is None or not plan.runs:
        return
    all_tasks = [t.name for t in plan.eval_tasks] or plan.matrix_tasks
    epochs = plan.epochs
    runs = runs_of(ctx)
    for run in plan.runs:
        rec = runs.get(run.name)
        if not isinstance(rec, dict) or (flat_prefixes(rec) and "evaluations" not in rec):
            continue
        row = plan.matrix_for(run.name)
        tasks = [t for t, on in row.tasks.items() if on] if row is not None else all_tasks
        evals = rec.get("evaluations")
        evals = evals if isinstance(evals, dict) else {}
        covered: set[str] = set()
        for key in evals:
            kl, kc = key_pos(ctx, ["runs", run.name, "evaluations", key])
            skey = str(key)
            if run.type == "fine-tuned":
                m = _KEY.match(skey)
                if not m:
                    yield Finding(kl, kc, f"fine-tuned run {run.name!r}: evaluation {skey!r} "
                                  "needs an epoch suffix", f"name it '{skey}_epoch_<N>'")
                    continue
                task, n = m.group(1), int(m.group(2))
                if epochs is not None and not 0 <= n < epochs:
                    yield Finding(kl, kc, f"{skey}: epoch_{n} does not exist with {epochs} "
                                  f"epochs (epoch_0 … epoch_{epochs - 1})")
            else:
                task = _KEY.sub(r"\1", skey)
            covered.add(task)
            if tasks is not None and task not in tasks:
                yield Finding(kl, kc, f"run {run.name!r}: task {task!r} is not marked ✓ for "
                              "this run in the Evaluation Matrix")
        missing = [t for t in tasks if t not in covered]
        if missing:
            loc = ["runs", run.name, "evaluations"] if "evaluations" in rec else ["runs", run.name]
            line, col = key_pos(ctx, loc)
            yield Finding(line, col, f"run {run.name!r} has no evaluation for "
                          f"{', '.join(missing)} (✓ in the Evaluation Matrix)")
