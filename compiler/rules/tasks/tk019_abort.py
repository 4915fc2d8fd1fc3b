"""An abort checklist has every item checked and the exact sentinel.

The sentinel is ``ABORT_EARLY_DOCS_CHECK_FAILED``.

When the server preflight fails, seed 003 asks for "an abort checklist ... with all items
checked and sentinel ABORT_EARLY_DOCS_CHECK_FAILED". With the sentinel present the phase
and count rules do not apply, but an open or in-progress box would send the execution loop
back into a plan that was never made, and a misspelt sentinel is not recognised.

Severity: error — research-agent stops only on the exact sentinel with every item checked;
any other form cannot be acted on as written.

Failing::

    # Tasks
    - [x] Preflight: curl -sf $SERVER/docs failed
    - [ ] ABORT_EARLY_DOCS_CHECK_FAIL

Passing::

    # Tasks
    - [x] Preflight: curl -sf $SERVER/docs failed
    - [x] ABORT_EARLY_DOCS_CHECK_FAILED

Seed: 003 (Server preflight must pass before planning).
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models.tasks import SENTINEL
from ..base import Context, Finding
from ._common import plan_of

CODE = "TK019"
NAME = "abort-checklist"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "abort" or plan.sentinel is None:
        return
    s = plan.sentinel
    if s.text != SENTINEL:
        yield Finding(s.line, s.column, f"abort sentinel {s.text!r} is misspelt",
                      f"write {SENTINEL}")
    if not plan.boxes:
        yield Finding(s.line, s.column, "abort checklist has no checked items",
                      "list the preflight checks as '- [x] …' items")
    for box in plan.boxes:
        if box.text in (" ", "/"):
            yield Finding(box.line, box.column,
                          f"abort checklist item is [{box.text}]; every item must be checked",
                          "mark it [x]")
