"""A plan starts with one ``## 📋 Plan: <title>`` heading with a non-empty title.

Seed 001 (*Required Output Format*): "Your plan MUST follow this exact structure" and the
``raw_markdown`` saved to ``POST /plans`` starts "from ``## 📋 Plan: ...``". The heading is
also how planc recognises a plan without front-matter. Reported: no such heading, an empty
title, a heading level other than 2, a missing or different emoji. (A mis-encoded emoji is
left to CM004.)

Severity: error — seed 000: the plan "MUST follow this exact structure with these exact
headers"; the ``## 📋 Plan:`` title is how people and tools find the plan.

Failing::

    # Plan: LoRA rank sweep
    ## 📋 Plan:

Passing::

    ## 📋 Plan: LoRA rank sweep on Llama-3.2-1B
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...models.plan import TITLE_EMOJI
from ..base import Context, Finding
from ._shared import plan

CODE = "PL001"
NAME = "plan-title"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}

_MOJIBAKE = re.compile(r"[\u00c0-\u00ff]")


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    model = plan(ctx)
    if model.title is None:
        line = model.sections[0].line if model.sections else 1
        yield Finding(line, 1, f"no '## {TITLE_EMOJI} Plan: <title>' heading",
                      f"start the plan with '## {TITLE_EMOJI} Plan: <concise plan title>'")
        return
    line, col = model.title_line, model.title_column
    text = doc.line_text(line)
    if not model.title:
        at = text.find("Plan:")
        yield Finding(line, at + len("Plan:") + 1 if at >= 0 else col, "the plan title is empty",
                      "write a concise title after 'Plan:'")
    if model.title_level != 2:
        yield Finding(line, col, f"the plan title is a level-{model.title_level} heading; "
                      "seed 001 uses '## '", f"write '## {TITLE_EMOJI} Plan: …'")
    prefix = model.title_prefix
    if prefix != TITLE_EMOJI and not (prefix and _MOJIBAKE.search(prefix)):
        at = text.find(prefix) if prefix else text.find("Plan:")
        what = f"'{prefix}'" if prefix else "no emoji"
        yield Finding(line, at + 1 if at >= 0 else col,
                      f"the plan title has {what} before 'Plan:'; "
                      f"seed 001 writes '{TITLE_EMOJI} Plan:'",
                      f"write '## {TITLE_EMOJI} Plan: {model.title}'")
