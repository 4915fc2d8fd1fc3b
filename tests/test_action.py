"""The GitHub Action (``action.yml``) run step by step, as the runner would run it.

The YAML is parsed and every ``run:`` step is executed with ``bash --noprofile --norc -eo
pipefail`` (what ``shell: bash`` means on a runner) in a temporary git repository holding a
good plan (the shipped ``plans/lr-sweep``) and a bad one (a copy with a secret planted on a
known line). The runner's side is emulated, and only as far as this action uses it:

- ``${{ }}`` expressions: :func:`evaluate` knows exactly the forms the action uses
  (``inputs.X``, ``steps.ID.outputs.X``, ``github.action_path|event_name|ref``, the
  default-branch comparison, ``always()`` and ``inputs.X == 'v'``); any other expression
  fails the test, so a new one must be taught here on purpose;
- the file commands ``GITHUB_OUTPUT``, ``GITHUB_ENV``, ``GITHUB_PATH`` and
  ``GITHUB_STEP_SUMMARY`` (``name=value`` and ``name<<DELIMITER`` forms);
- step conditions: a step without ``if:`` runs only while every earlier step succeeded.

The install step runs for real: ``PYTHONPATH`` points at this checkout, which the action's
``github.action_path`` is too, so it finds planc importable from its own ref and installs
nothing (the documented no-op), then puts its ``planc`` wrapper on the ``GITHUB_PATH``.

Checked: annotations in GitHub's format on the bad plan's file and line, a SARIF log that
validates against the OASIS 2.1.0 schema, exit codes (the bad plan fails the lint; stale
artifacts fail ``compile --check`` naming them; fresh ones pass), the compile on the
default branch (manifest with the plan's sha256 and the commit), the job summary, and the
outputs an upload step would use.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, need_or_skip
from .test_cli import _sarif_validator

ACTION = ROOT / "action.yml"
GOOD_SRC = ROOT / "plans" / "lr-sweep"
GOOD = "plans/lr-sweep/plan.md"
BAD = "plans/lr-sweep-bad/plan.md"
SECRET_LINE = '7. **Report** — `curl -H "X-Auth-Token: 9f8e7d6c5b4a39281706f5e4d3c2b1a0" ' \
    "http://127.0.0.1:10000/runs`"
DEFAULT_BRANCH_EXPR = ("github.ref == format('refs/heads/{0}', "
                       "github.event.repository.default_branch)")
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
ANNOTATION = re.compile(r"^::(error|warning|notice) file=(?P<file>[^,]+),line=(?P<line>\d+),"
                        r"col=(?P<col>\d+),title=(?P<title>[^:]+)::(?P<msg>.+)$")


# -- the runner's side ---------------------------------------------------------------------
@dataclass
class Context:
    """What expressions can read: the inputs (defaults filled in), the event, step outputs."""

    inputs: dict[str, str]
    event_name: str
    ref: str
    default_branch: str = "main"
    action_path: str = str(ROOT)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)


def evaluate(expr: str, ctx: Context) -> str | bool:
    """The expressions action.yml uses, and no others."""
    expr = expr.strip()
    if expr == "always()":
        return True
    if expr == DEFAULT_BRANCH_EXPR:
        return ctx.ref == f"refs/heads/{ctx.default_branch}"
    if m := re.fullmatch(r"inputs\.([\w-]+) == '([^']*)'", expr):
        return ctx.inputs[m.group(1)] == m.group(2)
    if m := re.fullmatch(r"inputs\.([\w-]+)", expr):
        return ctx.inputs[m.group(1)]
    if m := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr):
        return ctx.outputs.get(m.group(1), {}).get(m.group(2), "")
    if expr in ("github.action_path", "github.event_name", "github.ref"):
        return {"github.action_path": ctx.action_path, "github.event_name": ctx.event_name,
                "github.ref": ctx.ref}[expr]
    raise AssertionError(f"action.yml uses an expression this test does not know: {expr!r}")


def substitute(text: str, ctx: Context) -> str:
    def repl(m: re.Match[str]) -> str:
        value = evaluate(m.group(1), ctx)
        return str(value).lower() if isinstance(value, bool) else value

    return EXPR.sub(repl, text)


def read_file_command(path: Path) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIM`` … ``DELIM`` blocks (GITHUB_OUTPUT, GITHUB_ENV)."""
    values: dict[str, str] = {}
    lines = path.read_text("utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            values[name] = "\n".join(lines[i + 1:end])
            i = end + 1
            continue
        if line:
            name, value = line.split("=", 1)
            values[name] = value
        i += 1
    return values


@dataclass
class StepResult:
    id: str
    name: str
    ran: bool
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""


@dataclass
class JobResult:
    steps: list[StepResult]
    outputs: dict[str, str]
    summary: str
    failed: bool

    def step(self, step_id: str) -> StepResult:
        return next(s for s in self.steps if s.id == step_id)


def run_action(repo: Path, tmp: Path, *, event_name: str, ref: str,
               with_: dict[str, str] | None = None) -> JobResult:
    """Run every step of action.yml in ``repo`` (the workspace) as the runner would."""
    action = yaml.safe_load(ACTION.read_text("utf-8"))
    assert action["runs"]["using"] == "composite"
    declared = action["inputs"]
    unknown = set(with_ or {}) - set(declared)
    assert not unknown, f"not inputs of the action: {unknown}"
    inputs = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    # the interpreter running these tests, which imports planc from this checkout
    inputs.update({"python": sys.executable, **(with_ or {})})
    ctx = Context(inputs=inputs, event_name=event_name, ref=ref)

    runner_temp = tmp / "runner_temp"
    shutil.rmtree(runner_temp, ignore_errors=True)
    runner_temp.mkdir(parents=True)
    summary_parts: list[str] = []
    # the job's environment: nothing of an outer runner leaks in; this checkout is planc
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
    job_env = {**base, "PYTHONPATH": str(ROOT), "GITHUB_ACTIONS": "true", "CI": "true",
               "GITHUB_WORKSPACE": str(repo), "GITHUB_EVENT_NAME": event_name,
               "GITHUB_REF": ref, "GITHUB_ACTION_PATH": str(ROOT),
               "RUNNER_TEMP": str(runner_temp), "RUNNER_OS": "Linux"}
    path_prefix: list[str] = []
    results: list[StepResult] = []
    failed = False
    for i, step in enumerate(action["runs"]["steps"]):
        step_id = step.get("id", f"__{i}")
        assert "run" in step, f"step {step_id}: only run: steps are emulated"
        assert step.get("shell") == "bash", f"step {step_id}: shell must be bash"
        assert "${{" not in step["run"], f"step {step_id}: inputs reach run: through env: only"
        cond = step.get("if")
        run = bool(evaluate(cond, ctx)) and (not failed or cond.strip() == "always()") \
            if cond else not failed
        if not run:
            results.append(StepResult(step_id, step["name"], ran=False))
            continue
        files = {name: runner_temp / f"{name.lower()}_{i}"
                 for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")}
        for f in files.values():
            f.write_text("", "utf-8")
        env = {**job_env, **{k: str(v) for k, v in files.items()}}
        env.update({k: substitute(str(v), ctx) for k, v in (step.get("env") or {}).items()})
        env["PATH"] = os.pathsep.join([*path_prefix, job_env["PATH"]])
        script = runner_temp / f"step_{i}.sh"
        script.write_text(step["run"], "utf-8")
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=300)
        results.append(StepResult(step_id, step["name"], True, proc.returncode, proc.stdout,
                                  proc.stderr))
        ctx.outputs[step_id] = read_file_command(files["GITHUB_OUTPUT"])
        job_env.update(read_file_command(files["GITHUB_ENV"]))
        path_prefix = [p for p in files["GITHUB_PATH"].read_text("utf-8").splitlines()
                       if p][::-1] + path_prefix
        summary_parts.append(files["GITHUB_STEP_SUMMARY"].read_text("utf-8"))
        failed = failed or proc.returncode != 0
    outputs = {name: substitute(str(spec["value"]), ctx)
               for name, spec in action["outputs"].items()}
    return JobResult(results, outputs, "".join(summary_parts), failed)


# -- the repository under test -------------------------------------------------------------
def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    proc = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True,
                          check=True)
    return proc.stdout.strip()


