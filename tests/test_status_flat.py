"""cruijff_kit's flat ``runs_status.yaml`` form (``finetune_status``, ``eval_job_id``, …):
linted like the nested form at its own keys, and kept flat by every writer.

The flat form is the one niznik-dev/cruijff_kit's ``update-run-status`` skill writes
(``.claude/skills/update-run-status/skill.md`` at commit
d15ec1129ed5146f0fe481e0bb92363fa1f897ac, "Status File Format"); its
``tools/run_management/update_run_status.py`` (commit
665827b3f0ff2c7836a8d4de4462c135ea05d9f6) writes job ids as ints with
``yaml.dump(data, default_flow_style=False, sort_keys=False)``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import sync, tracker
from compiler.backends import slurm
from compiler.config import Settings
from compiler.document import load
from compiler.lint import lint_document
from compiler.models.status import FlatStage, iter_stages, stage_of

from . import test_submit_status as _submit_tests
from .conftest import ROOT, run_planc

fake_slurm = _submit_tests.fake_slurm  # the fake SLURM clients fixture, shared

SETTINGS = Settings(root=ROOT)

# The skill's own example, verbatim in shape and values.
SKILL_EXAMPLE = """\
# Run Status Tracker
# Auto-generated and updated by update-run-status skill
# Last updated: 2025-10-19 18:30:00

run_group: cap_8L_llama32_lora_comparison_2025-10-18
runs:
  1B_rank4:
    finetune_status: completed
    finetune_job_id: "1234567"
    finetune_output: /scratch/gpfs/MSALGANIK/mjs3/ck-out-bright-horizon/epoch_2
    eval_status: running
    eval_job_id: "1234568"
    eval_output: null
    last_updated: "2025-10-19 18:30:00"
  1B_rank64:
    finetune_status: running
    finetune_job_id: "1234569"
    finetune_output: null
    eval_status: pending
    eval_job_id: null
    eval_output: null
    last_updated: "2025-10-19 18:25:00"
"""


def _diags(text: str, name: str = "runs_status.yaml", folder: Path | None = None
           ) -> list[tuple[int, int, str, str]]:
    path = (folder / name) if folder else Path("/nonexistent-planc-test") / name
    doc = load(path, text=text)
    return [(d.line, d.column, d.code, d.message + (f" ({d.fix})" if d.fix else ""))
            for d in lint_document(doc, SETTINGS)]


def _as_update_run_status_writes(text: str) -> str:
    """The tracker after cruijff_kit's tool touched it: int job ids, ``yaml.dump``."""
    data = yaml.safe_load(text)
    for rec in data["runs"].values():
        for key in ("finetune_job_id", "eval_job_id"):
            if rec.get(key) is not None:
                rec[key] = int(rec[key])
    return yaml.dump(data, default_flow_style=False, sort_keys=False)


def test_the_skill_example_lints_clean() -> None:
    assert _diags(SKILL_EXAMPLE) == []


def test_the_example_as_yaml_dump_writes_it_with_int_ids_lints_clean() -> None:
    text = _as_update_run_status_writes(SKILL_EXAMPLE)
    assert "finetune_job_id: 1234567\n" in text  # an int, as the tool writes it
    assert "last_updated: '2025-10-19 18:30:00'" in text  # yaml.dump quotes it itself
    assert _diags(text) == []


def test_planted_contradictions_are_errors_at_their_flat_keys() -> None:
    text = """\
run_group: g
runs:
  1B_rank4:
    finetune_status: done
    finetune_job_id: ""
    finetune_output: /abs/1B_rank4/epoch_0
    eval_status: pending
    eval_job_id: 12.5
    eval_output: null
    last_updated: 2025-10-19 18:30:00
  1B_rank64: {}
  1B_rank8:
    finetune: {status: pending, job_id: null, output: null, last_updated: null}
    finetune_status: completed
    finetune_exit_code: zero
"""
    assert _diags(text) == [
        (4, 22, "RS002", "1B_rank4: finetune_status 'done' is not one of pending, "
                         "submitted, running, completed, failed, skipped"),
        (5, 22, "RS005", "finetune_job_id is an empty string; unset values are null "
                         "(write finetune_job_id: null)"),
        (8, 18, "RS003", "eval_job_id 12.5 is a float, not a job id (write the id as sbatch "
                         'printed it, e.g. eval_job_id: "4812345")'),
        (10, 19, "RS004", "last_updated is unquoted, so YAML reads it as a date "
                          '(quote it: last_updated: "2025-10-19 18:30:00")'),
        (11, 3, "RS009", "run '1B_rank64' has no stage (no finetune, run or evaluations, "
                         "and no finetune_status/eval_status) (add 'finetune: {status: "
                         "pending, job_id: null, output: null, last_updated: null}' or run "
                         "planc compile)"),
        (14, 5, "RS009", "run '1B_rank8' writes its finetune stage twice: as finetune: and "
                         "as finetune_* keys (keep one form)"),
        (14, 5, "RS010", "1B_rank8/finetune is completed but has no job id (write the "
                         "job's id (finetune_job_id: \"<id>\"), or status: pending if it "
                         "never ran)"),
        (15, 5, "RS001", "1B_rank8.finetune_exit_code: Input should be a valid integer, "
                         "unable to parse string as an integer"),
    ]


