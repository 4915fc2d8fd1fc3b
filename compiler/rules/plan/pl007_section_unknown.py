"""Headings after the plan title are the seed's sections.

Seed 001 fixes the plan's structure; an extra ``###`` (or ``##``) heading after the title
is not part of it, and readers of the saved plan will not look for it. Put such content
under the closest seed section (deeper headings, ``####``, are fine inside a section).

Severity: warning — an extra section contradicts nothing; authors add context on purpose.

Failing::

    ### Timeline
    - Week 1: baselines

Passing::

    ### Estimated Effort
    - **Runs**: 6
    - **Time**: 1 week (baselines in week 1)
    - **Resources**: 1 GPU
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan

CODE = "PL007"
NAME = "section-unknown"
SEVERITY = "warning"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    for sec in plan(ctx).sections:
        if sec.key is None:
            yield Finding(sec.line, sec.column,
                          f"'{sec.title}' is not a section of the seed's plan format",
                          "move its content into a seed section, under a '####' heading if needed")
