"""The evaluation matrix asks only for epochs that training writes.

A fine-tuned run evaluated at epoch N (0-indexed) trains more than N epochs; a control or
eval-only run has no training epochs (``epochs: null``).

cruijff_kit's design template: ``epochs: [int]`` "List of epoch numbers (0-indexed)",
"Use null for control AND eval-only runs"; training runs ``controls.epochs`` epochs (or the
run's own ``parameters.epochs`` when epochs is varied), writing checkpoints
``epoch_0`` … ``epoch_{epochs-1}``.

Severity: error — the checkpoint the matrix asks for is never written.

Failing::

    controls: {epochs: 1}
    evaluation: {matrix: [{run: r1, tasks: [t], epochs: [0, 1]}]}

Passing::

    controls: {epochs: 2}
    evaluation: {matrix: [{run: r1, tasks: [t], epochs: [0, 1]}]}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import data, items, key_pos, section

CODE = "ES006"
NAME = "esum-eval-epoch"
SEVERITY = "error"
KINDS = ("experiment-summary",)
OPTIONS: dict[str, object] = {}


def _int(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def check(ctx: Context) -> Iterator[Finding]:
    d = data(ctx)
    default = _int(section(d, "controls", "epochs"))
    runs = {str(r.get("name")): r for _i, r in items(d.get("runs"))}
    for i, entry in items(section(d, "evaluation", "matrix")):
        run = runs.get(str(entry.get("run")))
        epochs = entry.get("epochs")
        if run is None or not isinstance(epochs, list):
            continue
        kind = run.get("type")
        if kind in ("control", "eval-only"):
            if epochs:
                yield Finding(*key_pos(ctx, ["evaluation", "matrix", i, "epochs"]),
                              f"run {run.get('name')!r} is {kind}: it trains no epochs, so "
                              f"its matrix epochs must be null, not {epochs}",
                              "epochs: null")
            continue
        params = run.get("parameters") if isinstance(run.get("parameters"), dict) else {}
        trained = _int(params.get("epochs")) or default
        if trained is None or trained < 1:
            continue  # no or a non-positive epoch count: ES001's
        for j, n in enumerate(epochs):
            if _int(n) is not None and not 0 <= n < trained:
                yield Finding(*key_pos(ctx, ["evaluation", "matrix", i, "epochs", j]),
                              f"epoch {n} of run {run.get('name')!r} does not exist: it "
                              f"trains {trained} epoch(s), checkpoints epoch_0 … "
                              f"epoch_{trained - 1} (0-indexed)")