def test_a_finished_flat_stage_without_a_job_id_is_an_error() -> None:
    text = """\
run_group: g
runs:
  1B_rank4:
    finetune_status: completed
    finetune_job_id: null
    finetune_output: /abs/1B_rank4/epoch_0
    eval_status: running
    eval_output: null
    last_updated: "2025-10-19 18:30:00"
"""
    assert [(d[0], d[1], d[2]) for d in _diags(text)] == [(5, 22, "RS010"), (7, 5, "RS010")]


def test_a_flat_stage_without_a_status_is_reported_at_its_run() -> None:
    text = "run_group: g\nruns:\n  r1:\n    eval_job_id: null\n    eval_output: null\n"
    assert _diags(text) == [(3, 3, "RS002", "r1/eval has no status (add 'eval_status: pending')")]


def test_an_empty_run_record_in_the_nested_form_is_rs009() -> None:
    text = "schema_version: 1\nrun_group: g\nruns:\n  r1:\n    type: sweep\n"
    assert [d[2] for d in _diags(text)] == ["RS009"]


def test_flat_base_run_beside_a_plan(tmp_path: Path) -> None:
    """RS006/RS007 read the flat form: a control's finetune_status must be skipped."""
    example = ROOT / "plans" / "cap_8L_llama32_lora_comparison"
    (tmp_path / "runs_plan.md").write_text((example / "runs_plan.md").read_text("utf-8"))
    nested = yaml.safe_load((example / "runs_status.yaml").read_text("utf-8"))
    runs = {}
    for name in nested["runs"]:
        base = name.endswith("_base")
        runs[name] = {"finetune_status": "pending", "finetune_job_id": None,
                      "finetune_output": None, "eval_status": "pending", "eval_job_id": None,
                      "eval_output": None, "last_updated": None}
        if base and name.startswith("Llama-3.2-3B"):
            continue  # planted: stays pending
        if base:
            runs[name]["finetune_status"] = "skipped"
    text = yaml.dump({"run_group": nested["run_group"], "runs": runs}, sort_keys=False)
    diags = _diags(text, folder=tmp_path)
    line = text.splitlines().index("  Llama-3.2-3B-Instruct_base:") + 2
    assert diags == [(line, 22, "RS007", "base run 'Llama-3.2-3B-Instruct_base': "
                      "finetune_status is 'pending'; base models are not fine-tuned "
                      "(write finetune_status: skipped)")]


# -- writers keep the flat form ----------------------------------------------------------
def _scontrol(job: str, state: str, exit_code: str = "0:0") -> str:
    return (f"JobId={job} JobName=j UserId=root(0) JobState={state} Reason=None "
            f"Dependency=(null) ExitCode={exit_code} Partition=debug Command=/x/a.slurm "
            f"WorkDir=/x StdErr=/x/slurm-{job}.out StdIn=/dev/null "
            f"StdOut=/x/slurm-{job}.out Power= \n")


def test_sync_updates_flat_keys_in_place_and_loses_none(tmp_path: Path) -> None:
    path = tmp_path / "runs_status.yaml"
    path.write_text(_as_update_run_status_writes(SKILL_EXAMPLE))
    before = yaml.safe_load(path.read_text())
    answer = _scontrol("1234568", "COMPLETED") + _scontrol("1234569", "FAILED", "3:0")

    def runner(argv, cwd=None, env=None):
        return slurm.subprocess.CompletedProcess(argv, 0, answer, "")

    report = sync.sync_all(path, runner)
    assert sorted((c.run, c.stage, c.old, c.new) for c in report.changes) == [
        ("1B_rank4", "evaluations/eval", "running", "completed"),
        ("1B_rank64", "finetune", "running", "failed")]
    after = yaml.safe_load(path.read_text())
    r4, r64 = after["runs"]["1B_rank4"], after["runs"]["1B_rank64"]
    # every key written before is still there, in order, no nested stage appeared
    for name, rec in before["runs"].items():
        assert list(after["runs"][name])[:len(rec)] == list(rec)
        assert not {"finetune", "evaluations", "run"} & set(after["runs"][name])
    assert (r4["eval_status"], r4["eval_job_id"], r4["eval_exit_code"]) == (
        "completed", 1234568, 0)
    assert r4["eval_output"] == "/x/slurm-1234568.out"  # filled: it was null
    assert r4["finetune_output"] == before["runs"]["1B_rank4"]["finetune_output"]
    assert (r64["finetune_status"], r64["finetune_exit_code"]) == ("failed", 3)
    assert r64["finetune_reason"]
    assert r4["last_updated"] != "2025-10-19 18:30:00"  # the run's one timestamp moved
    assert _diags(path.read_text()) == []  # still a valid flat tracker
    # a second sync has nothing to ask: no stage is active
    assert sync.active_job_ids(after) == []


