"""``planc lint`` stays light: it never imports jinja2, MkDocs or NVML.

The pre-commit case starts a fresh process per commit, so every import counts (see
``bench/lint_bench.py``). The check runs in a subprocess, so modules the test session has
already imported do not hide a regression.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import FIXTURES, ROOT

HEAVY = ("jinja2", "mkdocs", "material", "pynvml", "inspect_ai")
LINT_FILES = [
    FIXTURES / "common" / "bad" / "secret.md",
    FIXTURES / "common" / "bad" / "frontmatter.md",
    FIXTURES / "common" / "good" / "clean-notes.md",
]

_SCRIPT = """
import json, sys
import compiler.cli, compiler.lint, compiler.commands.lint
from compiler.cli import main
code = main(sys.argv[1:])
mods = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
sys.stderr.write("\\nMODULES=" + json.dumps(mods) + "\\n")
sys.stderr.write("EXIT=" + str(code) + "\\n")
"""


def _imported(*argv: str) -> tuple[list[str], int]:
    proc = subprocess.run([sys.executable, "-c", _SCRIPT.format(heavy=set(HEAVY)), *argv],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = proc.stderr.splitlines()
    mods = next(line for line in lines if line.startswith("MODULES="))
    code = next(line for line in lines if line.startswith("EXIT="))
    return json.loads(mods[len("MODULES="):]), int(code[len("EXIT="):])


def _plans() -> list[str]:
    found = sorted((ROOT / "plans").rglob("*.md")) + sorted((ROOT / "plans").rglob("*.yaml"))
    return [str(p) for p in found]


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif", "gitlab"])
def test_lint_imports_no_heavy_module(fmt: str) -> None:
    mods, code = _imported("lint", "--jobs", "1", "--format", fmt,
                           *map(str, LINT_FILES), *_plans())
    assert code in (0, 1)
    assert mods == []


def test_lint_with_cache_imports_no_heavy_module(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "pyproject.toml").write_text("[tool.planc]\ncache = true\n", "utf-8")
    target = tmp_path / "p.md"
    target.write_bytes(LINT_FILES[0].read_bytes())
    for _ in range(2):  # cold and warm cache
        mods, code = _imported("lint", str(target))
        assert code == 1 and mods == []


@pytest.mark.parametrize("argv", [("rules",), ("rules", "--format", "json"), ("explain", "CM005")])
def test_rules_and_explain_import_no_heavy_module(argv: tuple[str, ...]) -> None:
    mods, code = _imported(*argv)
    assert code == 0 and mods == []


def test_the_check_sees_heavy_imports() -> None:
    """The subprocess check would notice a heavy import (jinja2 is installed)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import jinja2, sys; print('jinja2' in sys.modules)"],
        capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "True"
