"""``planc submit --max-queued N``: drip-fed submission under a QoS cap (issue 14), against
the fake SLURM commands of ``tests/test_submit_status.py``."""

from __future__ import annotations

from pathlib import Path

from compiler import submit as submit_cmd
from compiler import sync as status_cmd
from tests.conftest import run_planc
from tests.test_submit_status import (  # noqa: F401 (fake_slurm is a fixture)
    STANDARD,
    calls,
    fake_slurm,
    load,
    make_group,
    scontrol_line,
    stage_of,
)


def _submitted(state: Path, group: Path) -> list[tuple[str, list[str]]]:
    return [(Path(c["cwd"]).relative_to(group.resolve()).as_posix(), c["argv"])
            for c in calls(state, "sbatch")]


def test_max_queued_submits_what_fits_and_holds_the_rest(tmp_path: Path,
                                                         fake_slurm: Path) -> None:  # noqa: F811
    group = make_group(tmp_path, STANDARD)  # 6 jobs: r1 ft + 2 evals, r2 ft + 1 eval, base 1
    proc = run_planc("submit", str(group), "--max-queued", "4")
    assert proc.returncode == 0, proc.stderr
    assert "queued 2 stage(s) for later (--max-queued)" in proc.stdout
    assert [d for d, _a in _submitted(fake_slurm, group)] == [
        "r1", "r1/eval/t_epoch_0", "r1/eval/t_epoch_1", "r2"]
    data = load(group)
    assert data["max_queued"] == 4
    held = stage_of(data, "r2", "evaluations/t_epoch_0")
    assert held["status"] == "pending" and held.get("queued") and held.get("job_id") is None
    assert stage_of(data, "base", "evaluations/t")["queued"]
    assert "queued" not in stage_of(data, "r2", "finetune")
    # nothing finished: a second submit adds nothing
    assert submit_cmd.submit_group(group).jobs == []
    assert len(calls(fake_slurm, "sbatch")) == 4


def test_sync_continues_and_dependencies_hold(tmp_path: Path, fake_slurm: Path) -> None:  # noqa: F811
    group = make_group(tmp_path, STANDARD)
    submit_cmd.submit_group(group, max_queued=1)  # only r1's fine-tune (job 100)
    assert [d for d, _a in _submitted(fake_slurm, group)] == ["r1"]
    data = load(group)
    # an evaluation is never submitted before its fine-tune's job id is known
    assert stage_of(data, "r1", "evaluations/t_epoch_0")["queued"]
    (fake_slurm / "scontrol.txt").write_text(scontrol_line("100", "RUNNING"))
    rep = status_cmd.sync_all(group)
    assert any("submitted 0 queued stage(s); 5 still queued" in n for n in rep.notes)
    (fake_slurm / "scontrol.txt").write_text(scontrol_line("100", "COMPLETED"))
    rep = status_cmd.sync_all(group)
    # a slot freed: the next stage in order (r1's first evaluation, fine-tune done → no dep)
    assert _submitted(fake_slurm, group)[1] == ("r1/eval/t_epoch_0",
                                                ["--parsable", "eval.slurm"])
    data = load(group)
    ev = stage_of(data, "r1", "evaluations/t_epoch_0")
    assert ev["status"] == "submitted" and ev["job_id"] == "101" and "queued" not in ev
    assert data["max_queued"] == 1


