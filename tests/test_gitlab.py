"""GitLab: the ``--format gitlab`` reporter and the ``include:``-able CI template.

The reporter's output is validated against ``tests/data/gitlab-code-quality.json``, a JSON
schema written from GitLab's documented code-quality report format (a JSON array of issues
with ``description``, ``check_name``, ``fingerprint``, ``severity`` in info / minor / major /
critical / blocker, ``location.path`` and ``location.lines.begin``).

The template (``ci/planc.gitlab-ci.yml``) is run as a runner would run its ``planc`` job:
``before_script`` and ``script`` in one ``bash -eo pipefail`` shell, ``after_script`` in
another, with the template's variables and the predefined ones (``CI_PIPELINE_SOURCE``,
``CI_COMMIT_BRANCH``, ``CI_DEFAULT_BRANCH``) in the environment, in a temporary git
repository with a good and a bad plan. A ``planc`` of the template's pinned version is on
``PATH`` (this checkout), so the install step installs nothing, as documented.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from compiler.diagnostics import Diagnostic, Severity, format_gitlab

from .conftest import FIXTURES, ROOT, need_or_skip, run_planc
from .test_action import BAD, GOOD, _bad_plan_text, make_repo

TEMPLATE = ROOT / "ci" / "planc.gitlab-ci.yml"
SECRET = FIXTURES / "common" / "bad" / "secret.md"  # CM007 at 1:1, CM006 at 4:24 and 7:32


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def _validator():  # type: ignore[no-untyped-def]
    import importlib.util

    need_or_skip(importlib.util.find_spec("jsonschema") is not None,
                 "jsonschema is not installed (pip install -e '.[test]')")
    import jsonschema

    schema = json.loads((ROOT / "tests" / "data" / "gitlab-code-quality.json").read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _errors(report: object) -> list[str]:
    return [e.message for e in _validator().iter_errors(report)]


# -- the reporter --------------------------------------------------------------------------
def test_gitlab_format_is_a_valid_code_quality_report() -> None:
    rel = SECRET.relative_to(ROOT).as_posix()
    proc = run_planc("lint", "--format", "gitlab", rel)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert _errors(report) == []
    assert [(i["check_name"], i["severity"], i["location"]["path"], i["location"]["lines"])
            for i in report] == [("CM007", "minor", rel, {"begin": 1}),
                                 ("CM006", "major", rel, {"begin": 4}),
                                 ("CM006", "major", rel, {"begin": 7})]
    assert report[1]["description"].startswith("CM006 literal token")
    # one rule twice in one file: distinct fingerprints (GitLab keeps one issue per print)
    assert len({i["fingerprint"] for i in report}) == len(report)
    # stable: the same findings give the same fingerprints next run
    again = json.loads(run_planc("lint", "--format", "gitlab", rel).stdout)
    assert [i["fingerprint"] for i in again] == [i["fingerprint"] for i in report]


def test_gitlab_severities_and_an_empty_report() -> None:
    diags = [Diagnostic("a.md", 2, 1, "XX001", sev, "m", "n", fix="do y")
             for sev in (Severity.ERROR, Severity.WARNING, Severity.INFO)]
    report = json.loads(format_gitlab(diags))
    assert [i["severity"] for i in report] == ["major", "minor", "info"]
    assert report[0]["description"] == "XX001 m (fix: do y)"
    assert _errors(report) == []
    assert json.loads(format_gitlab([])) == [] and _errors([]) == []
    # a Windows path is reported with forward slashes
    (issue,) = json.loads(format_gitlab([Diagnostic("p\\a.md", 1, 1, "X", Severity.INFO, "m")]))
    assert issue["location"]["path"] == "p/a.md"


def test_gitlab_schema_rejects_broken_reports() -> None:
    good = json.loads(format_gitlab([Diagnostic("a.md", 3, 1, "XX001", Severity.ERROR, "m")]))
    assert _errors(good) == []
    for broken in ({"severity": "fatal"}, {"fingerprint": ""},
                   {"location": {"path": "a.md", "lines": {"begin": 0}}},
                   {"location": {"path": "/abs/a.md", "lines": {"begin": 1}}},
                   {"location": {"path": "a.md"}}):
        assert _errors([{**good[0], **broken}]), broken
    assert _errors({"issues": good})


# -- the template --------------------------------------------------------------------------
def test_template_is_pinned_to_this_release() -> None:
    template = yaml.safe_load(TEMPLATE.read_text("utf-8"))
    version = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert template["variables"]["PLANC_VERSION"] == version
    assert "@v${PLANC_VERSION}" in template["variables"]["PLANC_SOURCE"]
    job = template["planc"]
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert job["artifacts"]["when"] == "always"
    assert set(job["artifacts"]["paths"]) == {"gl-code-quality-report.json", "planc-summary.md",
                                              "$PLANC_OUT/"}
    assert job["cache"]["paths"] == [".planc_cache/"]
    assert "stages" not in template  # an included template must not redefine the stages
    assert template["pages"]["artifacts"]["paths"] == ["public/"]


def _run_job(repo: Path, tmp: Path, *, source: str, branch: str | None
             ) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    template = yaml.safe_load(TEMPLATE.read_text("utf-8"))
    job = template["planc"]
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "planc"
    shim.write_text(f'#!/usr/bin/env bash\nexec "{sys.executable}" -m compiler "$@"\n', "utf-8")
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_", "GITLAB_"))}
    env.update({k: str(v) for k, v in template["variables"].items()})
    env.update({"PYTHONPATH": str(ROOT), "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}",
                "PLANC_PYTHON": sys.executable, "GITLAB_CI": "true", "CI": "true",
                "CI_PROJECT_DIR": str(repo), "CI_PIPELINE_SOURCE": source,
                "CI_DEFAULT_BRANCH": "main"})
    if branch is not None:
        env["CI_COMMIT_BRANCH"] = branch

    def shell(lines: list[str], name: str) -> subprocess.CompletedProcess[str]:
        script = tmp / f"{name}.sh"
        script.write_text("\n".join(lines) + "\n", "utf-8")
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=300)

    main = shell([*job["before_script"], *job["script"]], "script")
    after = shell(job["after_script"], "after_script")
    return main, after


def test_merge_request_with_a_bad_plan(repo: Path, tmp_path: Path) -> None:
    main, after = _run_job(repo, tmp_path, source="merge_request_event", branch=None)
    assert main.returncode == 1, main.stdout + main.stderr
    assert "pip install" not in main.stdout and "planc 0.1.0" in main.stdout
    report = json.loads((repo / "gl-code-quality-report.json").read_text("utf-8"))
    assert _errors(report) == []
    assert [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"])
            for i in report if i["severity"] == "major"] == [("CM006", BAD, _bad_plan_text()[1])]
    assert f"{BAD}:{_bad_plan_text()[1]}:" in main.stdout  # the text log names the line
    assert after.returncode == 0, after.stderr
    summary = (repo / "planc-summary.md").read_text("utf-8")
    assert summary.startswith("# planc") and "- **Lint**: 1 error(s)" in summary


def test_default_branch_compiles(repo: Path, tmp_path: Path) -> None:
    shutil.rmtree(repo / Path(BAD).parent)
    main, after = _run_job(repo, tmp_path, source="push", branch="main")
    assert main.returncode == 0, main.stdout + main.stderr
    assert json.loads((repo / "gl-code-quality-report.json").read_text("utf-8")) == []
    manifest = json.loads((repo / "build/plans/lr-sweep/manifest.json").read_text("utf-8"))
    assert manifest["source"]["path"] == GOOD
    summary = (repo / "planc-summary.md").read_text("utf-8")
    readme = (repo / "build/plans/lr-sweep/README.md").read_text("utf-8")
    assert readme.rstrip("\n") in summary
    assert "`planc compile` (artifacts written)" in summary
    # a merge request on top: the uncommitted artifacts are not in the repository → stale
    subprocess.run(["git", "clean", "-qfdx", "build"], cwd=repo, check=True)
    main, _ = _run_job(repo, tmp_path, source="merge_request_event", branch=None)
    assert main.returncode == 1 and ": stale" in main.stdout


def test_template_scripts_pass_shellcheck(tmp_path: Path) -> None:
    need_or_skip(shutil.which("shellcheck") is not None, "shellcheck is not installed")
    template = yaml.safe_load(TEMPLATE.read_text("utf-8"))
    for name in ("planc", "pages"):
        job = template[name]
        for part in ("before_script", "script", "after_script"):
            if part not in job:
                continue
            script = tmp_path / f"{name}-{part}.sh"
            script.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + "\n".join(job[part]),
                              "utf-8")
            proc = subprocess.run(["shellcheck", "-S", "warning", str(script)],
                                  capture_output=True, text=True)
            assert proc.returncode == 0, f"{name}.{part}:\n{proc.stdout}"


@pytest.mark.parametrize("fmt", ["gitlab"])
def test_gitlab_is_a_lint_format_choice(fmt: str) -> None:
    proc = run_planc("lint", "--format", fmt, str(FIXTURES / "common" / "good" / "clean-notes.md"))
    assert proc.returncode == 0 and json.loads(proc.stdout) == []
