"""``planc lint --fix``: apply the structured fixes rules attach to their findings.

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
  at most :data:`MAX_PASSES` times, until no fix applies (so a second ``--fix`` is a no-op);
- a pass whose result would no longer parse is undone and fixing that file stops.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_PASSES = 10
_UNPARSEABLE = ("CM000", "CM001")
_BOM = "\ufeff"
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


@dataclass
class FileFix:
    """The outcome of fixing one file: its bytes ``before`` and ``after`` (equal when
    nothing applied), and the number of fixes applied per rule code."""

    path: str
    before: bytes
    after: bytes
    fixed: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        """A unified diff (``--- path`` / ``+++ path``) of the change, '' when none."""
        if not self.changed:
            return ""
        a = self.before.decode("utf-8").splitlines(keepends=True)
        b = self.after.decode("utf-8").splitlines(keepends=True)
        lines = difflib.unified_diff(a, b, self.path, self.path)
        return "".join(x if x.endswith(("\n", "\r")) else x + "\n\\ No newline at end of file\n"
                       for x in lines)


def fix_file(path: str | Path, settings: Any, unsafe: bool = False) -> FileFix:
    """Lint ``path`` and apply its fixes in memory, pass after pass (at most
    :data:`MAX_PASSES`), until none applies. Never writes; see :func:`write`."""
    from .document import load, read_bounded
    from .lint import lint_document

    p = str(path)
    raw_bytes, _ = read_bounded(Path(path))
    result = FileFix(p, raw_bytes or b"", raw_bytes or b"")
    if raw_bytes is None:
        return result
    try:
        raw = raw_bytes.decode("utf-8")
    except UnicodeDecodeError:
        return result
    bom = raw.startswith(_BOM)
    body = raw[1:] if bom else raw
    for _ in range(MAX_PASSES):
        doc = load(p, text=body)
        if any(d.code in _UNPARSEABLE for d in doc.diagnostics):
            break
        diags = lint_document(doc, settings)
        fixes = {d.autofix: d.code for d in diags
                 if d.autofix is not None and (unsafe or d.autofix.applicability == "safe")}
        new_body, taken = apply_fixes(body, doc.text, list(fixes))
        if not taken or new_body == body:
            break
        check = load(p, text=new_body)
        if any(d.code in _UNPARSEABLE for d in check.diagnostics):
            break  # a fix must never make a file unparseable: drop this pass, stop
        body = new_body
        result.fixed.update(fixes[f] for f in taken)
    result.after = ((_BOM if bom else "") + body).encode("utf-8")
    if not result.changed:
        result.fixed.clear()
    return result


def fix_files(files: Iterable[str | Path], settings: Any, unsafe: bool = False
              ) -> list[FileFix]:
    """:func:`fix_file` for each of ``files``, in order."""
    return [fix_file(f, settings, unsafe) for f in files]


def write(result: FileFix) -> None:
    """Write ``result.after`` over the file when it changed (bytes, no newline translation)."""
    if result.changed:
        Path(result.path).write_bytes(result.after)
