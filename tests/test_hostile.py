"""Hostile input (issue 15): no crash, no hang, no lost record.

Each class of hostile input is run through the real entry point:

- **resources**: ``planc lint FILE`` as a fresh process under ``RLIMIT_AS`` (memory) and a
  wall-clock timeout: quadratic parsing (``<plan>`` tags, headings), markdown-it structure
  (task lines, table columns, brackets), expansion bombs (epochs × ``all``, a 6 × 20 grid,
  ``repeats: 1000000000``), FIFOs and ``/dev/zero``;
- **YAML**: 5,000-digit integers, duplicate keys (front-matter and tracker; the tracker's
  two records both survive), front-matter that is never closed;
- **shell**: sweep values quoted by context, run through ``bash`` (hypothesis): a value is
  printed, never run;
- **values**: batch size 0, NaN learning rate, names that differ only by case, ``..`` in
  ``output_dir``, an unknown ``--select``;
- **OS errors**: ``--out`` on a file, a read-only ``--out`` and ``--out /`` (as an
  unprivileged user), a full disk (``RLIMIT_FSIZE``, and a 64 KiB tmpfs where mounting is
  allowed): one line and exit 2, the tracker unchanged;
- **fuzz** (hypothesis): documents and trackers through ``planc lint`` and ``planc status
  --json`` in process: exit 0, 1 or 2, no exception, bounded time.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import cli
from compiler.expand import _RunDirOutput, fill_command, placeholder_context_problems

from .conftest import ROOT
from .test_submit_status import fake_slurm  # noqa: F401 (a fixture)

TIME_LIMIT_S = 30.0  # per case, on a loaded 2-core CI machine (each takes < 5 s alone)
MEMORY_LIMIT = 1536 * 1024 * 1024  # address space of the lint process
RUN_GROUP = (ROOT / "tests" / "fixtures" / "cluster" / "plans" / "bad" / "cl006_batch.md")


# -- helpers -------------------------------------------------------------------------------
def _limited(*, memory: int = MEMORY_LIMIT, fsize: int | None = None) -> Callable[[], None]:
    def pre() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        if fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    return pre


# As root, file permissions do not apply; without these capabilities they do (an
# unprivileged user's view of a read-only folder), while the interpreter stays reachable.
UNPRIVILEGED = (["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"]
                if os.getuid() == 0 else [])


def planc(*args: str, cwd: Path | None = None, timeout: float = TIME_LIMIT_S,
          unprivileged: bool = False, **limits: int
          ) -> tuple[subprocess.CompletedProcess[str], float]:
    """``python -m compiler ARGS`` under the limits; (process, wall seconds). Asserts the
    contract every hostile case shares: exit 0/1/2, no traceback, within the time."""
    start = time.perf_counter()
    prefix = UNPRIVILEGED if unprivileged else []
    proc = subprocess.run([*prefix, sys.executable, "-m", "compiler", *args], cwd=cwd or ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=_limited(**limits))
    wall = time.perf_counter() - start
    assert proc.returncode in (0, 1, 2), (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "PC999" not in proc.stdout, proc.stdout[-2000:]
    return proc, wall


def lint(path: Path, *extra: str) -> tuple[int, list[dict], float]:
    proc, wall = planc("lint", "--format", "json", *extra, str(path))
    return proc.returncode, json.loads(proc.stdout or "[]"), wall


def codes(diags: list[dict]) -> list[str]:
    return [d["code"] for d in diags]


def run_group(body: str) -> str:
    return f"""---
kind: run-group
experiment: {{name: grp, date: 2025-10-18}}
models:
  - {{name: Llama-3.2-1B-Instruct, path: /m/Llama-3.2-1B-Instruct}}
data:
  training: {{path: /d/words.json, splits: {{train: 800, validation: 100, test: 100}}}}
