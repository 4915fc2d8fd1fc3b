"""An ``eval-only`` run names its checkpoint in an absolute ``parameters.checkpoint_path``.

cruijff_kit's design skill defines an eval-only run as a checkpoint trained elsewhere and
evaluated as-is: ``parameters: {checkpoint_path: <absolute path to the existing checkpoint
directory>}`` (``param_selection.md``), and its validation checklist requires "a
``parameters.checkpoint_path`` pointing at a pre-existing checkpoint directory"
(``validation.md``). The matrix ``epochs`` of such a run is ``null`` (ES006), so the path
is the only place the checkpoint is named; jobs run in other folders, so it must be
absolute.

Severity: error — breaks the design skill's "must": without the path there is no model
for the run's evaluations to load, and the group cannot be compiled.

Failing::

    runs:
      - {name: old_ckpt, type: eval-only, model: Llama-3.2-1B-Instruct, parameters: {}}

Passing::

    runs:
      - name: old_ckpt
        type: eval-only
        model: Llama-3.2-1B-Instruct
        parameters: {checkpoint_path: /scratch/ck/cap/rank8/artifacts/epoch_0}
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models.experiment_summary import checkpoint_problem
from ..base import Context, Finding
from ._shared import data, items, key_pos

CODE = "ES009"
NAME = "esum-checkpoint-path"
SEVERITY = "error"
KINDS = ("experiment-summary",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    for i, run in items(data(ctx).get("runs")):
        if run.get("type") != "eval-only":
            continue
        params = run.get("parameters")
        if params is not None and not isinstance(params, dict):
            continue  # a wrong type: ES001's
        problem = checkpoint_problem(params or {})
        if problem is None:
            continue
        loc = (["runs", i, "parameters", "checkpoint_path"]
               if isinstance(params, dict) and "checkpoint_path" in params
               else ["runs", i, "type"])
        yield Finding(*key_pos(ctx, loc), f"eval-only run {run.get('name')!r}: {problem}")
