"""A key cruijff_kit's ``experiment_summary.yaml`` schema does not have.

Mappings the design template leaves open (``controls``, ``runs[].parameters``,
``data.data_generation``, scorer ``params``) accept any key; elsewhere an unknown key is
usually a typo (``wandb_projcet``) or a legacy name (``experiment.directory``, renamed to
``dir``; ``data.training.label``, renamed to ``dataset_label``), which scaffolding ignores.

Severity: warning — a newer cruijff_kit may add keys this planc does not know yet, so an
author may keep one on purpose.

Failing::

    experiment:
      directory: /scratch/x

Passing::

    experiment:
      dir: /scratch/x
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import key_pos, validated

CODE = "ES002"
NAME = "esum-unknown-key"
SEVERITY = "warning"
KINDS = ("experiment-summary",)
OPTIONS: dict[str, object] = {}

_RENAMED = {"directory": "dir", "label": "dataset_label"}


def check(ctx: Context) -> Iterator[Finding]:
    if not isinstance(ctx.doc.yaml_data, dict):
        return
    _model, errors = validated(ctx)
    for err in errors:
        if err["type"] != "extra_forbidden":
            continue
        loc = list(err["loc"])
        line, col = key_pos(ctx, loc)
        key = str(loc[-1]) if loc else ""
        hint = f"renamed to {_RENAMED[key]!r}" if key in _RENAMED else None
        where = ".".join(str(p) for p in loc)
        yield Finding(line, col, f"{where}: unknown key in cruijff_kit's experiment_summary "
                      "schema", hint)
