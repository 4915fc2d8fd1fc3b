"""A model is not in the model catalog or has no path.

Compile writes each model's torchtune components and checkpoint files from the model
catalog (torchtune's LoRA configs, plus the project's models.yaml) and needs the model's
folder; without either there is no config to write. An unknown name gets the closest
catalog names ("did you mean").

Severity: error — a model planc cannot find cannot be configured: the plan cannot be
compiled as written.

Failing::

    variables: {model: [My-Own-Model-7B]}        # not in the registry

Passing::

    variables: {model: [Llama-3.2-1B-Instruct]}
    models: [{name: Llama-3.2-1B-Instruct, path: /models/Llama-3.2-1B-Instruct}]
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "EX006"
NAME = "expand-model"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
