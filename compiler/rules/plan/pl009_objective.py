"""The Objective is one or two sentences.

Seed 001: ``### Objective`` holds "<1-2 sentence summary of what we're trying to achieve>",
and the section's text is sent as ``goal`` when the plan is saved. Abbreviations
("e.g.", "i.e.", "vs.") and numbers (``1e-3``, ``0.5``) do not end a sentence; code spans
are ignored.

Severity: warning — "1-2 sentence summary" is a style preference.

Failing::

    ### Objective
    We sweep LoRA ranks. We also sweep learning rates. Then we compare seeds.

Passing::

    ### Objective
    Find the LoRA rank (e.g. 4 vs. 64) that maximises held-out accuracy at lr 1e-4.

Options: ``max_sentences`` (default 2).
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models.plan import count_sentences
from ..base import Context, Finding
from ._shared import plan

CODE = "PL009"
NAME = "objective-sentences"
SEVERITY = "warning"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {"max_sentences": 2}


def check(ctx: Context) -> Iterator[Finding]:
    model = plan(ctx)
    sec = model.section("objective")
    if sec is None:
        return
    limit = int(ctx.options.get("max_sentences", 2))
    if not model.objective:
        yield Finding(sec.line, sec.column, "the Objective is empty",
                      "summarise the goal in one or two sentences")
        return
    n = count_sentences(model.objective)
    if n > limit:
        yield Finding(model.objective_line, ctx.doc.col_of(model.objective_line),
                      f"the Objective has {n} sentences; seed 001 asks for 1-{limit}",
                      "move details to Approach")
