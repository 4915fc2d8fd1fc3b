"""Plan sections are level-3 (``###``) headings under the level-2 title.

Seed 001 writes ``## 📋 Plan:`` and then ``### Objective`` … ``### 💡 Workflow
Improvements``. A section at another level changes the outline (``## Metrics`` would end
the plan in a table of contents).

Severity: error — seed 000's exact structure puts sections at ``###`` under the ``##``
title; a section at another level is not read as a section.

Failing::

    ## 📋 Plan: LoRA rank sweep
    ## Objective

Passing::

    ## 📋 Plan: LoRA rank sweep
    ### Objective
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan

CODE = "PL008"
NAME = "section-level"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    for sec in plan(ctx).sections:
        if sec.key and sec.level != 3:
            yield Finding(sec.line, sec.column,
                          f"section '{sec.title}' is a level-{sec.level} heading",
                          f"write '### {sec.title}'")
