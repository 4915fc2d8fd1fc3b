"""Names in ``experiment_summary.yaml`` refer to things it defines.

A run's ``model`` must be one of ``models.base[].name``; an ``evaluation.matrix`` entry's
``run`` one of ``runs[].name`` and each of its ``tasks`` one of ``evaluation.tasks[].name``
(cruijff_kit's ``test_run_models_reference_base_models``,
``test_matrix_runs_reference_defined_runs``, ``test_matrix_tasks_reference_defined_tasks``).

Severity: error — scaffolding looks the name up and fails; the document contradicts itself.

Failing::

    models: {base: [{name: Llama-3.2-1B-Instruct, path: /m, size_gb: 2.5}]}
    runs: [{name: r1, type: fine-tuned, model: Llama-3.2-3B-Instruct, parameters: {}}]

Passing::

    models: {base: [{name: Llama-3.2-1B-Instruct, path: /m, size_gb: 2.5}]}
    runs: [{name: r1, type: fine-tuned, model: Llama-3.2-1B-Instruct, parameters: {}}]
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import data, items, key_pos, section

CODE = "ES003"
NAME = "esum-reference"
SEVERITY = "error"
KINDS = ("experiment-summary",)
OPTIONS: dict[str, object] = {}


def _names(entries: object) -> list[str]:
    return [str(e["name"]) for _i, e in items(entries) if "name" in e]


def check(ctx: Context) -> Iterator[Finding]:
    d = data(ctx)
    models = _names(section(d, "models", "base"))
    runs = _names(d.get("runs"))
    tasks = _names(section(d, "evaluation", "tasks"))
    if models:
        for i, run in items(d.get("runs")):
            model = run.get("model")
            if isinstance(model, str) and model not in models:
                yield Finding(*key_pos(ctx, ["runs", i, "model"]),
                              f"run {run.get('name')!r} names model {model!r}, which is not "
                              f"in models.base ({', '.join(models)})")
    for i, entry in items(section(d, "evaluation", "matrix")):
        run = entry.get("run")
        if isinstance(run, str) and run not in runs:
            yield Finding(*key_pos(ctx, ["evaluation", "matrix", i, "run"]),
                          f"evaluation matrix names run {run!r}, which is not in runs")
        if tasks and isinstance(entry.get("tasks"), list):
            for j, task in enumerate(entry["tasks"]):
                if isinstance(task, str) and task not in tasks:
                    yield Finding(*key_pos(ctx, ["evaluation", "matrix", i, "tasks", j]),
                                  f"evaluation matrix names task {task!r}, which is not in "
                                  f"evaluation.tasks ({', '.join(tasks)})")
