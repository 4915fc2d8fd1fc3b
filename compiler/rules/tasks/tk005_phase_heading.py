"""Phase headings read ``## Phase N - Title``, numbered 1, 2, 3 … in order without gaps.

Task ids carry their phase number (``P2-T3``), so phases must be numbered exactly; a
heading without a number or title cannot be referred to. An en or em dash or a colon
instead of the hyphen is accepted.

Severity: error — a heading planc cannot read as a phase hides its tasks from every other
check, so the plan cannot be read as written.

Failing::

    ## Phase 1 - Code Understanding
    ## Phase 3 - Main Method
    ## Phase Four - Analytics
    ## Phase 4

Passing::

    ## Phase 1 - Code Understanding
    ## Phase 2 - Experiment Design and Baselines
    ## Phase 3 - Main Method

Seed: 003 (``phase_hdr := "## Phase " INT " - " title``).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import plan_of

CODE = "TK005"
NAME = "phase-heading"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "phased":
        return
    expected = 1
    seen: dict[int, int] = {}
    for ph in plan.phases:
        if ph.number is None:
            yield Finding(ph.line, ph.column, f"phase heading {ph.heading!r} has no number",
                          f"write it as 'Phase {expected} - Title'")
            expected += 1
            continue
        if ph.number in seen:
            yield Finding(ph.line, ph.column,
                          f"Phase {ph.number} is repeated (first at line {seen[ph.number]})",
                          f"renumber it Phase {expected}")
            continue
        seen[ph.number] = ph.line
        if ph.number != expected:
            why = "phases are numbered from 1" if expected == 1 else "phase numbers have no gaps"
            yield Finding(ph.line, ph.column,
                          f"Phase {ph.number} should be Phase {expected} ({why})",
                          f"renumber it Phase {expected} and its task ids P{expected}-Tn")
        if not ph.title:
            yield Finding(ph.line, ph.column, f"Phase {ph.number} has no title",
                          f"write it as 'Phase {ph.number} - Title'")
        expected = ph.number + 1
