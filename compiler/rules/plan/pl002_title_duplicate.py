"""A document holds exactly one plan title.

Seed 001 saves one plan per ``POST /plans`` call, its ``raw_markdown`` "starting from
``## 📋 Plan: ...``". A second ``Plan:`` heading means two plans were pasted together (or a
draft was left above the final plan); split them into separate files.

Severity: error — two titles are two plans in one document; which one is compiled is
ambiguous, so it cannot be compiled as written.

Failing::

    ## 📋 Plan: LoRA rank sweep
    ...
    ## 📋 Plan: LoRA rank sweep (revised)

Passing::

    ## 📋 Plan: LoRA rank sweep (revised)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan

CODE = "PL002"
NAME = "plan-title-duplicate"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    model = plan(ctx)
    for line, col, _level, _prefix, _title in model.titles[1:]:
        yield Finding(line, col, f"second plan title (the first is on line {model.title_line})",
                      "keep one plan per file")
