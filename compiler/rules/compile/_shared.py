"""The one build lint shares with compile (:func:`compiler.spec.build`)."""

from __future__ import annotations

from collections.abc import Iterator

from ...spec import build, compilable
from ..base import Context, Finding

# Front-matter (and experiment_summary.yaml) schema errors come back from the spec as RG900/EX005
# too; CM002/CM003 (ES001) report
# them already (same model, same location), so they are not reported twice.
_SCHEMA_PREFIXES = ("front-matter ", "experiment_summary ")


def compile_findings(ctx: Context, code: str) -> Iterator[Finding]:
    """The build's diagnostics with ``code`` as findings (nothing for documents that do
    not describe runs)."""
    if not compilable(ctx.doc) or any(d.code == "CM000" for d in ctx.doc.diagnostics):
        return
    for d in build(ctx.doc, ctx.settings).diagnostics:
        if d.code == code and not d.message.startswith(_SCHEMA_PREFIXES):
            yield Finding(d.line, d.column, d.message)
