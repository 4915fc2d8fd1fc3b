"""Sections follow the seed's order.

Seed 001: "follow this exact structure": Objective, Compute Setup, Approach, Parameters to
Sweep, Metrics, Success Criteria, Risks & Mitigations, Estimated Effort, 💡 Workflow
Improvements. The fewest sections that break the order are reported (those outside the
longest run already in order), each with where it belongs.

Severity: warning — the seed's order is a preference: every section is still found in
another order, so an author may reorder on purpose.

Failing::

    ### Objective
    ### Metrics
    ### Compute Setup
    ### Approach

Passing::

    ### Objective
    ### Compute Setup
    ### Approach
    ### Metrics
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from ...models.plan import SECTION_ORDER, SECTION_TITLES
from ..base import Context, Finding
from ._shared import plan

CODE = "PL005"
NAME = "section-order"
SEVERITY = "warning"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def _in_order(ranks: list[int]) -> set[int]:
    """Indices of one longest strictly increasing subsequence of ``ranks`` (patience sort)."""
    tails: list[int] = []
    tail_idx: list[int] = []
    prev = [-1] * len(ranks)
    for i, r in enumerate(ranks):
        pos = bisect_left(tails, r)
        if pos == len(tails):
            tails.append(r)
            tail_idx.append(i)
        else:
            tails[pos] = r
            tail_idx[pos] = i
        prev[i] = tail_idx[pos - 1] if pos else -1
    keep: set[int] = set()
    i = tail_idx[-1] if tail_idx else -1
    while i >= 0:
        keep.add(i)
        i = prev[i]
    return keep


def check(ctx: Context) -> Iterator[Finding]:
    seen: set[str] = set()
    secs = []
    for sec in plan(ctx).sections:
        if sec.key and sec.key not in seen:  # duplicates are PL004's
            seen.add(sec.key)
            secs.append(sec)
    ranks = [SECTION_ORDER[s.key] for s in secs if s.key]
    keep = _in_order(ranks)
    for i, sec in enumerate(secs):
        if i in keep or not sec.key:
            continue
        rank = SECTION_ORDER[sec.key]
        before = [s for j, s in enumerate(secs) if j in keep and SECTION_ORDER[s.key or ""] > rank]
        where = f"before '{before[0].title}' (line {before[0].line})" if before else "at the end"
        yield Finding(sec.line, sec.column,
                      f"section '{SECTION_TITLES[sec.key]}' is out of order",
                      f"move it {where}")