def test_held_fine_tune_then_its_evaluations_chain_on_its_id(tmp_path: Path,
                                                              fake_slurm: Path) -> None:  # noqa: F811
    group = make_group(tmp_path, {"r1": {"evals": ["t_epoch_0"]}, "r2": {"evals": ["t"]}})
    submit_cmd.submit_group(group, max_queued=3)
    # r1 ft (100), r1 eval afterok:100, r2 ft (102); r2's eval waits for a slot
    sub = _submitted(fake_slurm, group)
    assert [d for d, _a in sub] == ["r1", "r1/eval/t_epoch_0", "r2"]
    (fake_slurm / "scontrol.txt").write_text(
        scontrol_line("100", "COMPLETED") + scontrol_line("101", "RUNNING")
        + scontrol_line("102", "RUNNING"))
    status_cmd.sync_all(group)
    last = _submitted(fake_slurm, group)[-1]
    assert last == ("r2/eval/t", ["--parsable", "--dependency=afterok:102",
                                  "--kill-on-invalid-dep=yes", "eval.slurm"])
    data = load(group)
    assert "max_queued" not in data  # nothing left to hold: the cap is dropped
    assert not any("queued" in stage_of(data, r, k) for r, k in (
        ("r1", "finetune"), ("r2", "evaluations/t")))


def test_max_queued_must_be_positive(tmp_path: Path, fake_slurm: Path) -> None:  # noqa: F811
    group = make_group(tmp_path, STANDARD)
    proc = run_planc("submit", str(group), "--max-queued", "0")
    assert proc.returncode == 2 and "--max-queued must be at least 1" in proc.stderr
    assert calls(fake_slurm, "sbatch") == []


def test_a_journal_left_by_a_crash_is_recorded_first(tmp_path: Path, fake_slurm: Path) -> None:  # noqa: F811
    import json

    group = make_group(tmp_path, STANDARD)
    journal = group / "runs_status.yaml.submitted.jsonl"
    journal.write_text(json.dumps({"run": "r1", "stage": "finetune", "job_id": "77",
                                   "output": None, "submitted": "2026-01-02 03:04:05"})
                       + "\n{\"torn")
    submit_cmd.submit_group(group, max_queued=2)
    data = load(group)
    ft = stage_of(data, "r1", "finetune")
    assert (ft["status"], ft["job_id"], ft["submitted"]) == ("submitted", "77",
                                                             "2026-01-02 03:04:05")
    assert not journal.exists()
    # r1's evaluation chains on the journaled id; the cap (2) then holds the rest
    assert _submitted(fake_slurm, group)[0] == ("r1/eval/t_epoch_0", [
        "--parsable", "--dependency=afterok:77", "--kill-on-invalid-dep=yes", "eval.slurm"])
    assert len(calls(fake_slurm, "sbatch")) == 1


def test_results_efficiency_reads_sacct_and_stores_the_report(tmp_path: Path,
                                                              fake_slurm: Path) -> None:  # noqa: F811
    import json

    group = make_group(tmp_path, {"r1": {"evals": ["t"]}})
    submit_cmd.submit_group(group)  # r1 finetune 100, evaluation 101
    (fake_slurm / "sacct.txt").write_text(
        "100|COMPLETED|00:10:00|01:00:00|00:15:00|2||8G\n"
        "100.batch|COMPLETED|00:10:00||00:15:00|2|1536000K|\n"
        "101|COMPLETED|00:01:00|01:00:00|00:00:30|1||4G\n")
    proc = run_planc("results", str(group), "--efficiency")
    assert "  r1 finetune (job 100): time 17%, memory 18%, CPU 75%" in proc.stdout, \
        proc.stdout + proc.stderr
    assert "  r1 evaluations/t (job 101): time 2%, memory -, CPU 50%" in proc.stdout
    sacct = [c["argv"] for c in calls(fake_slurm, "sacct")]
    assert ["-n", "--parsable2", "-j", "100,101"] == sacct[-1][:4]
    stored = json.loads((group / "efficiency.json").read_text())
    assert stored["note"] == "2 job(s) read from sacct" and len(stored["stages"]) == 2


