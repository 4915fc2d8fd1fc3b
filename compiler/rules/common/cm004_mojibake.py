"""Text must not be mojibake (UTF-8 decoded as cp1252 and saved again).

Seed 000 is saved this way: ``ðŸ“‹`` stands for 📋 and ``â€”`` for —. Headings with mojibake
no longer match the format, and readers see garbage. Detection and the suggested fix come
from ftfy's ``fix_encoding``; lines are pre-filtered cheaply so clean files cost nothing.

Severity: error — mojibake changes what the author wrote (names, arrows, the 📋 title that
marks a plan), so the text states something else; ``planc lint --fix`` repairs it.

Fix (safe): the line's differing span (from the first to the last character ftfy's
``fix_encoding`` changes) is replaced by ftfy's repair; the rest of the line and file stay
as they are. Safe because the finding already is ftfy's judgement that the span is
mis-decoded UTF-8, and the repair restores the characters the author typed.

Failing::

    ## ðŸ“‹ Plan: LoRA rank sweep

Passing::

    ## 📋 Plan: LoRA rank sweep
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...fix import Edit, Fix, edit_at
from ..base import Context, Finding

CODE = "CM004"
NAME = "mojibake"
SEVERITY = "error"
KINDS = ("plan", "tasks", "run-group", "status", "experiment-summary", "unknown")
OPTIONS: dict[str, object] = {}

# A Latin-1 letter followed by another non-ASCII character: how cp1252-decoded UTF-8 looks.
_SUSPECT = re.compile(r"[\u00c0-\u00ff][^\x00-\x7f]")


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    if not _SUSPECT.search(doc.text):
        return
    import ftfy  # imported only when a file looks suspicious

    for n, line in enumerate(doc.lines, 1):
        if not _SUSPECT.search(line):
            continue
        fixed = ftfy.fix_encoding(line)
        if fixed == line:
            continue
        col = next((i for i, (a, b) in enumerate(zip(line, fixed, strict=False)) if a != b), 0) + 1
        bad = _first_run(line, col - 1)
        good = ftfy.fix_encoding(bad)
        yield Finding(
            n,
            col,
            f"mojibake {bad!r} (UTF-8 read as cp1252)",
            f"replace with {good!r}; re-save the file as UTF-8",
            _repair(ctx, n, line, fixed),
        )


def _repair(ctx: Context, n: int, line: str, fixed: str) -> Fix | None:
    """Replace only the span of ``line`` that differs from ``fixed`` (common prefix and
    suffix kept)."""
    a = 0
    while a < min(len(line), len(fixed)) and line[a] == fixed[a]:
        a += 1
    b = 0
    while b < min(len(line), len(fixed)) - a and line[-1 - b] == fixed[-1 - b]:
        b += 1
    edit: Edit | None = edit_at(ctx.doc, n, a + 1, line[a : len(line) - b],
                                fixed[a : len(fixed) - b])
    return Fix((edit,)) if edit else None


def _first_run(line: str, start: int) -> str:
    end = start
    while end < len(line) and not line[end].isascii():
        end += 1
    return line[start:end] or line[start : start + 1]
