"""``planc sync`` records a finished SLURM job's measured run time (issue 14's ledger:
"the estimate is stored beside each stage's measured elapsed time in runs_status.yaml"),
from recorded scontrol/sacct lines, and ``planc results``' MAPE reads it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from compiler import sync, tracker
from compiler.backends import slurm
from compiler.backends.slurm import JobRecord, parse_duration
from compiler.results import estimate_ledger, render_ledger
from compiler.submit import _apply_submitted

DATA = Path(__file__).parent / "data" / "slurm"


@pytest.mark.parametrize(("text", "seconds"), [
    ("00:00:08", 8.0), ("01:02:03", 3723.0), ("1-02:03:04", 93784.0), ("12:34.567", 754.567),
    ("2-00:00:00", 172800.0), ("00:01.500", 1.5), (" 00:10:00 ", 600.0),
    ("UNLIMITED", None), ("Partition_Limit", None), ("INVALID", None), ("", None),
    (None, None), ("1:2:3:4", None)])
def test_slurm_durations(text: str | None, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


def test_scontrol_run_time_of_jobs_that_started() -> None:
    recs = slurm.parse_scontrol((DATA / "scontrol_all.txt").read_text())
    assert recs["4"].elapsed_s == 1.0       # failed, exit 3, after 1 s
    assert recs["6"].elapsed_s == 8.0       # scancel'd while running
    assert recs["9_2"].elapsed_s == 2.0     # an array element
    assert recs["3"].elapsed_s == 0.0       # ran and ended within the second
    assert recs["5"].elapsed_s is None      # DependencyNeverSatisfied: never started
    assert recs["10_2"].elapsed_s is None
    assert recs["11"].elapsed_s is None     # held, pending


def test_sacct_elapsed() -> None:
    recs = slurm.parse_sacct((DATA / "sacct_accounting.txt").read_text())
    assert recs["28"].elapsed_s == 1.0
    assert recs["23"].elapsed_s == 8.0      # CANCELLED by 0 while running
    assert recs["31"].elapsed_s == 600.0    # TIMEOUT
    assert recs["18_0"].elapsed_s == 2.0
    assert recs["21"].elapsed_s is None     # cancelled before it started: 00:00:00
    assert recs["18_1"].elapsed_s is None   # pending
    # the 7-field order without Elapsed's value still parses (state and exit code)
    old = slurm.parse_sacct("40|40|x|COMPLETED|0:0|None|\n")
    assert old["40"].state == "COMPLETED" and old["40"].elapsed_s is None


def test_squeue_records_carry_no_run_time() -> None:
    recs = slurm.parse_squeue((DATA / "squeue_all.txt").read_text())
    assert recs and all(r.elapsed_s is None for r in recs.values())


def _tracker(**stage: object) -> dict:
    st = {"status": "submitted", "job_id": "7", "output": None, "last_updated": None}
    st.update(stage)
    return {"schema_version": 1, "run_group": "g", "runs": {"r": {"finetune": st}}}


def _rec(state: str = "COMPLETED", elapsed: float | None = 100.0, source: str = "scontrol",
         code: str = "0:0") -> dict[str, JobRecord]:
    return {"7": JobRecord("7", state, exit_code=code, source=source, elapsed_s=elapsed)}


def test_sync_writes_elapsed_on_completed_and_failed_stages() -> None:
    data = _tracker()
    sync.apply_records(data, _rec(), "2026-12-04 10:00:00")
    st = data["runs"]["r"]["finetune"]
    assert (st["status"], st["elapsed_s"], st["elapsed_job_id"]) == ("completed", 100, "7")
    assert isinstance(st["elapsed_s"], int)
    data = _tracker()
    sync.apply_records(data, _rec("FAILED", 12.5, "sacct", "3:0"), "2026-12-04 10:00:00")
    st = data["runs"]["r"]["finetune"]
    assert (st["status"], st["elapsed_s"]) == ("failed", 12.5)


def test_sync_leaves_running_squeue_and_never_started_stages_alone() -> None:
    for recs in (_rec("RUNNING", 30.0), _rec(elapsed=None, source="squeue"),
                 _rec("CANCELLED", None)):
        data = _tracker()
        sync.apply_records(data, recs, "2026-12-04 10:00:00")
        st = data["runs"]["r"]["finetune"]
        assert "elapsed_s" not in st and "elapsed_job_id" not in st, recs


def test_elapsed_from_another_source_is_never_overwritten() -> None:
    data = _tracker(elapsed_s=95.0)  # the local runner or a person wrote it
    sync.apply_records(data, _rec(), "2026-12-04 10:00:00")
    st = data["runs"]["r"]["finetune"]
    assert st["status"] == "completed" and st["elapsed_s"] == 95.0
    assert "elapsed_job_id" not in st
    data = _tracker(elapsed_s=95.0, elapsed_job_id="6")  # measured on another job
    sync.apply_records(data, _rec(), "2026-12-04 10:00:00")
    assert data["runs"]["r"]["finetune"]["elapsed_s"] == 95.0
    st = {"status": "completed", "elapsed_s": 95, "elapsed_job_id": "7"}  # the same job
    assert sync.record_elapsed(st, "7", 101.0) and st["elapsed_s"] == 101
    assert not sync.record_elapsed(st, "7", 101.0)


def test_a_resubmission_drops_the_failed_jobs_measured_time_only() -> None:
    data = _tracker(status="failed", elapsed_s=12, elapsed_job_id="7", exit_code=3)
    _apply_submitted(data, [("r", "finetune", ("8", None))], "2026-12-04 10:00:00")
    st = data["runs"]["r"]["finetune"]
    assert st["previous_job_ids"] == ["7"] and "elapsed_s" not in st
    data = _tracker(status="failed", elapsed_s=12, exit_code=3)  # not planc's sync: kept
    _apply_submitted(data, [("r", "finetune", ("8", None))], "2026-12-04 10:00:00")
    assert data["runs"]["r"]["finetune"]["elapsed_s"] == 12


SCONTROL = ("JobId={job} JobName=ft UserId=u(1) JobState=COMPLETED Reason=None "
            "ExitCode=0:0 RunTime={run} Partition=debug NodeList=vm BatchHost=vm "
            "Command=/x/finetune.slurm WorkDir=/x StdOut=/x/slurm-{job}.out Power= \n")


def test_the_ledger_reads_the_synced_elapsed_time(tmp_path: Path) -> None:
    """``planc results``' MAPE (:func:`compiler.results.estimate_ledger`) from a sync alone:
    no harvested log, only ``estimate_s`` from compile and ``elapsed_s`` from scontrol."""
    cases = [(120.0, "00:01:40"), (90.0, "00:01:40"), (300.0, "00:04:00")]
    runs = {f"r{i}": {"finetune": {"status": "submitted", "job_id": str(50 + i),
                                   "output": None, "last_updated": None,
                                   "estimate_s": estimate, "estimate_key": "k"}}
            for i, (estimate, _t) in enumerate(cases)}
    path = tmp_path / "runs_status.yaml"
    path.write_text(tracker.dump({"schema_version": 1, "run_group": "g", "runs": runs}))
    answer = "".join(SCONTROL.format(job=50 + i, run=t) for i, (_e, t) in enumerate(cases))

    def runner(argv, cwd=None, env=None):  # noqa: ANN001, ANN202
        assert argv[:3] == ["scontrol", "show", "job"]
        return subprocess.CompletedProcess(argv, 0, answer, "")

    sync.sync_all(path, runner)
    data = tracker.read(path)
    assert data is not None
    assert [data["runs"][f"r{i}"]["finetune"]["elapsed_s"] for i in range(3)] == [100, 100, 240]
    # errors 20 %, 10 %, 25 %: median 20 %
    assert estimate_ledger(data) == [{"stage": "finetune", "key": "k", "n": 3, "mape": 20.0}]
    assert "| finetune | k | 3 | 20.0 % |" in render_ledger(estimate_ledger(data))