def test_a_profile_that_drip_feeds_needs_no_flag(tmp_path: Path,
                                                  fake_slurm: Path) -> None:  # noqa: F811
    """A cluster profile's ``max_queued`` reaches the compiled tracker, so a plain
    ``planc submit`` holds what does not fit (issue 14: "or the profile's cap")."""
    import shutil

    from tests.conftest import FIXTURES

    (tmp_path / "pyproject.toml").write_text("[tool.planc]\n", "utf-8")
    shutil.copytree(FIXTURES / "cluster" / "clusters", tmp_path / "clusters")
    plan = tmp_path / "drip.md"
    shutil.copy(FIXTURES / "cluster" / "plans" / "good" / "drip.md", plan)
    out = tmp_path / "out"
    proc = run_planc("compile", "--out", str(out), str(plan), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    group = next(p.parent for p in out.rglob("runs_status.yaml"))
    assert load(group)["max_queued"] == 3  # 2 fine-tunes + 2 evaluations > 3
    proc = run_planc("submit", str(group), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(calls(fake_slurm, "sbatch")) == 3
    assert "queued 1 stage(s) for later" in proc.stdout
    # the same plan in the array layout: the cap reaches its tracker too, and the first
    # submit puts 3 array tasks in the queue (2 fine-tunes, 1 evaluation)
    arr = tmp_path / "drip_array.md"
    arr.write_text(plan.read_text("utf-8").replace("---\n", "---\nlayout: array\n", 1), "utf-8")
    proc = run_planc("compile", "--out", str(tmp_path / "out-array"), str(arr), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    group = next(p.parent for p in (tmp_path / "out-array").rglob("runs_status.yaml"))
    assert (group / "array_index.tsv").is_file() and load(group)["max_queued"] == 3
    before = len(calls(fake_slurm, "sbatch"))
    proc = run_planc("submit", str(group), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    arrays = [c["argv"] for c in calls(fake_slurm, "sbatch")[before:]]
    assert sum(len(a[1].split("=")[1].split("%")[0].split(",")) for a in arrays) == 3, arrays
    assert "queued 1 stage(s) for later" in proc.stdout


# --- one tracker write per drip-fed sync (issue 14: syncing 10,000 jobs under 2 s) ---------


class _Killed(BaseException):
    """planc dying (SIGKILL, power loss) at the moment it writes the tracker."""


def _count_tracker_writes(monkeypatch, fail: bool = False) -> list[Path]:  # noqa: ANN001
    """Patch :func:`compiler.tracker.atomic_write` (every tracker write goes through it) to
    log writes of ``runs_status.yaml``; ``fail``: die instead of writing it."""
    from compiler import tracker

    real = tracker.atomic_write
    writes: list[Path] = []

    def counting(path: Path, data: bytes) -> None:
        if path.name == "runs_status.yaml":
            if fail:
                raise _Killed(path)
            writes.append(path)
        real(path, data)

    monkeypatch.setattr(tracker, "atomic_write", counting)
    return writes


def test_a_drip_fed_sync_that_submits_writes_the_tracker_once(
        tmp_path: Path, fake_slurm: Path, monkeypatch) -> None:  # noqa: ANN001, F811
    group = make_group(tmp_path, STANDARD)
    submit_cmd.submit_group(group, max_queued=1)  # r1's fine-tune, job 100
    (fake_slurm / "scontrol.txt").write_text(scontrol_line("100", "COMPLETED"))
    writes = _count_tracker_writes(monkeypatch)
    rep = status_cmd.sync_all(group)
    assert len(writes) == 1
    assert any("submitted 1 queued stage(s)" in n for n in rep.notes)
    data = load(group)  # both halves are on disk: the synced state and the submission
    assert stage_of(data, "r1", "finetune")["status"] == "completed"
    ev = stage_of(data, "r1", "evaluations/t_epoch_0")
    assert (ev["status"], ev["job_id"]) == ("submitted", "101")
    assert not (group / "runs_status.yaml.submitted.jsonl").exists()
    assert rep.data is not None and stage_of(rep.data, "r1", "finetune")["status"] == "completed"


def test_a_drip_fed_sync_without_a_free_slot_writes_once(
        tmp_path: Path, fake_slurm: Path, monkeypatch) -> None:  # noqa: ANN001, F811
    group = make_group(tmp_path, STANDARD)
    submit_cmd.submit_group(group, max_queued=1)
    (fake_slurm / "scontrol.txt").write_text(scontrol_line("100", "RUNNING"))
    writes = _count_tracker_writes(monkeypatch)
    rep = status_cmd.sync_all(group)
    assert len(writes) == 1
    assert any("submitted 0 queued stage(s); 5 still queued" in n for n in rep.notes)
    assert stage_of(load(group), "r1", "finetune")["status"] == "running"
    # nothing changed since: no write at all
    status_cmd.sync_all(group)
    assert len(writes) == 1


def test_a_write_during_the_drip_fed_sync_is_merged_not_lost(
        tmp_path: Path, fake_slurm: Path) -> None:  # noqa: F811
    from compiler import tracker
    from compiler.backends import slurm

    group = make_group(tmp_path, STANDARD)
    submit_cmd.submit_group(group, max_queued=1)
    (fake_slurm / "scontrol.txt").write_text(scontrol_line("100", "COMPLETED"))

    def runner(argv, cwd=None, env=None):  # noqa: ANN001, ANN202
        if argv[0] == "sbatch":  # another planc writes the tracker meanwhile
            def note(cur):  # noqa: ANN001, ANN202
                tracker.set_stage(cur, "r2", "finetune", note="written during the sync")
                return cur
            tracker.update(group / "runs_status.yaml", note)
        return slurm.run_command(argv, cwd, env)

    status_cmd.sync_all(group, runner)
    data = load(group)
    assert stage_of(data, "r2", "finetune")["note"] == "written during the sync"
    assert stage_of(data, "r1", "finetune")["status"] == "completed"
    assert stage_of(data, "r1", "evaluations/t_epoch_0")["job_id"] == "101"


def test_a_job_submitted_by_a_sync_that_dies_before_writing_is_kept(
        tmp_path: Path, fake_slurm: Path, monkeypatch) -> None:  # noqa: ANN001, F811
    import json

    group = make_group(tmp_path, STANDARD)
    submit_cmd.submit_group(group, max_queued=1)
    (fake_slurm / "scontrol.txt").write_text(scontrol_line("100", "COMPLETED"))
    journal = group / "runs_status.yaml.submitted.jsonl"
    from compiler import tracker

    real_write = tracker.atomic_write
    _count_tracker_writes(monkeypatch, fail=True)
    try:
        status_cmd.sync_all(group)
        raise AssertionError("the write should have died")
    except _Killed:
        pass
    # sbatch accepted job 101; the tracker never heard of it, the journal did, and of the
    # synced state (job 100 completed) that was to be written with it
    assert stage_of(load(group), "r1", "evaluations/t_epoch_0")["status"] == "pending"
    assert stage_of(load(group), "r1", "finetune")["status"] == "submitted"
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert lines[0]["sync"] and [(r["job_id"], r["state"]) for r in lines[0]["records"]] == [
        ("100", "COMPLETED")]
    assert lines[1]["job_id"] == "101"
    monkeypatch.setattr(tracker, "atomic_write", real_write)  # planc runs again
    writes = _count_tracker_writes(monkeypatch)
    # meanwhile SLURM purged job 100 and has no accounting: only the journal knows its end
    (fake_slurm / "scontrol.txt").write_text("")
    rep = status_cmd.sync_all(group)  # the next sync records both first, submits nothing twice
    assert rep.missing == ["100"]
    assert len(writes) == 1 and not journal.exists()
    data = load(group)
    ev = stage_of(data, "r1", "evaluations/t_epoch_0")
    assert (ev["status"], ev["job_id"]) == ("submitted", "101")
    assert stage_of(data, "r1", "finetune")["status"] == "completed"
    assert [c["argv"][-1] for c in calls(fake_slurm, "sbatch")] == ["finetune.slurm",
                                                                     "eval.slurm"]


def test_a_disk_that_refuses_the_write_keeps_the_ids_and_says_where(
        tmp_path: Path, fake_slurm: Path, monkeypatch) -> None:  # noqa: ANN001, F811
    import pytest

    from compiler import tracker

    group = make_group(tmp_path, STANDARD)
    submit_cmd.submit_group(group, max_queued=1)
    (fake_slurm / "scontrol.txt").write_text(scontrol_line("100", "COMPLETED"))
    real = tracker.atomic_write

    def full(path: Path, data: bytes) -> None:
        if path.name == "runs_status.yaml":
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(tracker, "atomic_write", full)
    with pytest.raises(tracker.TrackerError, match="No space left on device.*submitted.jsonl"):
        status_cmd.sync_all(group)
    monkeypatch.setattr(tracker, "atomic_write", real)
    status_cmd.sync_all(group)
    ev = stage_of(load(group), "r1", "evaluations/t_epoch_0")
    assert (ev["status"], ev["job_id"]) == ("submitted", "101")
    assert len(calls(fake_slurm, "sbatch")) == 2


def test_planc_submit_records_a_crashed_syncs_journaled_states(
        tmp_path: Path, fake_slurm: Path) -> None:  # noqa: F811
    import json

    from compiler.backends.slurm import JobRecord
    from compiler.sync import HeldStates

    group = make_group(tmp_path, STANDARD)
    submit_cmd.submit_group(group, max_queued=1)  # r1's fine-tune, job 100
    held = HeldStates({"100": JobRecord("100", "COMPLETED", exit_code="0:0",
                                        elapsed_s=42.0)}, "2026-01-02 03:04:05")
    stale = HeldStates({"100": JobRecord("100", "RUNNING")}, "2026-01-02 03:00:00")
    journal = group / "runs_status.yaml.submitted.jsonl"
    journal.write_text("".join(json.dumps(e) + "\n" for e in
                               held.journal_entries() + stale.journal_entries()))
    rep = submit_cmd.submit_group(group)  # the cap (1) comes from the tracker
    assert not rep.errors and not journal.exists()
    ft = stage_of(load(group), "r1", "finetune")
    # the completed state and its run time are recorded; the older RUNNING never downgrades
    assert (ft["status"], ft["elapsed_s"], ft["last_updated"]) == (
        "completed", 42, "2026-01-02 03:04:05")
    # the freed slot went to r1's first evaluation, without a dependency (fine-tune done)
    assert _submitted(fake_slurm, group)[-1] == ("r1/eval/t_epoch_0",
                                                 ["--parsable", "eval.slurm"])


def test_an_array_group_is_drip_fed_element_by_element(tmp_path: Path,
                                                        fake_slurm: Path) -> None:  # noqa: F811
    """SLURM counts every array task against MaxSubmitJobsPerUser (the %N throttle limits
    running tasks only), so ``--max-queued`` submits only the elements that fit; held
    evaluations follow with ``aftercorr`` on their fine-tune array, or with no dependency
    once it completed."""
    from tests.test_submit_status import make_array_group

    group = make_array_group(tmp_path)  # ft_a, ft_b (+1 eval each) and base (1 eval): 5 jobs
    rep = submit_cmd.submit_group(group, max_queued=3)
    assert rep.errors == []
    assert [c["argv"] for c in calls(fake_slurm, "sbatch")] == [
        ["--parsable", "--array=0,1%4", "finetune_array.slurm"],
        ["--parsable", "--array=2", "eval_array_t_base.slurm"],
    ]
    data = load(group)
    assert data["max_queued"] == 3
    for run in ("ft_a", "ft_b"):
        ev = stage_of(data, run, "evaluations/t_epoch_0")
        assert ev["status"] == "pending" and ev["queued"]
    # nothing finished: a sync submits nothing
    (fake_slurm / "scontrol.txt").write_text(
        scontrol_line("100_0", "RUNNING") + scontrol_line("100_1", "RUNNING")
        + scontrol_line("101_2", "RUNNING"))
    status_cmd.sync_all(group)
    assert len(calls(fake_slurm, "sbatch")) == 2
    # the base evaluation finished: one slot; ft_a's evaluation chains on its array task
    (fake_slurm / "scontrol.txt").write_text(
        scontrol_line("100_0", "RUNNING") + scontrol_line("100_1", "RUNNING")
        + scontrol_line("101_2", "COMPLETED"))
    status_cmd.sync_all(group)
    assert calls(fake_slurm, "sbatch")[-1]["argv"] == [
        "--parsable", "--array=0", "--dependency=aftercorr:100", "--kill-on-invalid-dep=yes",
        "eval_array_t_epoch_0.slurm"]
    data = load(group)
    assert stage_of(data, "ft_a", "evaluations/t_epoch_0")["job_id"] == "102_0"
    assert stage_of(data, "ft_b", "evaluations/t_epoch_0")["queued"]
    # ft_b's fine-tune completed: its evaluation needs no dependency; the cap is dropped
    (fake_slurm / "scontrol.txt").write_text(
        scontrol_line("100_0", "RUNNING") + scontrol_line("100_1", "COMPLETED")
        + scontrol_line("102_0", "PENDING"))
    status_cmd.sync_all(group)
    assert calls(fake_slurm, "sbatch")[-1]["argv"] == [
        "--parsable", "--array=1", "eval_array_t_epoch_0.slurm"]
    data = load(group)
    assert "max_queued" not in data
    assert stage_of(data, "ft_b", "evaluations/t_epoch_0")["job_id"] == "103_1"


def test_a_held_array_fine_tune_holds_its_evaluation(tmp_path: Path,
                                                      fake_slurm: Path) -> None:  # noqa: F811
    from tests.test_submit_status import make_array_group

    group = make_array_group(tmp_path)
    submit_cmd.submit_group(group, max_queued=1)
    assert [c["argv"] for c in calls(fake_slurm, "sbatch")] == [
        ["--parsable", "--array=0%4", "finetune_array.slurm"]]
    data = load(group)
    assert stage_of(data, "ft_b", "finetune")["queued"]
    # held, not skipped: it waits for its fine-tune's id
    assert stage_of(data, "ft_b", "evaluations/t_epoch_0")["queued"]
    assert stage_of(data, "ft_a", "evaluations/t_epoch_0")["queued"]


def test_a_submit_limit_refusal_holds_the_rest(tmp_path: Path,
                                               fake_slurm: Path) -> None:  # noqa: F811
    """The user's other jobs count against MaxSubmitJobsPerUser: drip-fed, sbatch's
    QOSMaxSubmitJobPerUserLimit holds the remaining stages (exit 0, said on stdout) in
    either layout; without --max-queued it stays an error."""
    from tests.test_submit_status import make_array_group

    group = make_group(tmp_path, STANDARD)
    (fake_slurm / "submit_limit").write_text("1")
    proc = run_planc("submit", str(group), "--max-queued", "4")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "submit limit was reached before --max-queued (" \
        "QOSMaxSubmitJobPerUserLimit)" in proc.stdout
    assert "queued 5 stage(s) for later" in proc.stdout
    data = load(group)
    assert stage_of(data, "r1", "finetune")["status"] == "submitted"
    assert stage_of(data, "r1", "evaluations/t_epoch_0")["queued"]
    assert stage_of(data, "r2", "finetune")["queued"]

    arr = make_array_group(tmp_path / "a")
    (fake_slurm / "submit_limit").write_text("0")
    rep = submit_cmd.submit_group(arr, max_queued=5)
    assert rep.errors == [] and rep.limited and len(rep.queued) == 5
    assert all(stage_of(load(arr), r, "finetune")["queued"] for r in ("ft_a", "ft_b"))

    plain = make_group(tmp_path / "p", STANDARD)
    rep = submit_cmd.submit_group(plain)
    assert rep.errors and "QOSMaxSubmitJobPerUserLimit" in rep.errors[0]