def _bad_plan_text() -> tuple[str, int]:
    """The good plan with a secret planted after the Approach's last step; its line."""
    lines = (GOOD_SRC / "plan.md").read_text("utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("6. **Compare levels**"))
    lines.insert(at + 1, SECRET_LINE)
    return "\n".join(lines) + "\n", at + 2


def make_repo(tmp_path: Path) -> Path:
    """A git repository (one commit on ``main``) with ``[tool.planc] paths = ["plans"]``,
    the good plan (``plans/lr-sweep``) and the bad one (``plans/lr-sweep-bad``)."""
    need_or_skip(shutil.which("git") is not None, "git is not installed")
    repo = tmp_path / "repo"
    (repo / "plans").mkdir(parents=True)
    (repo / "pyproject.toml").write_text('[project]\nname = "lab"\n\n[tool.planc]\n'
                                         'paths = ["plans"]\n', "utf-8")
    shutil.copytree(GOOD_SRC, repo / "plans" / "lr-sweep")
    (repo / BAD).parent.mkdir()
    (repo / BAD).write_text(_bad_plan_text()[0], "utf-8")
    (repo / ".gitignore").write_text(".planc_cache/\nbuild/site/\n", "utf-8")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "plans")
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def _annotations(stdout: str) -> list[re.Match[str]]:
    return [m for line in stdout.splitlines() if (m := ANNOTATION.match(line))]


