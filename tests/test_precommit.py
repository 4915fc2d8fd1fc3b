"""The published pre-commit hook (``.pre-commit-hooks.yaml``) and this repository's own
``.pre-commit-config.yaml``.

The hook's ``files`` pattern must select exactly what ``planc lint`` checks in a folder
(``*.md`` and ``runs_status.yaml``), its entry must be the installed console script, and the
repository's own hook must cover the shipped ``plans/`` and pass on them. When the
``pre-commit`` package is installed (the ``test`` extra), its own validators check both files.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from compiler.lint import discover

from .conftest import ROOT, need_or_skip, run_planc

HOOKS = ROOT / ".pre-commit-hooks.yaml"
CONFIG = ROOT / ".pre-commit-config.yaml"
SHOULD_MATCH = ["plans/lr-sweep.md", "a/b/runs_plan.md", "runs_status.yaml",
                "build/plans/g/runs_status.yml", "README.md", "docs/x y.md",
                "ck/exp/experiment_summary.yaml", "experiment_summary_v2.yml"]
SHOULD_NOT = ["pyproject.toml", "config.yaml", "runs_status.yaml.bak", "plan.mdx", "x.md.txt",
              "other_status.yaml", "plans/fig.png", "experiment_summary.yaml/x.txt"]


def _hook() -> dict:
    hooks = yaml.safe_load(HOOKS.read_text("utf-8"))
    assert isinstance(hooks, list) and len(hooks) == 1
    return hooks[0]


def _local_hook() -> dict:
    config = yaml.safe_load(CONFIG.read_text("utf-8"))
    repos = [r for r in config["repos"] if r["repo"] == "local"]
    hooks = [h for r in repos for h in r["hooks"] if h["id"] == "planc-lint"]
    assert len(hooks) == 1
    return hooks[0]


def _shipped_plans() -> list[str]:
    files = discover([ROOT / "plans"]) if (ROOT / "plans").is_dir() else []
    return [p.relative_to(ROOT).as_posix() for p in files]


def test_published_hook() -> None:
    hook = _hook()
    assert hook["id"] == "planc-lint"
    assert hook["entry"] == "planc lint"
    assert hook["language"] == "python"
    assert hook["require_serial"] is False
    assert hook["files"] == r"(\.md|runs_status\.ya?ml|experiment_summary[^/]*\.ya?ml)$"
    assert hook.get("pass_filenames", True) is True  # planc lint takes the staged files


def test_hook_entry_is_the_console_script() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    for hook in (_hook(), _local_hook()):
        program, *args = hook["entry"].split()
        assert program in scripts
        module, func = scripts[program].split(":")
        assert callable(getattr(importlib.import_module(module), func))
        assert args == ["lint"]


@pytest.mark.parametrize("name", SHOULD_MATCH)
def test_files_pattern_selects_plans(name: str) -> None:
    # pre-commit applies `files` with re.search to the repository-relative path
    assert re.search(_hook()["files"], name)


@pytest.mark.parametrize("name", SHOULD_NOT)
def test_files_pattern_skips_other_files(name: str) -> None:
    assert not re.search(_hook()["files"], name)


def test_files_pattern_agrees_with_lint_discovery(tmp_path: Path) -> None:
    """What the hook hands to ``planc lint`` is what ``planc lint <folder>`` would check."""
    for name in SHOULD_MATCH + SHOULD_NOT:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# x\n", "utf-8")
    found = {p.relative_to(tmp_path).as_posix() for p in discover([tmp_path])}
    pattern = _hook()["files"]
    assert found == {n for n in SHOULD_MATCH + SHOULD_NOT if re.search(pattern, n)}
    assert found == set(SHOULD_MATCH)


def test_repository_hook_covers_exactly_the_shipped_plans() -> None:
    hook = _local_hook()
    assert hook["entry"] == "planc lint"
    assert hook["language"] in ("system", "python")
    assert hook["files"].startswith("^plans/")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    names = tracked.stdout.splitlines() if tracked.returncode == 0 else []
    names += _shipped_plans()
    selected = {n for n in names if re.search(hook["files"], n)}
    assert selected == set(_shipped_plans())
    for fixture in ("tests/fixtures/common/bad/secret.md", "README.md", "pyproject.toml"):
        assert not re.search(hook["files"], fixture)


def test_repository_hook_passes_on_the_shipped_plans() -> None:
    plans = _shipped_plans()
    if not plans:
        pytest.skip("no shipped plans under plans/ yet")
    # pre-commit runs the entry with the matching staged files as arguments
    proc = run_planc("lint", *plans)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _pre_commit(*args: str) -> subprocess.CompletedProcess[str]:
    need_or_skip(importlib.util.find_spec("pre_commit") is not None,
                 "pre-commit is not installed (pip install -e '.[test]')")
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_pre_commit_validates_the_manifest() -> None:
    proc = _pre_commit("validate-manifest", str(HOOKS))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_pre_commit_validates_the_config() -> None:
    proc = _pre_commit("validate-config", str(CONFIG))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Unexpected key" not in proc.stdout + proc.stderr


def test_pre_commit_rejects_a_broken_manifest(tmp_path: Path) -> None:
    """The validator is real: a hook without ``entry`` fails validation."""
    broken = tmp_path / "hooks.yaml"
    hook = dict(_hook())
    del hook["entry"]
    broken.write_text(yaml.safe_dump([hook]), "utf-8")
    proc = _pre_commit("validate-manifest", str(broken))
    assert proc.returncode != 0
