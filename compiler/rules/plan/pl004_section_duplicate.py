"""Each section appears once.

Seed 001 gives each header once; a repeated section splits its content, and only the first
is read (by planc and by readers).

Severity: error — a section written twice gives two answers to one question; which one is
compiled is ambiguous.

Failing::

    ### Metrics
    - **Primary**: accuracy — task success
    ...
    ### Metrics
    - **Secondary**: loss — stability

Passing::

    ### Metrics
    - **Primary**: accuracy — task success
    - **Secondary**: loss — stability
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models.plan import SECTION_TITLES
from ..base import Context, Finding
from ._shared import plan

CODE = "PL004"
NAME = "section-duplicate"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for sec in plan(ctx).sections:
        if not sec.key:
            continue
        if sec.key in seen:
            title = SECTION_TITLES[sec.key]
            yield Finding(sec.line, sec.column,
                          f"section '{title}' again (first on line {seen[sec.key]})",
                          "merge the two sections")
        else:
            seen[sec.key] = sec.line
