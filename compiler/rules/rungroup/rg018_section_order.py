"""The ``##`` sections of the seed 004 template come in the template's order.

Order: Overview, Variables, All Runs, Resources, Evaluations, Configuration, Directory
Structure, Compute Estimates, Quick Reference, Notes (seed 004 "Output Deliverables"
template). Sections the template does not have are ignored; a section that comes after one
the template puts later is reported once, at its heading. Presence and duplicates are
RG002's.

Severity: warning — the template's order is a preference: every section is still found in
another order, so an author may reorder on purpose (README "Severity policy").

Failing::

    # Run Plan: demo
    ## Variables
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

CODE = "RG018"
NAME = "run-plan-section-order"
SEVERITY = "warning"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan is None:
        return
    order = {normalise_title(s): i for i, s in enumerate(SECTIONS)}
    seen: set[str] = set()
    best, best_title = -1, ""
    for sec in plan.sections:
        key = normalise_title(sec.title)
        if key not in order or key in seen:
            continue
        seen.add(key)
        if order[key] < best:
            yield Finding(sec.line, sec.column,
                          f"section '## {sec.title}' comes after '## {best_title}'; the template "
                          "order is " + ", ".join(SECTIONS))
        else:
            best, best_title = order[key], sec.title