# -- the tests -----------------------------------------------------------------------------
def test_pull_request_with_a_bad_plan_fails_with_annotations_and_sarif(
        repo: Path, tmp_path: Path) -> None:
    job = run_action(repo, tmp_path, event_name="pull_request", ref="refs/pull/1/merge")
    install, setup, lint = job.step("install"), job.step("setup"), job.step("lint")
    assert install.returncode == 0, install.stderr
    assert "installed" not in install.stdout and "planc 0.1.0" in install.stdout
    assert setup.returncode == 0, setup.stderr
    assert job.outputs["mode"] == "check"
    # the bad plan fails the lint, annotated on its file and line
    assert lint.returncode == 1, lint.stdout + lint.stderr
    errors = [m for m in _annotations(lint.stdout) if m.group(1) == "error"]
    assert errors, lint.stdout
    assert {m.group("file") for m in _annotations(lint.stdout)} == {BAD}
    assert [(m.group("file"), int(m.group("line")), m.group("title").split()[0])
            for m in errors] == [(BAD, _bad_plan_text()[1], "CM006")]
    # a SARIF log valid against the OASIS schema, with the same finding
    sarif = Path(job.outputs["sarif"])
    log = json.loads(sarif.read_text("utf-8"))
    problems = sorted(_sarif_validator().iter_errors(log), key=str)
    assert problems == [], "\n".join(p.message for p in problems[:5])
    results = log["runs"][0]["results"]
    region = results[0]["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == BAD
    assert region["region"]["startLine"] == _bad_plan_text()[1]
    # compile does not run after a failed lint; the summary still does
    assert not job.step("compile").ran and not job.step("site").ran
    assert job.failed
    assert job.summary.startswith("# planc")
    assert "- **Lint**: 1 error(s)" in job.summary
    assert Path(job.outputs["summary"]).read_text("utf-8") == job.summary
    # the lint cache lives where the README's workflow caches it
    assert (repo / ".planc_cache" / "lint").is_dir()


def test_default_branch_compiles_then_pull_requests_check(repo: Path, tmp_path: Path) -> None:
    site = importlib.util.find_spec("mkdocs") is not None and \
        importlib.util.find_spec("material") is not None
    if site:
        shutil.copy(ROOT / "mkdocs.yml", repo / "mkdocs.yml")
        (repo / "site").mkdir()
        (repo / "site" / "index.md").write_text("# Lab\n", "utf-8")
    with_ = {"paths": "plans/lr-sweep", "site": "true" if site else "false"}
    head = _git(repo, "rev-parse", "HEAD")

    # push to the default branch: a real compile, outputs ready for upload-artifact / Pages
    job = run_action(repo, tmp_path, event_name="push", ref="refs/heads/main", with_=with_)
    assert not job.failed, "\n".join(f"{s.id}: {s.stdout}{s.stderr}" for s in job.steps)
    assert job.outputs["mode"] == "compile"
    out = Path(job.outputs["out"])
    assert out == repo / "build" / "plans"
    manifest = json.loads((out / "lr-sweep" / "manifest.json").read_text("utf-8"))
    plan_sha = __import__("hashlib").sha256((repo / GOOD).read_bytes()).hexdigest()
    assert manifest["source"] == {"path": GOOD, "sha256": plan_sha}
    assert manifest["git_commit"] == head
    readme = (out / "lr-sweep" / "README.md").read_text("utf-8")
    assert readme.rstrip("\n") in job.summary
    assert f"| `lr-sweep` | `{GOOD}` | `{plan_sha[:12]}` | `{head[:12]}` |" in job.summary
    assert "- **Lint**: 0 error(s), 0 warning(s)" in job.summary
    if site:
        assert Path(job.outputs["site"]) == repo / "build" / "site"
        assert (repo / "build" / "site" / "index.html").is_file()
    else:
        assert job.outputs["site"] == ""

    # the group commits its compiled artifacts; a pull request checks them: fresh passes
    _git(repo, "add", "-A", "build/plans")
    _git(repo, "commit", "-q", "-m", "compiled")
    job = run_action(repo, tmp_path, event_name="pull_request", ref="refs/pull/2/merge",
                     with_={"paths": "plans/lr-sweep"})
    assert job.outputs["mode"] == "check"
    compile_step = job.step("compile")
    assert compile_step.ran and compile_step.returncode == 0, compile_step.stdout
    assert "up to date" in compile_step.stdout
    assert not job.failed
    assert readme.rstrip("\n") in job.summary

    # a plan edited without recompiling: --check fails, naming the stale files
    plan = repo / GOOD
    plan.write_text(plan.read_text("utf-8").replace("A CPU-only sweep", "A CPU-only sweep,"),
                    "utf-8")
    _git(repo, "commit", "-q", "-am", "edit the plan")
    job = run_action(repo, tmp_path, event_name="pull_request", ref="refs/pull/3/merge",
                     with_={"paths": "plans/lr-sweep"})
    compile_step = job.step("compile")
    assert compile_step.returncode == 1 and job.failed
    stale = [line for line in compile_step.stdout.splitlines() if line.endswith(": stale")]
    assert f"{out}/lr-sweep/manifest.json: stale" in stale
    assert f"::error title=planc compile --check::{out}/lr-sweep/README.md is stale: run " \
        "planc compile and commit the result" in compile_step.stdout
    assert job.step("summary").ran and job.summary.startswith("# planc")


def test_push_to_another_branch_only_checks(repo: Path, tmp_path: Path) -> None:
    job = run_action(repo, tmp_path, event_name="push", ref="refs/heads/feature",
                     with_={"paths": "plans/lr-sweep"})
    assert job.outputs["mode"] == "check"
    assert job.step("compile").returncode == 1  # nothing compiled and committed yet
    assert not (repo / "build").exists()


def test_the_action_is_well_formed() -> None:
    action = yaml.safe_load(ACTION.read_text("utf-8"))
    assert set(action["inputs"]) == {"paths", "plans", "cluster", "out", "strict", "mode",
                                     "site", "site-dir", "cache", "python"}
    assert set(action["outputs"]) == {"out", "site", "sarif", "summary", "mode"}
    ids = [s.get("id") for s in action["runs"]["steps"]]
    assert ids == ["install", "setup", "lint", "compile", "site", "summary"]
    for step in action["runs"]["steps"]:
        assert step["shell"] == "bash" and "${{" not in step["run"]


def test_the_action_scripts_pass_shellcheck(tmp_path: Path) -> None:
    need_or_skip(shutil.which("shellcheck") is not None, "shellcheck is not installed")
    action = yaml.safe_load(ACTION.read_text("utf-8"))
    for step in action["runs"]["steps"]:
        script = tmp_path / f"{step['id']}.sh"
        script.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + step["run"], "utf-8")
        proc = subprocess.run(["shellcheck", "-S", "warning", str(script)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, f"{step['id']}:\n{proc.stdout}"


# -- the documented workflow ---------------------------------------------------------------
def _yaml_blocks(text: str, start: str, end: str | None) -> list[str]:
    section = text[text.index(start):text.index(end) if end else None]
    return re.findall(r"```yaml\n(.*?)```", section, flags=re.S)


def test_the_documented_workflow_uses_the_action_as_declared() -> None:
    from compiler.cache import CACHE_DIR

    readme = _yaml_blocks((ROOT / "README.md").read_text("utf-8"), "\n## CI\n", "\n## Layout\n")
    guide = _yaml_blocks((ROOT / "site" / "guide.md").read_text("utf-8"), "\n## CI\n", None)
    assert readme == guide, "README.md and site/guide.md show different CI examples"
    workflow = yaml.safe_load(readme[0])
    action = yaml.safe_load(ACTION.read_text("utf-8"))
    steps = workflow["jobs"]["planc"]["steps"]
    (planc,) = [s for s in steps if str(s.get("uses", "")).split("@")[0].endswith("/planc")]
    assert set(planc.get("with", {})) <= set(action["inputs"])
    used = set(re.findall(r"steps\.planc\.outputs\.([\w-]+)", readme[0]))
    assert used and used <= set(action["outputs"])
    (cache,) = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache@")]
    assert cache["with"]["path"] == CACHE_DIR
    gitlab = yaml.safe_load(readme[1])
    template = yaml.safe_load((ROOT / "ci" / "planc.gitlab-ci.yml").read_text("utf-8"))
    assert set(gitlab["variables"]) <= set(template["variables"])
    assert gitlab["include"][0]["remote"].endswith("/ci/planc.gitlab-ci.yml")
