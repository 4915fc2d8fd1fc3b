"""Front-matter keys must be known to the document's kind.

An unknown key is usually a typo that silently drops a setting. The message names the key
and, for near misses, the key you probably meant.

Severity: error — an unknown key (most often a typo) reaches no output, so the plan cannot
be compiled as written: every field a user writes must be used or reported.

Failing::

    ---
    kind: plan
    comand: python train.py --lr {lr}
    ---

Passing::

    ---
    kind: plan
    command: python train.py --lr {lr}
    ---
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._frontmatter import errors

CODE = "CM002"
NAME = "front-matter-unknown-key"
SEVERITY = "error"
KINDS = ("plan", "tasks", "run-group")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    for err in errors(ctx.doc):
        if err.type == "extra_forbidden":
            yield Finding(err.line, err.column, err.message, err.fix)
