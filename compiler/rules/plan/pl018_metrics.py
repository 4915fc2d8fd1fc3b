"""Metrics has one Primary and optional Secondary metrics, each ``name — why``.

Seed 001, ``### Metrics``::

    - **Primary**: <metric name> — <why this metric matters>
    - **Secondary**: <metric name> — <why>

Reported: no Primary item, more than one, an item without a ``**Primary**:`` /
``**Secondary**:`` label, an empty metric name, a missing "— why". ``**Primary:**`` (colon
inside the bold) is accepted.

Severity: error — seed 000's exact structure: one Primary metric (with why) is what results
and Success Criteria are judged by.

Failing::

    ### Metrics
    - accuracy
    - **Secondary**: loss

Passing::

    ### Metrics
    - **Primary**: exact-match accuracy — the task is graded on it
    - **Secondary**: validation loss — shows over-fitting early
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan

CODE = "PL018"
NAME = "metrics-format"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    model = plan(ctx)
    sec = model.section("metrics")
    if sec is None:
        return
    primary_line = 0
    for m in model.metrics:
        if m.role is None:
            yield Finding(m.line, m.column,
                          "metric without a '**Primary**:' or '**Secondary**:' label",
                          "write '- **Secondary**: <metric> — <why>'")
            continue
        if m.role not in ("primary", "secondary"):
            yield Finding(m.line, m.column, f"metric label '{m.role}' is not Primary or Secondary",
                          "write '**Secondary**:'")
            continue
        if m.role == "primary":
            if primary_line:
                yield Finding(m.line, m.column,
                              f"a second Primary metric (first on line {primary_line})",
                              "keep one Primary; make the others Secondary")
                continue
            primary_line = m.line
        if not m.name:
            yield Finding(m.line, m.column, f"{m.role} metric has no name",
                          "write '<metric> — <why>'")
        elif not m.why:
            yield Finding(m.line, m.column, f"metric '{m.name}' does not say why it matters",
                          f"write '{m.name} — <why>'")
    if not primary_line:
        yield Finding(sec.line, sec.column, "Metrics has no '**Primary**:' metric",
                      "add '- **Primary**: <metric> — <why it matters>'")
