"""Text must not be mojibake (UTF-8 decoded as cp1252 and saved again).

Seed 000 is saved this way: ``ðŸ“‹`` stands for 📋 and ``â€”`` for —. Headings with mojibake
no longer match the format, and readers see garbage. Detection and the suggested fix come
from ftfy's ``fix_encoding``; lines are pre-filtered cheaply so clean files cost nothing.

Failing::

    ## ðŸ“‹ Plan: LoRA rank sweep

Passing::

    ## 📋 Plan: LoRA rank sweep
"""

from __future__ import annotations

import re
from collections.abc import Iterator

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
        )


def _first_run(line: str, start: int) -> str:
    end = start
    while end < len(line) and not line[end].isascii():
        end += 1
    return line[start:end] or line[start : start + 1]