evaluation:
  tasks: [{{name: cap, script: tasks/cap/eval.py}}]
{body}
---
# Run Plan: grp
"""


def good_sweep(command: str, name: str | None = None) -> str:
    """The shipped lint-clean sweep plan with another command (and optionally a name)."""
    text = (ROOT / "plans" / "lr-sweep" / "plan.md").read_text("utf-8")
    head, _, rest = text.partition("command: ")
    rest = rest.split("\n", 1)[1]
    named = f"name: {name}\n" if name else ""
    return f"{head}{named}command: {json.dumps(command)}\n{rest}"


def sweep(command: str, extra: str = "") -> str:
    return (f"---\nkind: plan\ncommand: {json.dumps(command)}\nsweep:\n"
            f"  grid: {{alpha: [0.1, 0.2]}}\n{extra}---\n## 📋 Plan: s\n")


# -- resources: time and memory bounds ------------------------------------------------------
LEVELS = "[" + ", ".join(str(i) for i in range(20)) + "]"
RESOURCE_CASES: dict[str, tuple[str, str]] = {
    # name: (file name, text)
    "120 KB of <plan> tags": ("t.md", "<plan>" * 20_000),
    "unclosed <plan> tags": ("t.md", "text <plan> " * 20_000),
    "100,000 headings": ("h.md", "# h\n" * 100_000),
    "19,000 nested headings": ("h.md", "# Tasks\n" + "## a\n### b\n" * 9_500),
    "100,000 task lines": ("tasks.md", "# Tasks\n" + "- [ ] task number x\n" * 100_000),
    "20,000-column table": ("t.md", "|a" * 20_000 + "|\n" + "|-" * 20_000 + "|\n"
                            + "|1" * 20_000 + "|\n"),
    "500 KB of brackets": ("b.md", "## 📋 Plan: x\n" + "[" * 500_000 + "\n"),
    "deep block quotes": ("q.md", ">" * 200_000 + " x\n"),
    "epochs 100000000 with evaluation.epochs all": ("runs_plan.md", run_group(
        "variables: {lora_rank: [4, 8]}\n"
        "training: {epochs: 100000000, batch_size: 4}\nevaluation:\n"
        "  tasks: [{name: cap, script: tasks/cap/eval.py}]\n  epochs: all").replace(
            "evaluation:\n  tasks: [{name: cap, script: tasks/cap/eval.py}]\n", "", 1)),
    "6 factors x 20 levels (run group)": ("runs_plan.md", run_group(
        "variables: {lora_rank: [4], " + ", ".join(f"f{i}: {LEVELS}" for i in range(6))
        + "}")),
    "repeats 1000000000 (run group)": ("runs_plan.md", run_group(
        "variables: {lora_rank: [4]}\nrepeats: 1000000000")),
    "6 factors x 20 levels (sweep)": ("plan.md", "---\nkind: plan\ncommand: run "
                                      + " ".join(f"{{f{i}}}" for i in range(6)) + "\nsweep:\n"
                                      "  grid: {" + ", ".join(f"f{i}: {LEVELS}"
                                                              for i in range(6)) + "}\n---\n"),
    "repeats 1000000000 (sweep)": ("plan.md", "---\nkind: plan\ncommand: run {alpha} {seed}\n"
                                   "sweep:\n  grid: {alpha: [1]}\n  repeats: 1000000000\n---\n"),
    "5,000-digit integer in front-matter": ("p.md", "---\nkind: plan\nbig: " + "9" * 5000
                                            + "\n---\n## 📋 Plan: x\n"),
    "5,000-digit integer in a tracker": ("runs_status.yaml", "run_group: g\nruns:\n  a:\n"
                                         "    finetune: {status: pending, job_id: "
                                         + "9" * 5000 + "}\n"),
    "impossible date in a tracker": ("runs_status.yaml", "run_group: g\ncreated: 2025-13-45\n"),
}
EXPECTED = {  # the located error each case must give (others: any outcome within bounds)
    "100,000 headings": "CM000",
    "100,000 task lines": "CM000",
    "20,000-column table": "CM000",
    "epochs 100000000 with evaluation.epochs all": "EX015",
    "6 factors x 20 levels (run group)": "EX015",
    "repeats 1000000000 (run group)": "EX015",
    "6 factors x 20 levels (sweep)": "EX015",
    "repeats 1000000000 (sweep)": "EX015",
    "5,000-digit integer in front-matter": "CM001",
    "5,000-digit integer in a tracker": "CM001",
    "impossible date in a tracker": "CM001",
}


@pytest.mark.parametrize("case", list(RESOURCE_CASES))
def test_resource_case_is_bounded(case: str, tmp_path: Path) -> None:
    name, text = RESOURCE_CASES[case]
    path = tmp_path / name
    path.write_text(text, "utf-8")
    rc, diags, wall = lint(path)
    assert wall < TIME_LIMIT_S
    if case in EXPECTED:
        assert EXPECTED[case] in codes(diags), (case, codes(diags)[:10])
        hit = next(d for d in diags if d["code"] == EXPECTED[case])
        assert hit["line"] >= 1 and hit["column"] >= 1
        assert rc == 1


def test_the_757_byte_run_group_is_a_located_error(tmp_path: Path) -> None:
    text = RESOURCE_CASES["epochs 100000000 with evaluation.epochs all"][1]
    assert len(text.encode()) < 800
    path = tmp_path / "runs_plan.md"
    path.write_text(text, "utf-8")
    rc, diags, _ = lint(path)
    ex = [d for d in diags if d["code"] == "EX015"]
    assert rc == 1 and ex and "evaluation jobs" in ex[0]["message"]
    assert ex[0]["line"] > 1  # at training.epochs, not the top of the file


def test_max_runs_is_configurable(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.planc]\nmax_runs = 3\n", "utf-8")
    path = tmp_path / "plan.md"
    path.write_text(sweep("run {alpha}").replace("[0.1, 0.2]", "[1, 2, 3, 4]"), "utf-8")
    rc, diags, _ = lint(path)
    assert rc == 1 and "EX015" in codes(diags)
    (tmp_path / "pyproject.toml").write_text("[tool.planc]\nmax_runs = 4\n", "utf-8")
    rc, diags, _ = lint(path)
    assert "EX015" not in codes(diags)


def test_a_fifo_in_a_linted_folder_does_not_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "plan.md")
    (tmp_path / "good.md").write_text("# Notes\n", "utf-8")
    proc, wall = planc("lint", "--format", "json", str(tmp_path), timeout=TIME_LIMIT_S)
    diags = json.loads(proc.stdout)
    assert [(Path(d["path"]).name, d["code"]) for d in diags if d["code"] == "CM000"] == [
        ("plan.md", "CM000")]
    assert "not a regular file" in next(d for d in diags if d["code"] == "CM000")["message"]
    # the content-hash cache reads files too
    proc, _ = planc("lint", "--cache", str(tmp_path / "plan.md"), cwd=tmp_path)
    assert proc.returncode == 1


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_is_not_read() -> None:
    proc, wall = planc("lint", "--format", "json", "/dev/zero")
    assert codes(json.loads(proc.stdout)) == ["CM000"]


# -- YAML -------------------------------------------------------------------------------------
def test_duplicate_front_matter_key_is_located(tmp_path: Path) -> None:
    path = tmp_path / "plan.md"
    path.write_text("---\nkind: plan\ntitle: a\ntitle: b\n---\n## 📋 Plan: a\n", "utf-8")
    rc, diags, _ = lint(path)
    dup = [d for d in diags if d["code"] == "CM001"]
    assert rc == 1 and (dup[0]["line"], dup[0]["column"]) == (4, 1)
    assert "duplicate key 'title' (first stated on line 2" in dup[0]["message"]


TRACKER_TWICE = """\
schema_version: 1
run_group: grp
runs:
  a_rank4:
    finetune: {status: completed, job_id: '11'}
  a_rank4:
    finetune: {status: failed, job_id: '12'}
