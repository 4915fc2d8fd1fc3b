"""``data.training.dataset_label`` is the training file's name without its extension.

cruijff_kit's design template defines ``dataset_label`` as "Filename without extension"
of ``data.training.path``; scaffolding names outputs by it. A label that names another file
(``words_8L_80P_10`` beside ``words_5L_80P_10.json``) mislabels every result.

Severity: error — the document states two different datasets for one run.

Failing::

    data:
      training: {path: /d/words_5L_80P_10.json, dataset_label: words_8L_80P_10}

Passing::

    data:
      training: {path: /d/words_5L_80P_10.json, dataset_label: words_5L_80P_10}
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from ..base import Context, Finding
from ._shared import data, key_pos, section

CODE = "ES005"
NAME = "esum-dataset-label"
SEVERITY = "error"
KINDS = ("experiment-summary",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    training = section(data(ctx), "data", "training")
    if not isinstance(training, dict):
        return
    path, label = training.get("path"), training.get("dataset_label")
    if not isinstance(path, str) or not isinstance(label, str) or not path:
        return
    stem = PurePosixPath(path).stem
    if label != stem:
        yield Finding(*key_pos(ctx, ["data", "training", "dataset_label"]),
                      f"dataset_label {label!r} is not the training file's name "
                      f"{PurePosixPath(path).name!r} without its extension ({stem!r})",
                      f"dataset_label: {stem}")
