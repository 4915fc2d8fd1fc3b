"""Every ``planc …`` command the shipped example plans tell a reader to type works as written.

The commands are the ones rule CM008 finds (:func:`compiler.rules.common.cm008_planc_command.
iter_planc_commands`: code spans and shell code blocks, from markdown-it tokens). Each plan's
commands run in document order on a fresh copy of the project: the ``cpu_only`` sweep
(``plans/lr-sweep``) runs for real (scikit-learn, a few seconds a run). A bare mention such
as ``planc status`` (prose naming a command that needs a group) must be a command whose
``--help`` works. Also here: plan paths, ``--only FACTOR=LEVEL`` and ``planc sync`` on their
own, with SLURM replaced by the fake commands of ``tests/test_submit_status.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import cli
from compiler.document import load
from compiler.rules.common.cm008_planc_command import iter_planc_commands
from compiler.selection import SelectionError, select
from tests.conftest import ROOT, run_planc
from tests.test_submit_status import calls, fake_slurm  # noqa: F401  (a fixture)

PLANS = sorted((ROOT / "plans").rglob("*.md"))
LR_SWEEP = "plans/lr-sweep/plan.md"
CAP_PLAN = "plans/cap_8L_llama32_lora_comparison/runs_plan.md"
# A plan a task of plans/digits-study/tasks.md writes (P4-T3 "defined in … and run with
# planc submit …"); until that task is done the command says so in one line.
NOT_WRITTEN_YET = {"plans/digits-study/width-ablation.md"}


def project(tmp_path: Path) -> Path:
    """A copy of the project (plans, clusters, templates, pyproject.toml) to run in."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("plans", "clusters", "templates"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def env() -> dict[str, str]:
    """planc from this checkout; ``python`` (the sweep's command) with scikit-learn."""
    return {"PYTHONPATH": str(ROOT),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def commands(plan: Path) -> list[tuple[int, list[str]]]:
    doc = load(plan)
    return [(line, [w for w, _ in words]) for line, _col, words in iter_planc_commands(doc)]


def needs_arguments(argv: list[str]) -> bool:
    """Whether the real parser refuses ``argv`` for a missing argument (a bare mention)."""
    parser, subparsers = cli.build_parser()
    cmd = argv[0]
    module = dict((n, m) for n, m, _h in cli.COMMANDS)[cmd]
    __import__(f"compiler.commands.{module}", fromlist=["x"]).add_arguments(subparsers[cmd])
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            parser.parse_args(argv)
        except SystemExit:
            return True
    return False


def statuses(group: Path) -> dict[str, str]:
    data = yaml.safe_load((group / "runs_status.yaml").read_text("utf-8"))
    return {name: rec["run"]["status"] for name, rec in data["runs"].items()}


def test_the_example_plans_write_the_commands_this_test_runs() -> None:
    found = {p.relative_to(ROOT).as_posix(): [" ".join(a) for _l, a in commands(p)]
             for p in PLANS}
    assert found["plans/lr-sweep/plan.md"] == [
        f"lint {LR_SWEEP}", f"compile {LR_SWEEP}", f"submit {LR_SWEEP}", "sync"]
    assert found["plans/digits-study/tasks.md"] == [
        "submit", "submit", "status", f"lint {LR_SWEEP}", f"submit {LR_SWEEP} --only alpha=1e-4",
        f"submit {LR_SWEEP}", "submit plans/digits-study/width-ablation.md"]


@pytest.mark.parametrize("plan", [p for p in PLANS if commands(p)],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_command_in_a_shipped_plan_works(plan: Path, tmp_path: Path) -> None:
    root = project(tmp_path)
    group = root / "build" / "plans" / "lr-sweep"
    not_written = set()
    for line, argv in commands(plan):
        where = f"{plan.name}:{line}: planc {' '.join(argv)}"
        if needs_arguments(argv):  # prose naming a command: it exists and documents itself
            proc = run_planc(argv[0], "--help", cwd=root, env=env())
            assert proc.returncode == 0 and "usage: planc" in proc.stdout, where
            continue
        missing = [a for a in argv[1:] if a.endswith(".md") and not (root / a).exists()]
        proc = run_planc(*argv, cwd=root, env=env(), timeout=600)
        if missing:
            assert missing[0] in NOT_WRITTEN_YET, where
            assert proc.returncode == 2, where
            assert proc.stderr == f"planc {argv[0]}: {missing[0]}: no such group folder or plan\n"
            not_written.add(missing[0])
            continue
        assert proc.returncode == 0, f"{where}\n{proc.stdout}\n{proc.stderr}"
        if argv[:2] == ["compile", LR_SWEEP]:
            assert statuses(group) == dict.fromkeys(statuses(group), "pending")
        if argv == ["submit", LR_SWEEP, "--only", "alpha=1e-4"]:
            # compiled first (reported), then only the two runs at alpha 0.0001
            assert f"compiled {LR_SWEEP}: {group}: 21 written" in proc.stderr
            assert statuses(group) == {
                "alpha0.0001_seed0": "completed", "alpha0.0001_seed1": "completed",
                "alpha0.001_seed0": "pending", "alpha0.001_seed1": "pending",
                "alpha0.01_seed0": "pending", "alpha0.01_seed1": "pending"}
        if argv == ["submit", LR_SWEEP]:
            assert f"{LR_SWEEP}: group {group}\n" in proc.stderr  # found, not compiled again
            assert set(statuses(group).values()) == {"completed"}
            for run in statuses(group):
                metrics = json.loads((group / run / "output" / "metrics.json").read_text())
                assert metrics["test_accuracy"] > 0.8
        if argv == ["sync"]:
            assert "run: 6 completed, 0 running, 0 submitted, 0 failed, 0 pending" in proc.stdout
    if plan.name == "tasks.md":
        assert not_written == NOT_WRITTEN_YET


# --- plan paths -----------------------------------------------------------------------------


def test_a_changed_plan_is_not_compiled_over_by_submit(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert run_planc("compile", LR_SWEEP, cwd=root, env=env()).returncode == 0
    plan = root / LR_SWEEP
    plan.write_text(plan.read_text("utf-8").replace("| 0, 1 |", "| 0, 1, 2 |"), "utf-8")
    group = root / "build" / "plans" / "lr-sweep"
    proc = run_planc("submit", LR_SWEEP, cwd=root, env=env())
    assert proc.returncode == 2
    assert proc.stderr == (
        f"planc submit: {LR_SWEEP} changed since it was compiled into {group}: compile it "
        f"again (planc compile {LR_SWEEP}, with the --cluster/--layout it was compiled with), "
        "then run this command again\n")
    assert set(statuses(group)) == {f"alpha{a}_seed{s}" for a in ("0.0001", "0.001", "0.01")
                                    for s in (0, 1)}
    # the read-only commands still show the group, and say it is from an earlier plan
    proc = run_planc("status", LR_SWEEP, cwd=root, env=env())
    assert proc.returncode == 0
    assert proc.stderr == (f"{LR_SWEEP}: group {group} (compiled from an earlier version of "
                           "the plan)\n")
    assert proc.stdout.startswith("lr-sweep: 6 run(s)\n")


def test_a_plan_not_compiled_yet(tmp_path: Path) -> None:
    root = project(tmp_path)
    for cmd in ("status", "results", "sync"):
        proc = run_planc(cmd, LR_SWEEP, cwd=root, env=env())
        assert proc.returncode == 2
        assert proc.stderr == (f"planc {cmd}: {LR_SWEEP} has not been compiled into "
                               f"{root / 'build' / 'plans'} (planc compile {LR_SWEEP})\n")
    proc = run_planc("submit", LR_SWEEP, "--dry-run", cwd=root, env=env())
    assert proc.returncode == 2 and "has not been compiled" in proc.stderr
    assert not (root / "build").exists()


def test_submit_never_compiles_over_a_group_another_plan_owns(tmp_path: Path) -> None:
    root = project(tmp_path)
    other = root / "plans" / "other" / "plan.md"
    other.parent.mkdir()
    other.write_text((root / LR_SWEEP).read_text("utf-8").replace(
        "title: Learning-rate sweep", "name: lr-sweep\ntitle: Learning-rate sweep"), "utf-8")
    assert run_planc("compile", LR_SWEEP, cwd=root, env=env()).returncode == 0
    before = (root / "build" / "plans" / "lr-sweep" / "manifest.json").read_bytes()
    proc = run_planc("submit", "plans/other/plan.md", cwd=root, env=env())
    assert proc.returncode == 2
    assert "holds group 'lr-sweep' compiled from plans/lr-sweep/plan.md" in proc.stderr
    assert (root / "build" / "plans" / "lr-sweep" / "manifest.json").read_bytes() == before


# --- --only on SLURM: dependencies hold for the subset --------------------------------------


def test_only_by_factor_level_keeps_each_evaluation_after_its_fine_tune(
        tmp_path: Path, fake_slurm: Path) -> None:  # noqa: F811
    root = project(tmp_path)
    proc = run_planc("submit", CAP_PLAN, "--only", "lora_rank=4", cwd=root, env=env())
    assert proc.returncode == 0, proc.stderr
    assert f"compiled {CAP_PLAN}: " in proc.stderr
    group = root / "build" / "plans" / "cap_8L_llama32_lora_comparison"
    train_ids: dict[str, str] = {}
    seen = []
    for n, call in enumerate(calls(fake_slurm, "sbatch")):
        rel = Path(call["cwd"]).relative_to(group).parts
        job_id = str(100 + n)
        dep = next((a.split("=", 1)[1] for a in call["argv"] if a.startswith("--dependency")),
                   None)
        if len(rel) == 1:
            train_ids[rel[0]] = job_id
            assert dep is None
        else:
            assert dep == f"afterok:{train_ids[rel[0]]}"
        seen.append(rel[0])
    assert sorted(set(seen)) == ["Llama-3.2-1B-Instruct_rank4", "Llama-3.2-3B-Instruct_rank4"]
    assert len(seen) == 6  # two fine-tunes, two evaluations each


def test_only_model_includes_its_control_and_bad_levels_are_usage_errors(
        tmp_path: Path, fake_slurm: Path) -> None:  # noqa: F811
    root = project(tmp_path)
    assert run_planc("compile", CAP_PLAN, cwd=root, env=env()).returncode == 0
    proc = run_planc("submit", CAP_PLAN, "--dry-run", "--only", "model=Llama-3.2-1B-Instruct",
                     "--only", "lora_rank=64,4", cwd=root, env=env())
    assert proc.returncode == 0, proc.stderr
    runs = sorted({line.split("cap_8L_llama32_lora_comparison/")[1].split("/")[0].split(" ")[0]
                   for line in proc.stdout.splitlines()})
    assert runs == ["Llama-3.2-1B-Instruct_rank4", "Llama-3.2-1B-Instruct_rank64"]
    proc = run_planc("submit", CAP_PLAN, "--dry-run", "--only", "model=Llama-3.2-1B-Instruct",
                     cwd=root, env=env())
    assert "Llama-3.2-1B-Instruct_base/eval" in proc.stdout
    assert "3B" not in proc.stdout
    for only, message in (
            ("lora_rank=8", "--only lora_rank=8: lora_rank has no level '8'; levels: 4, 64"),
            ("rank=4", "--only rank=4: no factor 'rank'; factors: model (Llama-3.2-1B-Instruct, "
                       "Llama-3.2-3B-Instruct); lora_rank (4, 64)")):
        proc = run_planc("submit", CAP_PLAN, "--only", only, cwd=root, env=env())
        assert proc.returncode == 2
        assert proc.stderr.splitlines()[-1] == f"planc submit: {message}"
    assert calls(fake_slurm, "sbatch") == []


# --- selection rules ----------------------------------------------------------------------

NAMES = ["a1_s0", "a1_s1", "a2_s0", "base"]
FACTORS = {"a1_s0": {"alpha": 0.0001, "seed": 0}, "a1_s1": {"alpha": 0.0001, "seed": 1},
           "a2_s0": {"alpha": 0.001, "seed": 0}, "base": {}}


@pytest.mark.parametrize("entries,want", [
    (["alpha=1e-4"], ["a1_s0", "a1_s1"]),
    (["alpha=0.0001"], ["a1_s0", "a1_s1"]),
    (["alpha=1e-4,1E-3"], ["a1_s0", "a1_s1", "a2_s0"]),
    (["alpha=1e-4", "seed=1"], ["a1_s1"]),              # different factors: all must match
    (["seed=0", "seed=1"], ["a1_s0", "a1_s1", "a2_s0"]),  # one factor: any level
    (["base", "alpha=1e-3"], ["a2_s0", "base"]),        # names add to the factor selection
    (["a1_s1,a2_s0"], ["a1_s1", "a2_s0"]),
    ([], []),
])
def test_select(entries: list[str], want: list[str]) -> None:
    assert select(entries, NAMES, FACTORS) == want


@pytest.mark.parametrize("entries,message", [
    (["alpha=1e-5"], "--only alpha=1e-5: alpha has no level '1e-5'; levels: 0.0001, 0.001"),
    (["lr=1"], "--only lr=1: no factor 'lr'; factors: alpha (0.0001, 0.001); seed (0, 1)"),
    (["alpha=1e-3", "seed=1"], "--only alpha=1e-3 seed=1: no run has all of these levels"),
    (["nope"], "--only nope: no run 'nope' in the group; runs: a1_s0, a1_s1, a2_s0, base"),
])
def test_select_errors(entries: list[str], message: str) -> None:
    with pytest.raises(SelectionError) as exc:
        select(entries, NAMES, FACTORS)
    assert str(exc.value) == message


def test_factor_levels_need_the_plan() -> None:
    assert select(["a1_s0"], NAMES, None) == ["a1_s0"]
    with pytest.raises(SelectionError, match="factor levels of this group are not known"):
        select(["alpha=1e-4"], NAMES, None)


# --- planc sync -----------------------------------------------------------------------------


def test_sync_is_status_sync(tmp_path: Path, fake_slurm: Path) -> None:  # noqa: F811
    root = project(tmp_path)
    proc = run_planc("sync", cwd=root, env=env())
    assert proc.returncode == 2
    assert proc.stderr == (f"planc sync: no compiled group in {root / 'build' / 'plans'} "
                           "(planc compile PLAN first, or name a group folder)\n")
    assert run_planc("compile", LR_SWEEP, CAP_PLAN, cwd=root, env=env()).returncode == 0
    cap = root / "build" / "plans" / "cap_8L_llama32_lora_comparison"
    assert run_planc("submit", str(cap), "--only", "Llama-3.2-1B-Instruct_rank4",
                     cwd=root, env=env()).returncode == 0
    (fake_slurm / "scontrol.txt").write_text(
        "JobId=100 JobName=x JobState=COMPLETED Reason=None ExitCode=0:0 StdOut=/x/o\n")
    proc = run_planc("sync", "--json", cwd=root, env=env())
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [o["group"] for o in out] == ["cap_8L_llama32_lora_comparison", "lr-sweep"]
    assert out[0]["counts"]["finetune"]["completed"] == 1
    assert out[0]["sync"]["queried"] == 3
    status = run_planc("status", CAP_PLAN, "--sync", "--json", cwd=root, env=env())
    again = run_planc("sync", CAP_PLAN, "--json", cwd=root, env=env())
    assert [json.loads(again.stdout)[0]["counts"]] == [json.loads(status.stdout)["counts"]]


def test_sync_reports_every_bad_target_and_syncs_the_rest(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert run_planc("compile", LR_SWEEP, cwd=root, env=env()).returncode == 0
    proc = run_planc("sync", "nowhere", LR_SWEEP, cwd=root, env=env())
    assert proc.returncode == 2
    assert "planc sync: nowhere: no such group folder or plan\n" in proc.stderr
    assert proc.stdout.startswith("lr-sweep: 6 run(s)\n")


def test_cli_lists_sync_and_the_parser_table_has_every_command() -> None:
    table = cli.command_table()
    assert [c for c in table if c] == [name for name, _m, _h in cli.COMMANDS]
    assert "--only" in table["submit"]["options"] and "--only" in table["run"]["options"]
    assert table["cluster"]["actions"] == {"detect": ["--help", "--json", "--name",
                                                      "--profile", "-h"]}
    assert table["site"]["choices"] == ["build", "serve"]


# --- rule CM008 -----------------------------------------------------------------------------


def test_cm008_messages() -> None:
    from compiler.config import Settings
    from compiler.lint import lint_paths

    bad = ROOT / "tests" / "fixtures" / "common" / "bad" / "planc-commands.md"
    diags = lint_paths([bad], Settings(root=ROOT, select=("CM008",)))
    commands_list = ("commands: lint, rules, explain, expand, compile, submit, status, sync, "
                     "run, cluster, results, site")
    assert [(d.line, d.column, d.severity.value, d.message, d.fix) for d in diags] == [
        (7, 33, "error", f"planc has no command 'collect'; {commands_list}", None),
        (8, 42, "error", "planc submit has no option --only-runs (did you mean --only?); see "
         "`planc submit --help`", "--only"),
        (9, 32, "error", "planc cluster has no action 'probe'; actions: detect", None),
        (9, 55, "error", "planc site takes build or serve, not 'deploy'", None),
        (9, 99, "error", "planc run has no option -j; see `planc run --help`", None),
        (13, 98, "error", "planc submit has no option --wait; see `planc submit --help`", None),
        (14, 48, "error", f"planc has no command 'lnt' (did you mean 'lint'?); {commands_list}",
         "planc lint"),
        (22, 29, "error", "planc expand has no option --formt (did you mean --format?); see "
         "`planc expand --help`", "--format"),
        # a console session: `planc 0.1.0` (output of --version) is not a command
        (27, 9, "error", f"planc has no command 'sumbit' (did you mean 'submit'?); "
         f"{commands_list}", "planc submit"),
    ]


def test_cm008_finds_nothing_in_the_shipped_plans_and_good_fixtures() -> None:
    from compiler.config import Settings
    from compiler.lint import lint_paths

    files = PLANS + sorted((ROOT / "tests" / "fixtures").glob("*/good/**/*.md"))
    assert [d for d in lint_paths(files, Settings(root=ROOT, select=("CM008",)))] == []
    assert sum(len(commands(p)) for p in PLANS) == 11  # the rule did look at them


def test_only_in_the_array_layout_chains_the_selected_elements(
        tmp_path: Path, fake_slurm: Path) -> None:  # noqa: F811
    root = project(tmp_path)
    proc = run_planc("compile", CAP_PLAN, "--cluster", "ci-slurm", "--layout", "array",
                     cwd=root, env=env())
    assert proc.returncode == 0, proc.stderr
    group = root / "build" / "plans" / "cap_8L_llama32_lora_comparison"
    # array_index.tsv: 0 1B_rank4, 1 1B_rank64, 2 3B_rank4, 3 3B_rank64 (then the controls)
    proc = run_planc("submit", str(group), "--only", "lora_rank=64", cwd=root, env=env())
    assert proc.returncode == 0, proc.stderr
    got = [(c["argv"][1:-1], c["argv"][-1]) for c in calls(fake_slurm, "sbatch")]
    assert got[0] == (["--array=1,3"], "finetune_array.slurm")
    assert len(got) > 1 and all(
        args == ["--array=1,3", "--dependency=aftercorr:100", "--kill-on-invalid-dep=yes"]
        for args, _script in got[1:])


# hypothesis: any command and options planc has lint clean; one option it lacks is one finding
_TABLE = cli.command_table()
_COMMANDS = [c for c in _TABLE if c and not _TABLE[c]["actions"] and not _TABLE[c]["choices"]]


@st.composite
def _command(draw: st.DrawFn) -> tuple[str, list[str]]:
    cmd = draw(st.sampled_from(_COMMANDS))
    options = [o for o in _TABLE[cmd]["options"] if o.startswith("--")]  # type: ignore[union-attr]
    chosen = draw(st.lists(st.sampled_from(options), max_size=4))
    words = draw(st.lists(st.from_regex(r"[a-z0-9_./=]{1,12}", fullmatch=True), max_size=3))
    return cmd, [*words, *chosen]


@settings(max_examples=40, deadline=None)
@given(_command(), st.from_regex(r"--zz[a-z]{1,8}", fullmatch=True), st.booleans())
def test_cm008_known_commands_pass_and_one_unknown_option_is_found(
        command: tuple[str, list[str]], bogus: str, fenced: bool) -> None:
    from compiler.rules.base import Context
    from compiler.rules.common import cm008_planc_command as cm008

    cmd, args = command
    good = " ".join(["planc", cmd, *args])
    bad = f"{good} {bogus}"

    def doc(code: str):  # type: ignore[no-untyped-def]
        text = (f"# Notes\n\n```bash\n{code}\n```\n" if fenced else f"# Notes\n\nRun `{code}`.\n")
        return load("notes.md", text=text, kind="plan")

    assert list(cm008.check(Context(doc(good)))) == []
    found = list(cm008.check(Context(doc(bad))))
    line, column = (4, 1 + len(good) + 1) if fenced else (3, 6 + len(good) + 1)
    # a bogus option near a real one also gets a "(did you mean --out?)" hint
    assert [(f.line, f.column, f.message.split(";")[0].split(" (did you mean")[0])
            for f in found] == [(line, column, f"planc {cmd} has no option {bogus}")]


def test_a_broken_configuration_stops_a_plan_target(tmp_path: Path) -> None:
    root = project(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text("utf-8").replace(
        "[tool.planc]\n", "[tool.planc]\nmax_runs = \"many\"\n"), "utf-8")
    proc = run_planc("submit", LR_SWEEP, cwd=root, env=env())
    assert proc.returncode == 2
    assert proc.stderr.startswith("planc submit: the project configuration has errors:\n")
    assert "max_runs" in proc.stderr and not (root / "build").exists()
