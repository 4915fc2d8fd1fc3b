"""Success Criteria are checkbox items.

Seed 001, ``### Success Criteria``: ``- [ ] <criterion 1>``. The boxes are ticked as the
plan is executed; ``[x]`` (done) is accepted. Reported: no items, an item that is not a
``[ ]``/``[x]`` checkbox, an empty criterion.

Severity: error — seed 000's exact structure: criteria are checkboxes, the items ``planc
results`` marks met or not met.

Failing::

    ### Success Criteria
    - accuracy improves
    - [?] loss is stable

Passing::

    ### Success Criteria
    - [ ] best rank beats the base model by ≥ 5 points
    - [x] baseline reproduced
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan

CODE = "PL019"
NAME = "success-criteria-checkbox"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    model = plan(ctx)
    sec = model.section("success_criteria")
    if sec is None:
        return
    if not model.criteria:
        yield Finding(sec.line, sec.column, "Success Criteria has no '- [ ]' items",
                      "list measurable criteria as '- [ ] <criterion>'")
        return
    for c in model.criteria:
        if c.mark is None or c.mark not in (" ", "x", "X"):
            yield Finding(c.line, c.column, "success criterion is not a '[ ]' checkbox",
                          "write '- [ ] <criterion>'")
        elif not c.text:
            yield Finding(c.line, c.column, "empty success criterion", "say what must hold")
