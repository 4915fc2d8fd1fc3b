"""Structured fixes: what a rule attaches to a finding for ``planc lint --fix``.

This module is a leaf (it imports nothing of planc's), so rules can import it; applying
fixes to files (lint, fix, lint again) is :mod:`compiler.fixer`.

Shape (after ruff's fix model, "fixes are represented as a list of edits", ruff 0.0.260):
a :class:`Fix` is a tuple of :class:`Edit` (a span of :attr:`Document.text`, the decoded
text with newlines normalised to ``\\n``, and its replacement) plus an applicability,
``"safe"`` or ``"unsafe"``. ``--fix`` applies safe fixes, ``--unsafe-fixes`` unsafe ones too.

Guarantees:

- a file that cannot be parsed (a ``CM000``/``CM001`` loading diagnostic: unreadable, not
  UTF-8, too large, bad YAML) is never written;
- byte-minimal: an edit replaces exactly its span; every other byte of the file (line
  endings, a BOM, comments, front-matter formatting) is unchanged. Offsets into the
  normalised text are mapped back to the file's own lines, so a CRLF file stays CRLF;
- overlapping fixes: the non-overlapping ones are applied, then the file is linted again,
  at most ``compiler.fixer.MAX_PASSES`` times, until no fix applies (so a second
  ``--fix`` is a no-op);
- a pass whose result would no longer parse is undone and fixing that file stops.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_EOL = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True, order=True)
class Edit:
    """Replace characters ``start``..``end`` (0-based, end exclusive) of the document's
    normalised text with ``content``. ``line``/``column`` and ``end_line``/``end_column``
    are the same span as 1-based file positions (for SARIF regions)."""

    start: int
    end: int
    content: str
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "content": self.content,
                "line": self.line, "column": self.column,
                "end_line": self.end_line, "end_column": self.end_column}


@dataclass(frozen=True, slots=True, order=True)
class Fix:
    """One finding's fix: all ``edits`` are applied together or not at all.
    ``applicability`` is ``"safe"`` (``--fix``) or ``"unsafe"`` (``--unsafe-fixes``)."""

    edits: tuple[Edit, ...]
    applicability: str = "safe"

    @property
    def span(self) -> tuple[int, int]:
        return min(e.start for e in self.edits), max(e.end for e in self.edits)

    def to_json(self) -> dict[str, Any]:
        return {"applicability": self.applicability,
                "edits": [e.to_json() for e in self.edits]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fix:
        """The inverse of :meth:`to_json` (the lint cache stores fixes this way).
        Raises ``KeyError``/``TypeError``/``ValueError`` on a malformed object."""
        edits = tuple(Edit(int(e["start"]), int(e["end"]), str(e["content"]),
                           int(e["line"]), int(e["column"]), int(e["end_line"]),
                           int(e["end_column"])) for e in data["edits"])
        if not edits or data["applicability"] not in ("safe", "unsafe"):
            raise ValueError("a fix has edits and is safe or unsafe")
        return cls(edits, str(data["applicability"]))


def _line_starts(doc: Any) -> list[int]:
    def build(d: Any) -> list[int]:
        starts, pos = [], 0
        for line in d.lines:
            starts.append(pos)
            pos += len(line) + 1
        return starts
    return doc.cached("fix:line_starts", build)


def edit_at(doc: Any, line: int, column: int, old: str, new: str) -> Edit | None:
    """An :class:`Edit` replacing ``old``, which must stand at 1-based ``line``/``column``
    of ``doc`` on that one line (``None`` when it does not: a rule never edits text it did
    not read)."""
    if line < 1 or line > len(doc.lines) or column < 1:
        return None
    text = doc.lines[line - 1]
    if text[column - 1 : column - 1 + len(old)] != old or "\n" in old:
        return None
    start = _line_starts(doc)[line - 1] + column - 1
    return Edit(start, start + len(old), new, line, column, line, column + len(old))


def replace_in_line(doc: Any, line: int, old: str, new: str, *, after: int = 1,
                    unsafe: bool = False) -> Fix | None:
    """A one-edit :class:`Fix` replacing the first ``old`` at or after 1-based column
    ``after`` of ``line``; ``None`` when ``old`` is not there or nothing would change."""
    if old == new or line < 1 or line > len(doc.lines):
        return None
    idx = doc.lines[line - 1].find(old, max(0, after - 1))
    if idx < 0:
        return None
    edit = edit_at(doc, line, idx + 1, old, new)
    return Fix((edit,), "unsafe" if unsafe else "safe") if edit else None


# -- applying -----------------------------------------------------------------------------
def _raw_line_starts(raw: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in _EOL.finditer(raw))
    return starts


def apply_fixes(raw: str, norm: str, fixes: Sequence[Fix]) -> tuple[str, list[Fix]]:
    """Apply the non-overlapping ``fixes`` (offsets into ``norm``, the normalised form of
    ``raw``) to ``raw``. Returns the new raw text and the fixes applied, in order; a fix
    overlapping one taken earlier (by start offset) is left for the next pass."""
    taken: list[Fix] = []
    spans: list[tuple[int, int]] = []
    for fix in sorted(set(fixes), key=lambda f: (f.span, f)):
        if any(e.start < s_end and s_start < e.end or (e.start == e.end == s_start)
               for e in fix.edits for s_start, s_end in spans):
            continue
        taken.append(fix)
        spans.extend((e.start, e.end) for e in fix.edits)
    if not taken:
        return raw, []
    norm_starts = [0] + [m.end() for m in re.finditer("\n", norm)]
    raw_starts = _raw_line_starts(raw)
    m = _EOL.search(raw)
    eol = m.group(0) if m else "\n"

    def to_raw(offset: int) -> int:
        i = bisect.bisect_right(norm_starts, offset) - 1
        return raw_starts[i] + offset - norm_starts[i]

    edits = sorted((e for f in taken for e in f.edits), key=lambda e: (e.start, e.end))
    out, pos = [], 0
    for e in edits:
        a, b = to_raw(e.start), to_raw(e.end)
        out.append(raw[pos:a])
        out.append(e.content.replace("\n", eol) if eol != "\n" else e.content)
        pos = b
    out.append(raw[pos:])
    return "".join(out), taken
