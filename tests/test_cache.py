"""The content-hash lint cache: same results as uncached lint, and never a stale hit.

Each test lints once (filling the cache), changes one input the result depends on (a rule
option, a severity, ignore, the file, the sibling plan of a status file, a rule's default),
lints again and compares with an uncached lint of the same state.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler import cache
from compiler.config import Settings, load_settings
from compiler.lint import lint_paths
from compiler.rules import BY_CODE

from .conftest import FIXTURES, run_planc

SECRET = '# Notes\n\n```bash\ncurl -H "X-Auth-Token: 9f8e7d6c5b4a39281706f5e4d3c2b1a0" http://h/\n```\n'


def _codes(diags) -> list[tuple[int, int, str, str]]:  # type: ignore[no-untyped-def]
    return [(d.line, d.column, d.code, d.severity.value) for d in diags]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "plans").mkdir()
    for src in sorted((FIXTURES / "common" / "bad").glob("*.md")):
        (tmp_path / "plans" / src.name).write_bytes(src.read_bytes())
    (tmp_path / "plans" / "secret.md").write_text(SECRET, "utf-8")
    return tmp_path


def _files(project: Path) -> list[Path]:
    return sorted((project / "plans").glob("*.md"))


def _entries(project: Path) -> list[Path]:
    return sorted((project / cache.CACHE_DIR).rglob("*.json"))


def test_cached_equals_uncached_and_second_run_hits(project: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(root=project)
    first = cache.lint_cached(_files(project), settings)
    assert first == lint_paths(_files(project), settings)
    assert len(_entries(project)) == len(_files(project))
    assert (project / cache.CACHE_DIR / "CACHEDIR.TAG").read_text().startswith("Signature: ")

    def boom(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("a cache hit must not lint again")

    monkeypatch.setattr("compiler.lint.lint_paths", boom)
    assert cache.lint_cached(_files(project), settings) == first


def test_rule_option_change_is_not_hidden(project: Path) -> None:
    files = [project / "plans" / "secret.md"]
    before = cache.lint_cached(files, Settings(root=project))
    assert [d.code for d in before] == ["CM007", "CM006"]
    longer = Settings(root=project, rules={"CM006": {"min_length": 64}})
    after = cache.lint_cached(files, longer)
    assert [d.code for d in after] == ["CM007"]
    assert after == lint_paths(files, longer)


def test_severity_and_ignore_changes_are_not_hidden(project: Path) -> None:
    files = [project / "plans" / "secret.md"]
    cache.lint_cached(files, Settings(root=project))
    warn = Settings(root=project, severity={"CM006": "warning"})
    assert [d.severity.value for d in cache.lint_cached(files, warn)] == ["warning", "warning"]
    off = Settings(root=project, severity={"CM006": "off"})
    assert [d.code for d in cache.lint_cached(files, off)] == ["CM007"]
    ignored = Settings(root=project, ignore=("CM007",))
    assert [d.code for d in cache.lint_cached(files, ignored)] == ["CM006"]
    selected = Settings(root=project, select=("CM006",))
    assert [d.code for d in cache.lint_cached(files, selected)] == ["CM006"]


def test_rule_default_change_is_not_hidden(project: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    files = [project / "plans" / "secret.md"]
    settings = Settings(root=project)
    assert "CM006" in [d.code for d in cache.lint_cached(files, settings)]
    monkeypatch.setitem(BY_CODE["CM006"].OPTIONS, "min_length", 64)
    assert [d.code for d in cache.lint_cached(files, settings)] == ["CM007"]
    monkeypatch.setattr(BY_CODE["CM007"], "SEVERITY", "error")
    assert [d.severity.value for d in cache.lint_cached(files, settings)] == ["error"]


def test_source_change_changes_the_fingerprint(monkeypatch: pytest.MonkeyPatch) -> None:
    before = cache.rules_fingerprint()
    monkeypatch.setattr(cache, "_source_hash", "0" * 64)
    assert cache.rules_fingerprint() != before


def test_file_edit_is_not_hidden(project: Path) -> None:
    target = project / "plans" / "secret.md"
    settings = Settings(root=project)
    assert len(cache.lint_cached([target], settings)) == 2
    target.write_text("---\nkind: plan\n---\n## 📋 Plan: Clean\n\nNothing here.\n", "utf-8")
    assert cache.lint_cached([target], settings) == lint_paths([target], settings)


def test_status_file_key_covers_sibling_plan(tmp_path: Path) -> None:
    status = tmp_path / "runs_status.yaml"
    status.write_text("runs: []\n", "utf-8")
    base = cache.rules_fingerprint()
    without = cache.file_key(status, status.read_bytes(), base)
    (tmp_path / "runs_plan.md").write_text("# Run Plan: a\n", "utf-8")
    with_plan = cache.file_key(status, status.read_bytes(), base)
    (tmp_path / "runs_plan.md").write_text("# Run Plan: b\n", "utf-8")
    changed = cache.file_key(status, status.read_bytes(), base)
    assert len({without, with_plan, changed}) == 3


def test_corrupted_entries_are_ignored(project: Path) -> None:
    settings = Settings(root=project)
    first = cache.lint_cached(_files(project), settings)
    entries = _entries(project)
    garbage = [b"", b"{not json", b"[]", json.dumps({"format": 1}).encode(),
               json.dumps({"format": 1, "diagnostics": [{"line": "x"}]}).encode(),
               json.dumps({"format": 1, "diagnostics": [
                   {"line": 1, "column": 1, "code": "CM005", "severity": "fatal",
                    "message": "m", "name": "n", "fix": None}]}).encode(),
               b"\xff\xfe\x00"]
    for entry, junk in zip(entries, garbage * 3, strict=False):
        entry.write_bytes(junk)
    assert cache.lint_cached(_files(project), settings) == first
    # and the corrupted entries were rewritten
    assert cache.lint_cached(_files(project), settings) == first


def test_cache_through_the_cli_follows_config_changes(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text('[project]\nname = "p"\n[tool.planc]\ncache = true\n', "utf-8")
    target = str(project / "plans" / "secret.md")
    first = run_planc("lint", "--format", "json", target, cwd=project)
    assert first.returncode == 1, first.stderr
    assert [d["code"] for d in json.loads(first.stdout)] == ["CM007", "CM006"]
    assert _entries(project), "cache = true must store entries"
    pyproject.write_text('[project]\nname = "p"\n[tool.planc]\ncache = true\n'
                         '[tool.planc.rules.CM006]\nmin_length = 64\n', "utf-8")
    second = run_planc("lint", "--format", "json", target, cwd=project)
    assert [d["code"] for d in json.loads(second.stdout)] == ["CM007"]
    assert second.returncode == 0
    pyproject.write_text('[project]\nname = "p"\n[tool.planc]\ncache = true\n'
                         '[tool.planc.severity]\nCM007 = "error"\n'
                         '[tool.planc.rules.CM006]\nmin_length = 64\n', "utf-8")
    third = run_planc("lint", "--format", "json", target, cwd=project)
    assert [(d["code"], d["severity"]) for d in json.loads(third.stdout)] == [("CM007", "error")]
    assert third.returncode == 1


def test_cache_is_off_by_default_and_no_cache_flag(project: Path) -> None:
    settings, diags = load_settings(project)
    assert diags == [] and settings.cache is False
    target = str(project / "plans" / "secret.md")
    run_planc("lint", target, cwd=project)
    assert not (project / cache.CACHE_DIR).exists()
    (project / "pyproject.toml").write_text("[tool.planc]\ncache = true\n", "utf-8")
    run_planc("lint", "--no-cache", target, cwd=project)
    assert not (project / cache.CACHE_DIR).exists()


def test_unreadable_project_root_still_lints(project: Path) -> None:
    (project / cache.CACHE_DIR).write_text("not a folder", "utf-8")  # mkdir will fail
    settings = Settings(root=project)
    assert cache.lint_cached(_files(project), settings) == lint_paths(_files(project), settings)


def test_internal_errors_are_not_cached(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(ctx):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")
        yield

    monkeypatch.setattr(BY_CODE["CM007"], "check", crash)
    files = [project / "plans" / "secret.md"]
    assert "PC999" in [d.code for d in cache.lint_cached(files, Settings(root=project))]
    assert _entries(project) == []


def test_cache_flag_turns_it_on(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.planc]\n", "utf-8")
    target = str(project / "plans" / "secret.md")
    proc = run_planc("lint", "--cache", "--format", "json", target, cwd=project)
    assert proc.returncode == 1
    assert len(_entries(project)) == 1
    again = run_planc("lint", "--cache", "--format", "json", target, cwd=project)
    assert json.loads(again.stdout) == json.loads(proc.stdout)
    both = run_planc("lint", "--cache", "--no-cache", target, cwd=project)
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_cluster_profiles_and_model_registry_are_in_the_key(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, models="models.yaml")
    before = cache._settings_fingerprint(settings)
    (tmp_path / "clusters").mkdir()
    (tmp_path / "clusters" / "della.yaml").write_text("name: della\n", "utf-8")
    with_profile = cache._settings_fingerprint(settings)
    (tmp_path / "clusters" / "della.yaml").write_text("name: della\ngpus: 4\n", "utf-8")
    edited = cache._settings_fingerprint(settings)
    (tmp_path / "models.yaml").write_text("models: {}\n", "utf-8")
    registry = cache._settings_fingerprint(settings)
    other = cache._settings_fingerprint(Settings(root=tmp_path, models="models.yaml",
                                                 cluster="della"))
    assert len({before, with_profile, edited, registry, other}) == 5
