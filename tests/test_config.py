"""``[tool.planc]`` loading in a temporary project.

Every configuration problem is a ``CF`` diagnostic located in ``pyproject.toml`` (CF001
broken TOML, CF002 unknown key/rule/option with a "did you mean", CF003 wrong type or
value); all are gathered in one run, and any of them makes ``planc lint`` exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.config import Settings, find_pyproject, load_settings
from compiler.rules import BUILTIN_CODES, BY_CODE

from .conftest import run_planc

KNOWN = set(BY_CODE) | set(BUILTIN_CODES)
OPTIONS = {code: dict(getattr(rule, "OPTIONS", {})) for code, rule in BY_CODE.items()}
SECRET = '# Notes\n\n```bash\ncurl -H "X-Auth-Token: 9f8e7d6c5b4a39281706f5e4d3c2b1a0" http://h/\n```\n'
# lints to: 1:1 CM007 (warning), 4:24 CM006 (error)


def _project(tmp_path: Path, planc_table: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "p"\n\n[tool.planc]\n{planc_table}', "utf-8")
    (tmp_path / "plans").mkdir(exist_ok=True)
    (tmp_path / "plans" / "secret.md").write_text(SECRET, "utf-8")
    return tmp_path


def _load(project: Path) -> tuple[Settings, list[tuple[int, str, str]]]:
    settings, diags = load_settings(project, KNOWN)
    return settings, [(d.line, d.code, d.message) for d in diags]


def _lint(project: Path, *args: str) -> tuple[int, list[tuple[str, str, int, str]]]:
    proc = run_planc("lint", "--format", "json", *args, cwd=project)
    assert "Traceback" not in proc.stderr, proc.stderr
    data = json.loads(proc.stdout)
    return proc.returncode, [(Path(d["path"]).name, d["code"], d["line"], d["severity"])
                             for d in data]


# -- good configuration ------------------------------------------------------------------
def test_defaults_without_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\n', "utf-8")
    settings, diags = load_settings(tmp_path, KNOWN)
    assert diags == []
    assert settings.root == tmp_path.resolve()
    assert (settings.select, settings.ignore, settings.strict, settings.cache) == ((), (), False,
                                                                                 False)
    assert settings.paths == ("plans",)


def test_every_key_is_read(tmp_path: Path) -> None:
    project = _project(tmp_path, (
        'select = ["CM", "PL001"]\nignore = ["CM007"]\nexclude = ["plans/drafts/*"]\n'
        'paths = ["plans", "more"]\nstrict = true\ncache = true\nclusters = "profiles"\n'
        'cluster = "della"\nmodels = "models.yaml"\ntemplates = "tpl"\nout = "build/x"\n'
        '[tool.planc.severity]\nCM006 = "warning"\nCM007 = "off"\n'
        '[tool.planc.rules.CM006]\nmin_length = 12\n'))
    settings, diags = _load(project)
    assert diags == []
    assert settings.select == ("CM", "PL001") and settings.ignore == ("CM007",)
    assert settings.exclude == ("plans/drafts/*",) and settings.paths == ("plans", "more")
    assert settings.strict is True and settings.cache is True
    assert (settings.clusters, settings.cluster, settings.models) == ("profiles", "della",
                                                                      "models.yaml")
    assert (settings.templates, settings.out) == ("tpl", "build/x")
    assert settings.severity == {"CM006": "warning", "CM007": "off"}
    assert settings.rules == {"CM006": {"min_length": 12}}
    assert not settings.enabled("CM007") and settings.enabled("CM006")
    assert not settings.enabled("RS001")  # not selected


def test_select_and_ignore_from_config(tmp_path: Path) -> None:
    project = _project(tmp_path, 'select = ["CM006"]\n')
    assert _lint(project) == (1, [("secret.md", "CM006", 4, "error")])
    project = _project(tmp_path, 'ignore = ["CM006"]\n')
    assert _lint(project) == (0, [("secret.md", "CM007", 1, "warning")])
    # the command line adds to ignore and replaces select
    assert _lint(project, "--ignore", "CM007") == (0, [])
    assert _lint(project, "--select", "CM006") == (0, [])


def test_per_rule_severity(tmp_path: Path) -> None:
    project = _project(tmp_path, '[tool.planc.severity]\nCM006 = "warning"\nCM007 = "error"\n')
    assert _lint(project) == (1, [("secret.md", "CM007", 1, "error"),
                                  ("secret.md", "CM006", 4, "warning")])
    project = _project(tmp_path, '[tool.planc.severity]\nCM006 = "info"\nCM007 = "off"\n')
    assert _lint(project) == (0, [("secret.md", "CM006", 4, "info")])
    assert _lint(project, "--strict")[0] == 0  # info never fails


def test_per_rule_options(tmp_path: Path) -> None:
    project = _project(tmp_path, "[tool.planc.rules.CM006]\nmin_length = 40\n")
    assert _lint(project) == (0, [("secret.md", "CM007", 1, "warning")])
    project = _project(tmp_path, "[tool.planc.rules.CM006]\nmin_length = 32\n")
    assert _lint(project)[1][-1] == ("secret.md", "CM006", 4, "error")


def test_exclude_globs(tmp_path: Path) -> None:
    project = _project(tmp_path, 'exclude = ["*/drafts/*"]\n')
    (project / "plans" / "drafts").mkdir()
    (project / "plans" / "drafts" / "d.md").write_text(SECRET, "utf-8")
    rc, got = _lint(project, "--select", "CM006")
    assert {name for name, *_ in got} == {"secret.md"}


# -- every problem gathered --------------------------------------------------------------
def test_unknown_keys_with_did_you_mean(tmp_path: Path) -> None:
    project = _project(tmp_path, 'selct = ["CM"]\nignroe = ["CM007"]\nzzz = 1\n')
    _, diags = _load(project)
    assert diags == [
        (5, "CF002", "unknown key 'selct' in [tool.planc]; did you mean 'select'?"),
        (6, "CF002", "unknown key 'ignroe' in [tool.planc]; did you mean 'ignore'?"),
        (7, "CF002", "unknown key 'zzz' in [tool.planc]"),
    ]


def test_wrong_types_are_all_reported(tmp_path: Path) -> None:
    project = _project(tmp_path, (
        'select = "CM"\nignore = [1, 2]\nstrict = "yes"\ncache = 1\nclusters = ["a"]\n'
        '[tool.planc.severity]\nCM006 = "fatal"\n'
        '[tool.planc.rules]\nCM007 = 3\n'))
    settings, diags = _load(project)
    assert [(line, code) for line, code, _ in diags] == [
        (5, "CF003"), (6, "CF003"), (7, "CF003"), (8, "CF003"), (9, "CF003"), (11, "CF003"),
        (13, "CF003")]
    messages = [m for *_, m in diags]
    assert messages[0] == "[tool.planc] select must be a list, not str"
    assert messages[1] == "[tool.planc] ignore must be a list of strings"
    assert "must be one of ['error', 'info', 'off', 'warning'], not 'fatal'" in messages[5]
    assert messages[6] == "options of CM007 must be a table"
    assert settings.select == () and settings.strict is False  # bad values are not applied


def test_unknown_rule_codes_and_options(tmp_path: Path) -> None:
    project = _project(tmp_path, (
        '[tool.planc.severity]\nZZ001 = "off"\n'
        '[tool.planc.rules.CM006]\nmin_lenght = 3\n'
        '[tool.planc.rules.ZZ002]\nx = 1\n'))
    rc, got = _lint(project)
    assert rc == 2
    config = [(name, code, line) for name, code, line, _ in got if code.startswith("CF")]
    assert config == [("pyproject.toml", "CF002", 6), ("pyproject.toml", "CF002", 8),
                      ("pyproject.toml", "CF002", 9)]
    proc = run_planc("lint", "--format", "json", cwd=project)
    messages = [d["message"] for d in json.loads(proc.stdout) if d["code"] == "CF002"]
    assert "severity set for unknown rule 'ZZ001'" in messages[0]
    assert "rule CM006 has no option 'min_lenght'; did you mean 'min_length'?" in messages[1]
    assert "options set for unknown rule 'ZZ002'" in messages[2]


def test_wrong_option_type_is_a_config_error_not_a_crash(tmp_path: Path) -> None:
    project = _project(tmp_path, '[tool.planc.rules.CM006]\nmin_length = "long"\n')
    rc, got = _lint(project)
    assert rc == 2
    assert [(code, line) for name, code, line, _ in got if name == "pyproject.toml"] == [
        ("CF003", 6)]
    assert "PC999" not in [code for _, code, _, _ in got]


def test_broken_toml(tmp_path: Path) -> None:
    project = _project(tmp_path, 'select = ["CM"\nstrict = true\n')
    settings, diags = _load(project)
    assert len(diags) == 1
    line, code, message = diags[0]
    assert code == "CF001" and message.startswith("invalid TOML")
    assert line == 6  # tomllib reports the unclosed array where it gives up
    rc, got = _lint(project)
    assert rc == 2 and got[0][:2] == ("pyproject.toml", "CF001")
    assert settings == Settings(root=project.resolve(), pyproject=settings.pyproject)


def test_planc_table_not_a_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool]\nplanc = 3\n', "utf-8")
    _, diags = load_settings(tmp_path, KNOWN)
    assert [(d.code, d.message) for d in diags] == [("CF003", "[tool.planc] must be a table")]


def test_problems_exit_2_even_when_files_are_clean(tmp_path: Path) -> None:
    project = _project(tmp_path, 'selct = 1\nstrict = "no"\n')
    (project / "plans" / "secret.md").write_text("---\nkind: plan\n---\n## 📋 Plan: x\n",
                                                 "utf-8")
    proc = run_planc("lint", "--select", "CM", cwd=project)
    assert proc.returncode == 2
    assert [line.split(": ")[1].split()[0] for line in proc.stdout.splitlines()] == [
        "CF002", "CF003"]
    assert all(line.startswith("pyproject.toml:") for line in proc.stdout.splitlines())


# -- discovery -----------------------------------------------------------------------------
def test_nearest_pyproject_with_planc_table_wins(tmp_path: Path) -> None:
    outer = _project(tmp_path, 'ignore = ["CM007"]\n')
    inner = outer / "sub" / "pkg"
    inner.mkdir(parents=True)
    (inner / "pyproject.toml").write_text('[project]\nname = "inner"\n', "utf-8")
    deep = inner / "plans" / "x"
    deep.mkdir(parents=True)
    target = deep / "n.md"
    target.write_text("# Notes\n", "utf-8")
    assert find_pyproject(target) == (outer / "pyproject.toml").resolve()
    # a nearer pyproject with a [tool.planc] table wins over the outer one
    (inner / "pyproject.toml").write_text('[tool.planc]\nselect = ["CM007"]\n', "utf-8")
    assert find_pyproject(deep) == (inner / "pyproject.toml").resolve()
    settings, _ = load_settings(target, KNOWN)
    assert settings.root == inner.resolve() and settings.select == ("CM007",)
    # config is found from the linted path, not from the working directory
    proc = run_planc("lint", "--format", "json", str(target), cwd=outer)
    assert [d["code"] for d in json.loads(proc.stdout)] == ["CM007"]


def test_nearest_pyproject_without_table_is_used_when_none_has_one(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\n', "utf-8")
    (tmp_path / "a").mkdir()
    assert find_pyproject(tmp_path / "a") == (tmp_path / "pyproject.toml").resolve()


@pytest.mark.parametrize("body", ["[tool.planc\n", "= 1\n"])
def test_broken_nearer_pyproject_is_reported_not_skipped(tmp_path: Path, body: str) -> None:
    _project(tmp_path, "")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pyproject.toml").write_text(body, "utf-8")
    _, diags = load_settings(tmp_path / "sub", KNOWN)
    assert [d.code for d in diags] == ["CF001"]
