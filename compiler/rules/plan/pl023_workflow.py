"""💡 Workflow Improvements names at least one reusable script, template or pattern.

Seed 001, ``### 💡 Workflow Improvements``: "Any reusable scripts, templates, or patterns
identified during planning". An empty section suggests it was added only to satisfy the
structure; write "None identified" when there really is nothing.

Severity: warning — "none identified" is an answer an author may give on purpose.

Failing::

    ### 💡 Workflow Improvements

Passing::

    ### 💡 Workflow Improvements
    - Keep the sweep command as a front-matter template so reruns need no edits
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan

CODE = "PL023"
NAME = "workflow-improvements-empty"
SEVERITY = "warning"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    model = plan(ctx)
    sec = model.section("workflow")
    if sec is None or model.workflow:
        return
    if any(t.type in ("fence", "code_block", "table_open")
           for t in ctx.doc.tokens[sec.start : sec.end]):
        return
    yield Finding(sec.line, sec.column, "Workflow Improvements is empty",
                  "name a reusable script, template or pattern, or write 'None identified'")
