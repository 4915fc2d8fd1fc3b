"""Inline suppressions: ``<!-- planc: ignore CODE -->`` in markdown, ``# planc: ignore CODE``
in YAML.

``ignore`` covers its own line and the next non-blank line; ``ignore-file`` the whole file.
A code may be a full code (``CM005``), a two-letter family prefix (``CM``, ``PL``) or
``all``; several are separated by commas. Nothing else is hidden: other codes, and other
lines, still report.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.config import Settings
from compiler.document import load
from compiler.lint import lint_document

from .conftest import run_planc

TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
HEAD = "---\nkind: plan\n---\n"  # three lines; the heading is line 4


def _lint(text: str, name: str = "plan.md") -> list[tuple[int, str]]:
    doc = load(name, text=text)
    return [(d.line, d.code) for d in lint_document(doc, Settings(select=("CM",)))]


def test_baseline_without_suppression() -> None:
    text = HEAD + "## 📋 Plan: {title}\n\n- GPU count: <N>\n"
    assert _lint(text) == [(4, "CM005"), (6, "CM005")]


def test_same_line() -> None:
    # a trailing comment covers its own line (and, like any ignore, the next non-blank one)
    text = (HEAD + "## 📋 Plan: x\n\n- GPU count: <N> <!-- planc: ignore CM005 -->\n\n"
            "- Nodes: {nodes}\n- Memory: {memory}\n")
    assert _lint(text) == [(9, "CM005")]


def test_next_non_blank_line() -> None:
    text = (HEAD + "## 📋 Plan: x\n\n<!-- planc: ignore CM005 -->\n\n\n- GPU count: <N>\n"
            "- Nodes: {nodes}\n")
    assert _lint(text) == [(10, "CM005")]


def test_only_the_named_code() -> None:
    text = (HEAD + "## 📋 Plan: x\n\n<!-- planc: ignore CM006 -->\n"
            f"- GPU count: <N> X-Auth-Token: {TOKEN}\n")
    assert _lint(text) == [(7, "CM005")]
    text = text.replace("ignore CM006", "ignore CM006, CM005")
    assert _lint(text) == []


def test_prefix_and_all() -> None:
    body = f"## 📋 Plan: x\n\n- GPU count: <N> X-Auth-Token: {TOKEN}\n"
    assert _lint(HEAD + body) == [(6, "CM005"), (6, "CM006")]
    assert _lint(HEAD + body.replace("\n- GPU", "\n<!-- planc: ignore CM -->\n- GPU")) == []
    assert _lint(HEAD + body.replace("\n- GPU", "\n<!-- planc: ignore all -->\n- GPU")) == []
    assert _lint(HEAD + body.replace("\n- GPU", "\n<!-- planc: ignore PL -->\n- GPU")) == [
        (7, "CM005"), (7, "CM006")]


def test_ignore_file_anywhere_in_the_file() -> None:
    text = HEAD + "## 📋 Plan: {title}\n\n- GPU count: <N>\n\n<!-- planc: ignore-file CM005 -->\n"
    assert _lint(text) == []
    text = HEAD + "## 📋 Plan: {title}\n<!-- planc: ignore-file CM006 -->\n- {n}\n"
    assert _lint(text) == [(4, "CM005"), (6, "CM005")]
    assert _lint("<!-- planc: ignore-file all -->\n" + HEAD.replace("kind: plan", "kind: nope")
                 + "# {x}\n") == []


def test_suppression_does_not_reach_further_lines() -> None:
    text = HEAD + "## 📋 Plan: x\n<!-- planc: ignore CM005 -->\n- {a}\n- {b}\n"
    assert _lint(text) == [(7, "CM005")]


def test_suppression_in_code_blocks_and_loading_errors() -> None:
    text = ("# Notes\n\n<!-- planc: ignore CM006 -->\n```bash\n"
            f'curl -H "X-Auth-Token: {TOKEN}" http://h/\n```\n')
    # the comment covers the fence line, not the line inside the block
    assert _lint(text) == [(1, "CM007"), (5, "CM006")]
    text = text.replace("```bash\n", "```bash\n# planc: ignore CM006\n")
    assert _lint(text) == [(1, "CM007")]
    broken = "---\nkind: plan\ntitle: [unclosed\n---\n## 📋 Plan: x\n"
    assert [c for _, c in _lint(broken)] == ["CM001"]
    assert _lint(broken + "<!-- planc: ignore-file CM001 -->\n") == []


def test_unrelated_comments_are_not_suppressions() -> None:
    text = HEAD + "## 📋 Plan: x\n<!-- planc: please ignore CM005 -->\n- {n}\n"
    assert _lint(text) == [(6, "CM005")]
    text = HEAD + "## 📋 Plan: x\n<!-- planc: ignore cm005 -->\n- {n}\n"
    assert _lint(text) == [(6, "CM005")]


STATUS = f"""schema_version: 1
runs:
  - id: r1
    note: "X-Auth-Token: {TOKEN}"
"""


@pytest.mark.parametrize("name", ["runs_status.yaml", "runs_status.yml"])
def test_yaml_comments(name: str) -> None:
    assert (4, "CM006") in _lint(STATUS, name)
    same_line = STATUS.replace(f'{TOKEN}"', f'{TOKEN}"  # planc: ignore CM006')
    assert (4, "CM006") not in _lint(same_line, name)
    line_before = STATUS.replace("    note:", "    # planc: ignore CM006\n    note:")
    assert (5, "CM006") not in [(ln, c) for ln, c in _lint(line_before, name)]
    assert "CM006" not in [c for _, c in _lint("# planc: ignore-file CM\n" + STATUS, name)]


def test_yaml_suppression_of_a_parse_error() -> None:
    broken = "runs: [\n  - id: x\n"
    assert [c for _, c in _lint(broken, "runs_status.yaml")] == ["CM001"]
    assert _lint("# planc: ignore-file CM001\n" + broken, "runs_status.yaml") == []


def test_through_the_cli(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.planc]\n", "utf-8")
    plan = tmp_path / "p.md"
    plan.write_text(HEAD + "## 📋 Plan: x\n<!-- planc: ignore CM005 -->\n- {n}\n- {m}\n", "utf-8")
    proc = run_planc("lint", "--format", "json", "--select", "CM", str(plan), cwd=tmp_path)
    assert proc.returncode == 1
    assert [(d["line"], d["code"]) for d in json.loads(proc.stdout)] == [(7, "CM005")]
    plan.write_text(HEAD + "## 📋 Plan: x\n<!-- planc: ignore CM005 -->\n- {n}\n", "utf-8")
    proc = run_planc("lint", "--select", "CM", str(plan), cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == ""
