"""planc must be able to tell what kind of document a file is.

The kind comes from front-matter ``kind:`` or, without it, from the headings the seed
formats use (``## 📋 Plan:``, ``# Tasks`` with phases or a checklist, ``# Run Plan:``). A
file that matches none is not checked by any kind's rules, so say what it is. A YAML file
whose name and top-level keys are neither a ``runs_status.yaml`` tracker nor a cruijff_kit
``experiment_summary.yaml`` gets this one finding instead of a cascade of tracker errors.

Severity: warning — pre-commit passes every file, and one that is not clearly a plan, task
plan, run group or tracker may be an ordinary note: planc says so once instead of judging it
by the wrong seed.

Failing::

    # My experiment
    Some notes.

Passing::

    ---
    kind: plan
    ---
    ## 📋 Plan: My experiment
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding

CODE = "CM007"
NAME = "unknown-kind"
SEVERITY = "warning"
KINDS = ("unknown",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    if any(d.code in ("CM000", "CM001") for d in ctx.doc.diagnostics):
        return  # unreadable file or front-matter (its kind:): CM000/CM001 already say why
    if ctx.doc.kind_source == "yaml":
        yield Finding(1, 1, "not a planc document: this YAML file is neither a "
                      "runs_status.yaml tracker nor a cruijff_kit experiment_summary.yaml "
                      "(by file name or top-level keys)",
                      "name it runs_status.yaml or experiment_summary.yaml, or leave it out "
                      "of the lint paths")
        return
    yield Finding(
        1,
        1,
        "cannot tell the kind of this document (plan, tasks or run-group)",
        "add front-matter 'kind: plan|tasks|run-group' or the seed format's title heading",
    )
