"""Apply fixes to files: ``planc lint --fix`` / ``--diff`` (see :mod:`compiler.fix` for the
fix model and its guarantees)."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .fix import apply_fixes

MAX_PASSES = 10
_UNPARSEABLE = ("CM000", "CM001")
_BOM = "\ufeff"


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
