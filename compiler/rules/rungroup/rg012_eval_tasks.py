"""The Evaluation Matrix columns are exactly the tasks of the Evaluation Tasks table.

Task names are unique; each task has a script. Source: seed 004 template (Evaluation Tasks,
Evaluation Matrix) and checklist ("All evaluation tasks verified").

Severity: error — matrix columns and the task table name different tasks: the document
contradicts itself.

Failing::

    | Task Name | Script | Dataset | Description |
    | capitalization_8L | `tasks/capitalization/eval.py` | `words.json` | caps |
    | Run Name | capitalisation | Notes |

Passing::

    | Task Name | Script | Dataset | Description |
    | capitalization_8L | `tasks/capitalization/eval.py` | `words.json` | caps |
    | Run Name | capitalization_8L | Notes |
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan_of

CODE = "RG012"
NAME = "evaluation-tasks"
SEVERITY = "error"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    plan = plan_of(ctx)
    if plan is None:
        return
    names: dict[str, int] = {}
    for task in plan.eval_tasks:
        col = doc.col_of(task.line, task.name) if task.name else 1
        if not task.name:
            yield Finding(task.line, col, "evaluation task has no name")
            continue
        if task.name in names:
            yield Finding(task.line, col, f"task {task.name!r} is listed twice "
                          f"(first on line {names[task.name]})")
            continue
        names[task.name] = task.line
        if not task.script or task.script in ("-", "—"):
            yield Finding(task.line, col, f"task {task.name!r} has no script")
    if not plan.matrix_line or not plan.tasks_line:
        return
    columns = plan.matrix_tasks
    for t in columns:
        if t not in names:
            yield Finding(plan.matrix_line, doc.col_of(plan.matrix_line, t),
                          f"matrix column {t!r} is not a task of the Evaluation Tasks table")
    for name, line in names.items():
        if name not in columns:
            yield Finding(line, doc.col_of(line, name),
                          f"task {name!r} has no column in the Evaluation Matrix")