def test_compile_merge_keeps_a_flat_run_as_written() -> None:
    existing = yaml.safe_load(SKILL_EXAMPLE)
    compiled = {"schema_version": 1, "run_group": "g", "runs": {
        "1B_rank4": {"finetune": tracker.stage(),
                     "evaluations": {"cap_epoch_0": tracker.stage()}},
        "1B_rank16": {"finetune": tracker.stage()}}}
    merged, report = tracker.merge(copy.deepcopy(existing), compiled)
    assert merged["runs"]["1B_rank4"] == existing["runs"]["1B_rank4"]
    assert merged["runs"]["1B_rank64"] == existing["runs"]["1B_rank64"]
    assert report.flat_runs == ["1B_rank4"]
    assert report.removed_runs == ["1B_rank64"]
    assert report.added_runs == ["1B_rank16"]


def test_set_stage_and_counts_read_the_flat_form() -> None:
    data = yaml.safe_load(SKILL_EXAMPLE)
    assert tracker.set_stage(data, "1B_rank64", "finetune", status="completed", exit_code=0)
    assert data["runs"]["1B_rank64"]["finetune_status"] == "completed"
    assert data["runs"]["1B_rank64"]["finetune_exit_code"] == 0
    assert not tracker.set_stage(data, "1B_rank64", "run", status="completed")
    assert "run_status" not in data["runs"]["1B_rank64"]
    counts = sync.summarize(data)
    assert counts["finetune"]["completed"] == 2
    assert counts["evaluations"]["running"] == 1 and counts["evaluations"]["pending"] == 1
    rows = sync.stage_rows(data)
    assert [(r["run"], r["stage"], r["job_id"]) for r in rows] == [
        ("1B_rank4", "finetune", "1234567"), ("1B_rank4", "evaluations/eval", "1234568"),
        ("1B_rank64", "finetune", "1234569"), ("1B_rank64", "evaluations/eval", None)]


_field = st.sampled_from(["status", "job_id", "output", "last_updated", "reason", "note"])
_value = st.one_of(st.none(), st.text(max_size=5), st.integers(0, 10**7))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["finetune", "eval"]), _field, _value), max_size=8))
def test_stage_writes_only_touch_their_own_flat_key(writes) -> None:
    data = yaml.safe_load(SKILL_EXAMPLE)
    rec = data["runs"]["1B_rank4"]
    expected = dict(rec)
    for prefix, field, value in writes:
        stage = stage_of(rec, "finetune" if prefix == "finetune" else "evaluations/eval")
        assert isinstance(stage, FlatStage)
        stage[field] = value
        expected[field if field == "last_updated" else f"{prefix}_{field}"] = value
        assert stage[field] == value
    assert rec == expected
    assert [k for _r, k, _s in iter_stages(data) if _r == "1B_rank4"] == [
        "finetune", "evaluations/eval"]
    back = yaml.safe_load(tracker.dump(data))
    assert back["runs"]["1B_rank4"] == rec


def test_planc_status_sync_keeps_the_flat_form(tmp_path: Path, fake_slurm: Path) -> None:
    """The command users type, with fake SLURM clients first on PATH (test_submit_status)."""
    group = tmp_path / "cap"
    group.mkdir()
    path = group / "runs_status.yaml"
    original = _as_update_run_status_writes(SKILL_EXAMPLE)
    path.write_text(original)
    (fake_slurm / "scontrol.txt").write_text(
        _scontrol("1234568", "RUNNING") + _scontrol("1234569", "COMPLETED"))
    proc = run_planc("status", str(group), "--sync")
    assert proc.returncode == 0, proc.stderr
    before, after = yaml.safe_load(original), yaml.safe_load(path.read_text())
    assert after["run_group"] == before["run_group"]
    r64 = after["runs"]["1B_rank64"]
    assert (r64["finetune_status"], r64["finetune_job_id"], r64["finetune_exit_code"]) == (
        "completed", 1234569, 0)
    assert r64["finetune_output"] == "/x/slurm-1234569.out"
    # the running eval stays running; only its null output is filled from StdOut
    assert after["runs"]["1B_rank4"] == before["runs"]["1B_rank4"] | {
        "eval_output": "/x/slurm-1234568.out"}
    for name, rec in before["runs"].items():
        assert set(rec) <= set(after["runs"][name])
        assert not {"finetune", "evaluations", "run"} & set(after["runs"][name])
    assert _diags(path.read_text()) == []


_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**8), st.text(max_size=6),
                    st.sampled_from(["", "pending", "completed", "2025-10-18 14:03:22"]),
                    st.lists(st.integers(0, 9), max_size=2))
_FLAT_KEY = st.sampled_from(["finetune_status", "finetune_job_id", "finetune_output",
                             "eval_status", "eval_job_id", "eval_output", "last_updated",
                             "finetune_reason", "eval_exit_code", "finetune_"])


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(_FLAT_KEY, _SCALAR, max_size=7))
def test_any_flat_record_lints_without_crashing_at_positions_in_the_file(rec) -> None:
    text = yaml.safe_dump({"run_group": "g", "runs": {"r1": rec}}, sort_keys=False)
    n_lines = len(text.splitlines())
    for line, col, code, _msg in _diags(text):
        assert 1 <= line <= n_lines and col >= 1, (line, col, code)
