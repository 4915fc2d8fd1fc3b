"""Each risk is ``**Risk**: … → **Mitigation**: …``.

Seed 001, ``### Risks & Mitigations``: ``- **Risk**: <description> → **Mitigation**: <how
to handle>``. ``->`` is accepted for the arrow and the colon may sit inside the bold.
Reported: no items, an item without a ``**Risk**:`` description or without a
``→ **Mitigation**:``.

Severity: error — seed 000's exact structure: every risk pairs with its mitigation; a risk
without one states no plan for it.

Failing::

    ### Risks & Mitigations
    - OOM at rank 64
    - **Risk**: divergence at lr 1e-3

Passing::

    ### Risks & Mitigations
    - **Risk**: OOM at rank 64 → **Mitigation**: halve the batch, double accumulation
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan

CODE = "PL020"
NAME = "risk-mitigation-format"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    model = plan(ctx)
    sec = model.section("risks")
    if sec is None:
        return
    if not model.risks:
        yield Finding(sec.line, sec.column, "Risks & Mitigations has no items",
                      "add '- **Risk**: <description> → **Mitigation**: <how to handle>'")
        return
    for r in model.risks:
        if r.risk is None:
            yield Finding(r.line, r.column,
                          "risk item does not start with '**Risk**: <description>'",
                          "write '- **Risk**: <description> → **Mitigation**: <how>'")
        elif r.mitigation is None and not r.arrow and "mitigation" in r.text.lower():
            yield Finding(r.line, r.column, "risk and mitigation are not separated by '→'",
                          "write '**Risk**: <description> → **Mitigation**: <how>'")
        elif r.mitigation is None:
            yield Finding(r.line, r.column, "risk without '→ **Mitigation**: <how to handle>'",
                          "add the mitigation after an arrow on the same item")