"""


def test_duplicate_tracker_records_are_reported_and_never_dropped(tmp_path: Path) -> None:
    from compiler import tracker

    group = tmp_path / "grp"
    group.mkdir()
    status = group / "runs_status.yaml"
    status.write_text(TRACKER_TWICE, "utf-8")
    rc, diags, _ = lint(status)
    assert rc == 1 and [(d["code"], d["line"]) for d in diags if d["code"] == "CM001"] == [
        ("CM001", 6)]
    with pytest.raises(tracker.TrackerError, match="duplicate key 'a_rank4'"):
        tracker.read(status)
    proc, _ = planc("status", str(group), "--json")
    assert proc.returncode == 2 and "duplicate key" in proc.stderr
    assert status.read_text("utf-8") == TRACKER_TWICE  # both records still there


def test_duplicate_keys_in_a_cluster_profile(tmp_path: Path) -> None:
    from compiler.clusters import parse_profile  # type: ignore[attr-defined]

    _profile, diags = parse_profile("name: a\ntype: slurm\ntype: local_gpu\n", "c.yaml")
    assert diags and "duplicate key 'type'" in diags[0].message and diags[0].line == 3


def test_front_matter_that_is_never_closed_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "runs_plan.md"
    path.write_text("---\nkind: run-group\nvariables: {lora_rank: [4]}\n\n# Run Plan: g\n",
                    "utf-8")
    rc, diags, _ = lint(path)
    assert rc == 1 and ("CM001", 1) in [(d["code"], d["line"]) for d in diags]
    # a thematic break at the top of a document is not front-matter
    path.write_text("---\n\n# Notes\n", "utf-8")
    assert "CM001" not in codes(lint(path)[1])


def test_status_json_with_unquoted_timestamps(tmp_path: Path) -> None:
    group = tmp_path / "grp"
    group.mkdir()
    (group / "runs_status.yaml").write_text(
        "schema_version: 1\nrun_group: grp\nruns:\n  a:\n    finetune:\n      status: failed\n"
        "      job_id: '7'\n      last_updated: 2025-10-18 14:03:22\n"
        "      reason: oom on 2025-10-18\n", "utf-8")
    proc, _ = planc("status", str(group), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["group"] == "grp"


# -- shell: placeholders quoted by context --------------------------------------------------
SHELL_VALUE = st.text(alphabet=st.sampled_from(list("$`\"'\\(){};|&<>*?~!# \t\nab=-/x%^")),
                      max_size=24)
CONTEXTS = ["printf %s {v}", 'printf %s "{v}"', "printf %s '{v}'", 'printf %s "a{v}b"',
            "printf %s 'a{v}b'", 'printf %s "$(printf %s {v})"',
            'printf %s "$(printf %s "{v}")"', "printf %s x{v}y"]
WRAP = {"printf %s \"a{v}b\"": ("a", "b"), "printf %s 'a{v}b'": ("a", "b"),
        "printf %s x{v}y": ("x", "y")}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=SHELL_VALUE, template=st.sampled_from(CONTEXTS))
def test_sweep_values_are_printed_never_run(value: str, template: str, tmp_path_factory
                                            ) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    canary = tmp_path_factory.mktemp("canary")
    value = value.replace("CANARY", "")
    evil = value + f"$(touch {canary}/ran)`touch {canary}/ran2`"
    cmd, unknown = fill_command(template, {"v": evil})
    assert unknown == [] and placeholder_context_problems(template) == []
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=10,
                          cwd=canary)
    head, tail = WRAP.get(template, ("", ""))
    assert proc.stdout == head + evil + tail, (template, cmd)
    assert list(canary.iterdir()) == []


def test_run_dir_output_in_every_context(tmp_path: Path) -> None:
    cmd, _ = fill_command("""printf '%s|' {out} "{out}" '{out}' "x{out}y\"""",
                          {"out": _RunDirOutput()})
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True,
                          env={"PLANC_RUN_DIR": "/r d"})
    assert proc.stdout == "/r d/output|/r d/output|/r d/output|x/r d/outputy|"


