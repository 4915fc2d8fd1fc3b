"""The front-matter ``title`` and the ``Plan:`` heading agree.

The heading is what seed 001 saves as the plan (``raw_markdown``) and the front-matter
title is what planc shows in listings and on the site; two different titles for one plan
confuse both. Case and spacing are ignored.

Severity: warning — the front-matter title may be a deliberate short name for the site's
nav; the heading stays the plan's title.

Failing::

    ---
    kind: plan
    title: LoRA rank sweep
    ---
    ## 📋 Plan: Learning-rate sweep

Passing::

    ---
    kind: plan
    title: LoRA rank sweep
    ---
    ## 📋 Plan: LoRA rank sweep
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models.plan import plain
from ..base import Context, Finding
from ._shared import plan

CODE = "PL026"
NAME = "title-front-matter-mismatch"
SEVERITY = "warning"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def _norm(text: str) -> str:
    return " ".join(plain(text).split()).casefold()


def check(ctx: Context) -> Iterator[Finding]:
    fm = ctx.doc.front_matter
    model = plan(ctx)
    title = fm.get("title") if isinstance(fm, dict) else None
    if not isinstance(title, str) or not model.title:
        return
    if _norm(title) != _norm(model.title):
        line = model.title_line
        col = ctx.doc.col_of(line, model.title)
        yield Finding(line, col,
                      f"heading title '{model.title}' differs from front-matter title '{title}'",
                      "use the same title in both places")
