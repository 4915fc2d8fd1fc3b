"""The ``##`` sections of the seed 004 template are all there, once each.

Sections: Overview, Variables, All Runs, Resources, Evaluations, Configuration, Directory
Structure, Compute Estimates, Quick Reference, Notes; with the ``###`` subsections Models and
Dataset (Resources), Evaluation Configuration / Tasks / Matrix (Evaluations), and Training
Time / Evaluation Time / Disk Space Estimates (Compute Estimates). Other sections are
allowed. A missing section is reported where it should have been (the heading of the next
template section). Source: seed 004 "Output Deliverables" template and "Summary Quality"
checklist ("runs_plan.md template filled completely"). Their order is RG018's (a warning).

Severity: error — seed 004's template sections hold the facts planc compiles (runs,
configuration, evaluations); a missing one leaves the group unreadable as written.

Failing::

    # Run Plan: demo
    ## Overview
    ## Overview

Passing::

    # Run Plan: demo
    ## Overview
    ## Variables
"""

from __future__ import annotations

from collections.abc import Iterator

from ...document import normalise_title
from ...models.rungroup_doc import SECTIONS
from ..base import Context, Finding
from ._shared import plan_of

CODE = "RG002"
NAME = "run-plan-sections"
SEVERITY = "error"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {}

SUBSECTIONS: dict[str, tuple[str, ...]] = {
    "resources": ("Models", "Dataset"),
    "evaluations": ("Evaluation Configuration", "Evaluation Tasks", "Evaluation Matrix"),
    "compute estimates": ("Training Time Estimates", "Evaluation Time Estimates",
                          "Disk Space Estimates"),
}


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    plan = plan_of(ctx)
    if plan is None:
        return
    known = {normalise_title(s) for s in SECTIONS}
    seen: dict[str, int] = {}
    for sec in plan.sections:
        key = normalise_title(sec.title)
        if key not in known:
            continue
        if key in seen:
            yield Finding(sec.line, sec.column,
                          f"section '## {sec.title}' appears twice (first on line {seen[key]})",
                          "merge the two sections")
            continue
        seen[key] = sec.line
    last_line = plan.sections[-1].line if plan.sections else (plan.title_line or 1)
    for i, title in enumerate(SECTIONS):
        if normalise_title(title) in seen:
            continue
        where = next((seen[normalise_title(t)] for t in SECTIONS[i + 1:]
                      if normalise_title(t) in seen), last_line)
        yield Finding(where, 1, f"missing section '## {title}' (seed 004 template)",
                      f"add '## {title}'")
    h2 = {normalise_title(s.title): s for s in plan.sections}
    for parent, subs in SUBSECTIONS.items():
        sec = h2.get(parent)
        if sec is None:
            continue
        present = {normalise_title(s.title) for s in doc.sections
                   if s.level == 3 and sec.start <= s.start - 3 < sec.end}
        for sub in subs:
            if normalise_title(sub) not in present:
                yield Finding(sec.line, sec.column,
                              f"section '## {sec.title}' has no '### {sub}' subsection",
                              f"add '### {sub}'")