@pytest.mark.parametrize("command", ["echo `cat {alpha}`", "cat <<EOF\n{alpha}\nEOF",
                                     'echo "`cat {alpha}`"'])
def test_placeholders_where_no_quoting_holds_are_ex016(command: str, tmp_path: Path) -> None:
    path = tmp_path / "plan.md"
    path.write_text(sweep(command), "utf-8")
    rc, diags, _ = lint(path)
    assert rc == 1 and "EX016" in codes(diags)
    assert next(d for d in diags if d["code"] == "EX016")["line"] == 3  # the command: line


def test_placeholder_in_double_quotes_builds_an_escaped_command(tmp_path: Path) -> None:
    from compiler.config import Settings
    from compiler.document import load
    from compiler.spec import build

    path = tmp_path / "plan.md"
    path.write_text(sweep('printf %s "{alpha}"').replace("[0.1, 0.2]",
                                                          "['$(touch ran)', '`touch ran2`']"),
                    "utf-8")
    built = build(load(path), Settings(root=tmp_path))
    assert built.matrix is not None, built.diagnostics
    for run in built.matrix.runs:
        proc = subprocess.run(["bash", "-c", run.command], capture_output=True, text=True,
                              cwd=tmp_path)
        assert proc.stdout == run.factors["alpha"]
    assert not (tmp_path / "ran").exists() and not (tmp_path / "ran2").exists()


