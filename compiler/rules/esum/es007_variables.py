"""Each fine-tuned run's ``parameters`` take a value listed in ``variables``.

``variables`` lists the levels each factor sweeps; ``runs[]`` is "generated from the
cartesian product of variables" (cruijff_kit design template), and cruijff_kit's
``test_variable_values_match_run_parameters`` requires every variable's value in a
fine-tuned run to be one of its levels. A run with ``lora_rank: 16`` beside
``variables: {lora_rank: [4, 8]}``, or one missing a varied parameter, contradicts it.

Severity: error — the runs and the stated design disagree.

Failing::

    variables: {lora_rank: [4, 8]}
    runs: [{name: r16, type: fine-tuned, model: m, parameters: {lora_rank: 16}}]

Passing::

    variables: {lora_rank: [4, 8]}
    runs: [{name: r8, type: fine-tuned, model: m, parameters: {lora_rank: 8}}]
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import data, items, key_pos

CODE = "ES007"
NAME = "esum-variables"
SEVERITY = "error"
KINDS = ("experiment-summary",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    d = data(ctx)
    variables = d.get("variables")
    if not isinstance(variables, dict):
        return
    for i, run in items(d.get("runs")):
        if run.get("type") != "fine-tuned":
            continue
        params = run.get("parameters")
        if not isinstance(params, dict):
            continue
        for name, levels in variables.items():
            if not isinstance(levels, list):
                continue
            if name == "model" and "model" not in params:  # the run's own model key
                if isinstance(run.get("model"), str) and run["model"] not in levels:
                    yield Finding(*key_pos(ctx, ["runs", i, "model"]),
                                  f"run {run.get('name')!r} has model {run['model']!r}, not "
                                  f"one of variables.model {levels}")
                continue
            if name not in params:
                yield Finding(*key_pos(ctx, ["runs", i, "parameters"]),
                              f"run {run.get('name')!r} does not set the varied parameter "
                              f"{name!r} (variables: {levels})")
            elif params[name] not in levels:
                yield Finding(*key_pos(ctx, ["runs", i, "parameters", name]),
                              f"run {run.get('name')!r} has {name}={params[name]!r}, not one "
                              f"of variables.{name} {levels}")
