"""Front-matter values must have the types the document's kind expects.

Reported at the key's position in the YAML (falling back to the nearest parent key), with
pydantic's message; every error is reported, not only the first.

Severity: error — a value of the wrong type cannot be compiled as written.

Failing::

    ---
    kind: plan
    gpus: two
    ---

Passing::

    ---
    kind: plan
    gpus: 2
    ---
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._frontmatter import errors

CODE = "CM003"
NAME = "front-matter-schema"
SEVERITY = "error"
KINDS = ("plan", "tasks", "run-group")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    for err in errors(ctx.doc):
        if err.type != "extra_forbidden":
            yield Finding(err.line, err.column, err.message, err.fix)