# -- values ------------------------------------------------------------------------------------
VALUE_CASES = {
    "batch_size 0": "variables: {lora_rank: [4]}\ntraining: {batch_size: 0}",
    "batch_size negative": "variables: {lora_rank: [4]}\ntraining: {batch_size: {x: -2}}",
    "lr nan": "variables: {lora_rank: [4]}\ntraining: {lr: .nan}",
    "lr inf": "variables: {lora_rank: [4]}\ntraining: {lr: .inf}",
    "max_seq_len 0": "variables: {lora_rank: [4]}\ntraining: {max_seq_len: 0}",
    "output_dir with ..": "variables: {lora_rank: [4]}\ncompute: {output_dir: ../../elsewhere}",
}


@pytest.mark.parametrize("case", list(VALUE_CASES))
def test_bad_values_are_cm003(case: str, tmp_path: Path) -> None:
    path = tmp_path / "runs_plan.md"
    path.write_text(run_group(VALUE_CASES[case]), "utf-8")
    rc, diags, _ = lint(path)
    assert rc == 1 and "CM003" in codes(diags), (case, codes(diags))
    assert next(d for d in diags if d["code"] == "CM003")["line"] > 1


def test_negative_split_size_is_cm003(tmp_path: Path) -> None:
    path = tmp_path / "runs_plan.md"
    path.write_text(run_group("variables: {lora_rank: [4]}").replace("train: 800",
                                                                     "train: -800"), "utf-8")
    rc, diags, _ = lint(path)
    assert rc == 1 and "CM003" in codes(diags)


def test_names_that_differ_only_by_case(tmp_path: Path) -> None:
    path = tmp_path / "plan.md"
    path.write_text(sweep("run {alpha}").replace("[0.1, 0.2]", "[Big, big]"), "utf-8")
    rc, diags, _ = lint(path)
    assert rc == 1 and any(d["code"] == "EX004" and "only by case" in d["message"]
                           for d in diags)
    path = tmp_path / "runs_plan.md"
    path.write_text(run_group("variables: {lora_rank: [4]}").replace(
        "tasks: [{name: cap, script: tasks/cap/eval.py}]",
        "tasks: [{name: cap, script: a.py}, {name: CAP, script: b.py}]"), "utf-8")
    rc, diags, _ = lint(path)
    assert rc == 1 and any(d["code"] == "EX004" and "only by case" in d["message"]
                           for d in diags)


@pytest.mark.parametrize("flag", ["--select", "--ignore"])
def test_unknown_select_code_is_exit_2(flag: str) -> None:
    proc, _ = planc("lint", flag, "XX999", str(ROOT / "plans"))
    assert proc.returncode == 2 and "XX999" in proc.stderr
    proc, _ = planc("lint", "--select", "CM,EX0", str(ROOT / "plans" / "lr-sweep"))
    assert proc.returncode == 0


