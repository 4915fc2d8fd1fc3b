"""``runs_status.yaml`` has the tracker schema (seed 004 template + ``schema_version``).

Every pydantic error of :class:`compiler.models.status.RunsStatus` is reported at the YAML
key it concerns (the nearest parent key when the key is missing): a missing ``run_group``,
a run that is not a mapping, an ``evaluations`` that is a list, a non-integer
``schema_version``. ``status``, ``job_id`` and ``last_updated`` values have rules of their
own (RS002–RS004). A run in cruijff_kit's flat form has each of its stages
(``finetune_*``, ``eval_*``) checked against the same stage schema, at the prefixed key.
Source: seed 004 "runs_status.yaml" template; formats.md §4.

Severity: error — planc cannot read the tracker as written.

Failing::

    schema_version: one
    runs:
      Llama-3.2-1B-Instruct_rank4:
        evaluations: [capitalization_8L_epoch_1]

Passing::

    schema_version: 1
    run_group: cap_8L_llama32_lora_comparison
    runs:
      Llama-3.2-1B-Instruct_rank4:
        evaluations:
          capitalization_8L_epoch_1: {status: pending, job_id: null, output: null,
                                      last_updated: null}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import iter_stage_views, key_pos

CODE = "RS001"
NAME = "status-schema"
SEVERITY = "error"
KINDS = ("status",)
OPTIONS: dict[str, object] = {}

_OWN_RULES = ("status", "job_id", "last_updated")


def _errors(doc):  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    try:
        from ...models.status import RunsStatus  # pydantic only when a tracker is linted

        RunsStatus.model_validate(doc.yaml_data)
    except ValidationError as exc:
        return exc.errors(include_url=False)
    return []


def check(ctx: Context) -> Iterator[Finding]:
    from ...models.status import SCHEMA_VERSION

    data = ctx.doc.yaml_data
    if ctx.doc.yaml_node is None and data is None:
        if not ctx.doc.diagnostics:
            yield Finding(1, 1, "runs_status.yaml is empty", "write the tracker (planc compile)")
        return
    if not isinstance(data, dict):
        yield Finding(1, 1, f"runs_status.yaml must be a mapping, not {type(data).__name__}")
        return
    for err in ctx.model("status.errors", _errors):
        loc = list(err["loc"])
        if loc and loc[-1] in _OWN_RULES and len(loc) >= 4:
            continue
        line, col = key_pos(ctx, loc)
        where = ".".join(str(p) for p in loc) or "file"
        yield Finding(line, col, f"{where}: {err['msg']}")
    yield from _flat_errors(ctx)
    version = data.get("schema_version")
    if isinstance(version, int) and version > SCHEMA_VERSION:
        line, col = key_pos(ctx, ["schema_version"])
        yield Finding(line, col, f"schema_version {version} is newer than this planc "
                      f"understands ({SCHEMA_VERSION})", "upgrade planc")


def _flat_errors(ctx: Context) -> Iterator[Finding]:
    """Stage-schema errors of the flat form's stages, at their prefixed keys."""
    from pydantic import ValidationError

    from ...models.status import Stage

    for view in iter_stage_views(ctx):
        if view.prefix is None:
            continue
        try:
            Stage.model_validate(dict(view.stage))
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                field = str(err["loc"][0]) if err["loc"] else "status"
                if field in _OWN_RULES:
                    continue
                line, col = key_pos(ctx, view.path(field))
                yield Finding(line, col, f"{view.where}.{view.key(field)}: {err['msg']}")
