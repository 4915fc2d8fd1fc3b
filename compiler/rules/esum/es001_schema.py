"""``experiment_summary.yaml`` has cruijff_kit's schema.

Every pydantic error of :class:`compiler.models.experiment_summary.ExperimentSummary` except
an unknown key (ES002) is reported at the key it concerns (the nearest parent when the key
is missing): a missing ``experiment.dir``, ``controls.epochs: 0``, a run ``type`` other
than ``fine-tuned``/``control``/``eval-only``, an empty ``evaluation.matrix``. Source:
cruijff_kit ``.claude/skills/design-experiment/templates/experiment_summary.yaml`` and
``tests/unit/test_experiment_summary_schema.py`` (commit 72a4ace).

Severity: error — a document missing a required key or holding a wrong type cannot be
scaffolded or compiled as written.

Failing::

    controls:
      epochs: 0

Passing::

    controls:
      epochs: 1
      batch_size: 4
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import key_pos, validated

CODE = "ES001"
NAME = "esum-schema"
SEVERITY = "error"
KINDS = ("experiment-summary",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    data = ctx.doc.yaml_data
    if ctx.doc.yaml_node is None and data is None:
        if not ctx.doc.diagnostics:
            yield Finding(1, 1, "experiment_summary.yaml is empty")
        return
    if not isinstance(data, dict):
        yield Finding(1, 1, f"experiment_summary.yaml must be a mapping, not "
                      f"{type(data).__name__}")
        return
    _model, errors = validated(ctx)
    for err in errors:
        if err["type"] == "extra_forbidden":
            continue
        loc = list(err["loc"])
        line, col = key_pos(ctx, loc)
        where = ".".join(str(p) for p in loc) or "file"
        yield Finding(line, col, f"{where}: {err['msg']}")