# -- compile: never over the plan, never over another plan's group --------------------------
def test_compile_never_overwrites_the_plan_it_compiles(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    group = plans / "study"
    group.mkdir(parents=True)
    plan = group / "README.md"  # a plan that shares a name with a file of the group folder
    plan.write_text(good_sweep("python train.py --alpha {alpha} --seed {seed}"), "utf-8")
    before = plan.read_bytes()
    proc, _ = planc("compile", str(plan), "--out", str(plans), "--force", cwd=tmp_path)
    assert proc.returncode == 1 and "is the plan being compiled" in proc.stdout
    assert plan.read_bytes() == before


def test_two_unnamed_sweeps_in_one_folder_do_not_take_over(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    for name in ("a.md", "b.md"):
        (folder / name).write_text(good_sweep(f"python {name} --alpha {{alpha}} {{seed}}"),
                                   "utf-8")
    out = tmp_path / "out"
    proc, _ = planc("compile", str(folder / "a.md"), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = (out / "study" / "manifest.json").read_bytes()
    proc, _ = planc("compile", str(folder / "b.md"), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 1 and "compiled from" in proc.stdout
    assert (out / "study" / "manifest.json").read_bytes() == manifest
    proc, _ = planc("compile", str(folder / "b.md"), "--out", str(out), "--force",
                    cwd=tmp_path)
    assert proc.returncode == 0


# -- OS errors: one line, exit 2, nothing lost ---------------------------------------------
def _one_line_exit_2(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("planc"), proc.stderr


def test_out_pointing_at_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", "utf-8")
    proc, _ = planc("compile", str(ROOT / "plans" / "lr-sweep" / "plan.md"), "--out",
                    str(tmp_path / "file"))
    _one_line_exit_2(proc)


@pytest.mark.parametrize("where", ["read-only", "someone else's", "/"])
def test_out_not_writable(where: str, tmp_path: Path) -> None:
    if UNPRIVILEGED and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions do not apply")
    if where == "/":
        out = Path("/")
    else:
        out = tmp_path / "out"
        out.mkdir()
        out.chmod(0o555 if where == "read-only" else 0o755)
        if where != "read-only":
            if os.getuid() != 0:
                pytest.skip("cannot give a folder to another user")
            os.chown(out, 65534, 65534)
    plan = tmp_path / "plan.md"
    plan.write_text(good_sweep("python train.py --alpha {alpha} --seed {seed}"), "utf-8")
    if where == "/" and os.getuid() == 0:
        # `--out /` as a user who is not root: run planc as nobody, from a folder nobody
        # can read (the plan is copied there; the project's code and venv are readable)
        work = Path(tempfile.mkdtemp(prefix="planc-nobody-"))
        work.chmod(0o755)
        shutil.copy(plan, work / "plan.md")
        (work / "plan.md").chmod(0o644)
        start = time.perf_counter()
        proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               sys.executable, "-m", "compiler", "compile", "plan.md",
                               "--out", "/"], cwd=work,
                              env={**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(work)},
                              capture_output=True, text=True, timeout=TIME_LIMIT_S)
        assert time.perf_counter() - start < TIME_LIMIT_S
        assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
        shutil.rmtree(work, ignore_errors=True)
    else:
        proc, _ = planc("compile", str(plan), "--out", str(out), cwd=tmp_path,
                        unprivileged=True)
    _one_line_exit_2(proc)
    assert "ermission denied" in proc.stderr


def _compiled_group(tmp_path: Path) -> tuple[Path, Path, bytes]:
    plan = tmp_path / "plan.md"
    plan.write_text(good_sweep("python train.py --alpha {alpha} --seed {seed}"), "utf-8")
    out = tmp_path / "out"
    proc, _ = planc("compile", str(plan), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    status = next(out.rglob("runs_status.yaml"))
    status.write_text(status.read_text("utf-8").replace("status: pending", "status: completed",
                                                        1), "utf-8")
    return plan, out, status.read_bytes()


def test_full_disk_during_compile(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes every write past 512 bytes fail (EFBIG), like a full disk."""
    plan, out, before = _compiled_group(tmp_path)
    plan.write_text(good_sweep("python train.py --changed {alpha} --seed {seed}"), "utf-8")
    proc, _ = planc("compile", str(plan), "--out", str(out), cwd=tmp_path, fsize=512)
    _one_line_exit_2(proc)
    assert next(out.rglob("runs_status.yaml")).read_bytes() == before


def test_full_disk_on_a_small_tmpfs(tmp_path: Path) -> None:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if os.getuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
            capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (the RLIMIT_FSIZE test covers a full disk)")
    try:
        (mnt / "fill").write_bytes(b"\0" * 60 * 1024)
        plan = tmp_path / "plan.md"
        plan.write_text(good_sweep("python train.py --alpha {alpha} --seed {seed}"), "utf-8")
        proc, _ = planc("compile", str(plan), "--out", str(mnt / "out"), cwd=tmp_path)
        _one_line_exit_2(proc)
        assert "No space left" in proc.stderr
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


# -- fuzz: documents and trackers through the command line, in process ----------------------
FRAGMENTS = [
    "---", "kind: plan", "kind: run-group", "kind: tasks", "title: a", "title: b",
    "command: echo \"{alpha}\" `{alpha}`", "sweep: {grid: {alpha: [1, 2]}, repeats: 3}",
    "repeats: 1000000000", "big: " + "7" * 4400, "when: 2025-10-18 14:03:22",
    "when: 2025-13-45", "training: {batch_size: 0, lr: .nan, epochs: 100000000}",
    "evaluation: {epochs: all}", "variables: {a: [1, 2, 3], A: [1]}",
    "compute: {output_dir: ../x}", "## 📋 Plan: x", "# Run Plan: g", "# Tasks",
    "- [ ] task", "| a | b |", "|---|---|", "<plan>", "</plan>", "```", "&#0;",
    "HF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh", "key: &a [*a]", "x: !!python/object {}",
]
TRACKER_FRAGMENTS = [
    "schema_version: 1", "run_group: g", "runs:", "  a:", "  a:", "  A:",
    "    finetune: {status: completed, job_id: '1'}", "    finetune: {status: bogus}",
    "    finetune:", "      status: failed", "      last_updated: 2025-10-18 14:03:22",
    "      job_id: " + "9" * 5000, "      reason: [1, {2: 3}]", "    evaluations: 5",
    "runs: [1, 2]", "run_group: 2025-10-18", "---", "...", "%YAML 1.1", "&x y: *x",
]


def _main(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(list(argv))
    return rc, out.getvalue() + err.getvalue()


FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@FUZZ
@given(parts=st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=30), max_size=25),
       name=st.sampled_from(["plan.md", "runs_plan.md", "tasks.md", "notes.md"]))
def test_fuzz_documents_through_lint(parts: list[str], name: str, tmp_path_factory
                                     ) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("doc")
    path = folder / name
    path.write_text("\n".join(parts), "utf-8", errors="surrogatepass")
    start = time.perf_counter()
    rc, text = _main("lint", "--format", "json", "--no-cache", str(path))
    assert time.perf_counter() - start < TIME_LIMIT_S
    assert rc in (0, 1, 2) and "PC999" not in text, text[-2000:]


@FUZZ
@given(parts=st.lists(st.sampled_from(TRACKER_FRAGMENTS), max_size=20))
def test_fuzz_trackers_through_lint_and_status(parts: list[str], tmp_path_factory
                                               ) -> None:  # type: ignore[no-untyped-def]
    group = tmp_path_factory.mktemp("grp")
    status = group / "runs_status.yaml"
    text = "\n".join(parts) + "\n"
    status.write_text(text, "utf-8")
    start = time.perf_counter()
    rc, out = _main("lint", "--format", "json", str(status))
    assert rc in (0, 1, 2) and "PC999" not in out, out[-2000:]
    rc, out = _main("status", str(group), "--json")
    assert rc in (0, 2), out[-2000:]
    if rc == 0:
        json.loads(out)
    assert time.perf_counter() - start < TIME_LIMIT_S
    assert status.read_text("utf-8") == text  # reading never rewrites


def test_yaml_strategies_are_yaml() -> None:
    """The tracker fragments include valid trackers (so the fuzz reaches past parsing)."""
    assert yaml.safe_load("\n".join(TRACKER_FRAGMENTS[:3] + TRACKER_FRAGMENTS[3:4]
                                    + TRACKER_FRAGMENTS[6:7]))["run_group"] == "g"


def test_full_disk_during_sync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               fake_slurm: Path) -> None:  # noqa: F811 (the fixture)
    """``planc status --sync`` on a full disk: one line, exit 2, the tracker as it was."""
    import errno

    from compiler import tracker

    from .test_submit_status import scontrol_line, submitted_group

    state = fake_slurm
    group = submitted_group(tmp_path)
    before = (group / "runs_status.yaml").read_bytes()
    (state / "scontrol.txt").write_text(scontrol_line("100", "COMPLETED"))

    def full(path: Path, data: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(tracker, "atomic_write", full)
    rc, out = _main("status", str(group), "--sync")
    assert rc == 2 and "No space left on device" in out and "Traceback" not in out
    assert len(out.strip().splitlines()) == 1, out
    assert (group / "runs_status.yaml").read_bytes() == before


# -- secrets: placeholders are not credentials ---------------------------------------------
@pytest.mark.parametrize("value", ["token_here", "your_token_here", "put-token-here",
                                   "changeme", "placeholder", "${HF_TOKEN}", "<token>"])
def test_a_placeholder_credential_is_not_a_secret(value: str) -> None:
    """cruijff_kit's torchtune template writes ``hf_token: "token_here"`` (tests/fixtures/real)."""
    from compiler.secrets import iter_secrets

    assert list(iter_secrets(f'hf_token: "{value}"')) == []


def test_a_literal_credential_beside_placeholders_is_still_a_secret() -> None:
    from compiler.secrets import iter_secrets

    found = list(iter_secrets('hf_token: "aB3dEf9hIjK2mN0pQ"  # was token_here'))
    assert [s.value for s in found] == ["aB3dEf9hIjK2mN0pQ"]
