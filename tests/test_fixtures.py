"""Good and bad example files through the real entry point (check-jsonschema style).

Layout: ``tests/fixtures/<kind>/good/*`` must lint clean (no diagnostics at all);
``tests/fixtures/<kind>/bad/<name>.<ext>`` must produce exactly the diagnostics listed in
``<name>.expected``: one ``line:col: CODE`` per line (``#`` comments and blank lines are
ignored). A file may sit in a folder of its own (``bad/<name>/runs_status.yaml`` with
``bad/<name>/expected``) when it needs siblings. A line ``select: CM005, PL`` in an
``.expected`` file limits the run to those codes (a per-rule case, sqlfluff style).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.config import Settings
from compiler.lint import discover, lint_paths

from .conftest import FIXTURES

SETTINGS = Settings(root=FIXTURES)


def _good() -> list[Path]:
    return sorted(
        p
        for p in FIXTURES.glob("*/good/**/*")
        if p.is_file() and p.suffix in (".md", ".yaml", ".txt")
    )


def _bad() -> list[tuple[Path, Path]]:
    out = []
    for exp in sorted(FIXTURES.glob("*/bad/**/*.expected")):
        stem = exp.with_suffix("")
        targets = [p for p in exp.parent.glob(stem.name + ".*") if p.suffix != ".expected"]
        assert len(targets) == 1, f"{exp}: expected exactly one file named {stem.name}.*"
        out.append((targets[0], exp))
    for exp in sorted(FIXTURES.glob("*/bad/**/expected")):
        out.append((exp.parent, exp))
    return out


def _expected(path: Path) -> tuple[list[str], tuple[str, ...]]:
    lines = []
    select: tuple[str, ...] = ()
    for raw in path.read_text("utf-8").splitlines():
        s = raw.split("#", 1)[0].strip()
        if s.startswith("select:"):
            select = tuple(c.strip() for c in s[len("select:") :].split(",") if c.strip())
        elif s:
            lines.append(s)
    return sorted(lines), select


@pytest.mark.parametrize("path", _good(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_good_fixture_is_clean(path: Path) -> None:
    diags = lint_paths([path], SETTINGS)
    # EX013 (info) only says which built-in cluster profile a SLURM plan compiles for
    assert [f"{d.line}:{d.column}: {d.code} {d.message}" for d in diags
            if d.code != "EX013"] == []


@pytest.mark.parametrize("target,expected", _bad(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_bad_fixture_diagnostics(target: Path, expected: Path) -> None:
    want, select = _expected(expected)
    files = discover([target]) if target.is_dir() else [target]
    diags = lint_paths(files, Settings(root=FIXTURES, select=select))
    got = sorted(
        (f"{Path(d.path).name}:" if target.is_dir() else "") + f"{d.line}:{d.column}: {d.code}"
        for d in diags
    )
    assert got == want, "\n".join(
        f"{d.path}:{d.line}:{d.column}: {d.code} {d.message}" for d in diags
    )


def test_fixture_folders_are_not_empty() -> None:
    assert _good(), "no good fixtures found"
    assert _bad(), "no bad fixtures found"


@pytest.mark.parametrize(("text", "kind"), [
    ("## Test Plan: login flow\n\n### Objective\nTest it.\n", None),
    ("## Implementation Plan: x\n\n### Approach\n1. a\n", None),
    ("# Run Plan: g\n\nSome notes about a run plan.\n", None),
    ("## 📋 Plan: x\n\n### Objective\nFind y.\n", "plan"),
    ("## ðŸ“‹ Plan: x\n\n### Objective\nFind y.\n", "plan"),
    ("# Run Plan: g\n\n## Overview\n- **Type**: grid\n", "run-group"),
])
def test_kind_detection_weighs_title_and_sections(text: str, kind: str | None) -> None:
    """Issue 10 (1): a title alone does not make a kind (CM007, not a cascade)."""
    from compiler.document import load

    assert load("x.md", text=text).kind == kind
