"""Planning Notes cover codebase findings, risks and assumptions, and the experiment root.

Seed 003 lists three notes: "Key codebase findings", "Key risks and assumptions" and
"Experiment root and logging layout decision" (``{{workdir}}/exp`` when it exists, else
``{{workdir}}/.wild/experiments``). Matched leniently: findings/codebase, risk/assumption,
experiment root/layout/``exp/``/``.wild/experiments``.

Severity: warning — the Planning Notes topics are the template's bullets; authors word them
their own way.

Failing::

    ## Planning Notes
    - train.py reads --alpha.

Passing::

    ## Planning Notes
    - Key codebase findings: train.py reads --alpha.
    - Key risks and assumptions: five seeds are enough for a 95% interval.
    - Experiment root and logging layout decision: exp/alpha/ with logs/ and results/.

Seed: 003 (Required Plan Structure).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..base import Context, Finding
from ._common import plan_of

CODE = "TK024"
NAME = "planning-notes-topics"
SEVERITY = "warning"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}

_TOPICS = (
    ("key codebase findings", re.compile(r"finding|codebase|code base")),
    ("key risks and assumptions", re.compile(r"risk|assum")),
    ("the experiment root and logging layout", re.compile(
        r"experiment root|layout|\bexp/|\.wild/experiments|experiments? (?:folder|directory)")),
)


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "phased" or plan.notes is None or not plan.notes.nonempty:
        return
    text = plan.notes.text.lower()
    missing = [label for label, rx in _TOPICS if not rx.search(text)]
    if missing:
        yield Finding(plan.notes.line, plan.notes.column,
                      "Planning Notes do not state " + "; ".join(missing),
                      "add one note for each")
