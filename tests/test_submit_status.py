"""``planc submit`` and ``planc status --sync`` against fake SLURM commands on PATH.

The fakes (one Python script linked as ``sbatch``, ``scontrol``, ``squeue`` and ``sacct``)
hand out job ids from a counter, log every call, refuse chosen scripts, and replay
recorded query output from files, so the submission logic and the sync rules are tested
without a cluster. Concurrency is tested with real processes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from compiler import submit as submit_cmd
from compiler import sync as status_cmd
from compiler import tracker
from compiler.backends import slurm
from compiler.models.status import BASE_NOTE, RunsStatus, iter_stages
from tests.conftest import ROOT, run_planc

FAKE = r'''#!{python}
import json, os, sys
from pathlib import Path
state = Path(os.environ["FAKE_SLURM_DIR"])
prog = Path(sys.argv[0]).name
with open(state / "calls.log", "a") as fh:
    fh.write(json.dumps({{"prog": prog, "argv": sys.argv[1:], "cwd": os.getcwd(),
                          "group": os.environ.get("PLANC_GROUP_DIR")}}) + "\n")
if prog == "sbatch":
    import time
    time.sleep(float(os.environ.get("FAKE_SBATCH_DELAY", "0")))
    script = sys.argv[-1]
    refuse = state / "refuse"
    if refuse.exists() and refuse.read_text().strip() in os.path.join(os.getcwd(), script):
        sys.stderr.write("sbatch: error: Batch job submission failed: Requested node "
                         "configuration is not available\n")
        sys.exit(1)
    limit = state / "submit_limit"  # jobs accepted before a QoS submit limit refuses more
    if limit.exists():
        left = int(limit.read_text())
        if left <= 0:
            sys.stderr.write("sbatch: error: QOSMaxSubmitJobPerUserLimit\nsbatch: error: Batch "
                             "job submission failed: Job violates accounting/QOS policy\n")
            sys.exit(1)
        limit.write_text(str(left - 1))
    counter = state / "next_id"
    n = int(counter.read_text()) if counter.exists() else 100
    counter.write_text(str(n + 1))
    print(f"{{n}};localci" if (state / "cluster_suffix").exists() else n)
    sys.exit(0)
fail = state / f"{{prog}}_fail"
if fail.exists():
    sys.stderr.write(fail.read_text())
    sys.exit(1)
out = state / f"{{prog}}.txt"
if out.exists():
    sys.stdout.write(out.read_text())
elif prog == "sacct":
    print("Slurm accounting storage is disabled")
'''


@pytest.fixture
def fake_slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of fake SLURM commands first on PATH; returns its state folder."""
    bin_dir, state = tmp_path / "bin", tmp_path / "slurm-state"
    bin_dir.mkdir()
    state.mkdir()
    script = bin_dir / "fake_slurm.py"
    script.write_text(FAKE.format(python=sys.executable))
    script.chmod(0o755)
    for name in ("sbatch", "scontrol", "squeue", "sacct"):
        (bin_dir / name).symlink_to(script)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SLURM_DIR", str(state))
    return state


def calls(state: Path, prog: str | None = None) -> list[dict]:
    log = state / "calls.log"
    if not log.exists():
        return []
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    return [r for r in rows if prog is None or r["prog"] == prog]


SCRIPT = "#!/bin/bash\n#SBATCH --job-name={name}\n#SBATCH --output=slurm-%j.out\necho {name}\n"


def make_group(root: Path, runs: dict[str, dict], scripts: bool = True) -> Path:
    """A hand-written group folder: ``runs`` maps run → {"finetune": status | None,
    "evals": [keys], "sweep": bool}; writes runs_status.yaml and per-run scripts."""
    group = root / "grp"
    data: dict = {"schema_version": 1, "run_group": "grp", "runs": {}}
    for name, spec in runs.items():
        if spec.get("sweep"):
            data["runs"][name] = {"run": tracker.stage()}
            if scripts:
                (group / name).mkdir(parents=True, exist_ok=True)
                (group / name / "run.slurm").write_text(SCRIPT.format(name=name))
            continue
        ft = spec.get("finetune", "pending")
        rec: dict = {"finetune": tracker.stage(ft, BASE_NOTE if ft == "skipped" else None)}
        rec["evaluations"] = {k: tracker.stage() for k in spec.get("evals", [])}
        data["runs"][name] = rec
        if scripts:
            (group / name).mkdir(parents=True, exist_ok=True)
            if ft != "skipped":
                (group / name / "finetune.slurm").write_text(SCRIPT.format(name=name))
            for k in spec.get("evals", []):
                (group / name / "eval" / k).mkdir(parents=True, exist_ok=True)
                (group / name / "eval" / k / "eval.slurm").write_text(
                    SCRIPT.format(name=f"eval-{k}"))
    group.mkdir(parents=True, exist_ok=True)
    (group / "runs_status.yaml").write_text(tracker.dump(data))
    return group


def load(group: Path) -> dict:
    data = tracker.read(group / "runs_status.yaml")
    assert data is not None
    RunsStatus.model_validate(data)
    return data


def stage_of(data: dict, run: str, key: str) -> dict:
    rec = data["runs"][run]
    return rec["evaluations"][key.split("/", 1)[1]] if key.startswith("evaluations/") else rec[key]


STANDARD = {"r1": {"evals": ["t_epoch_0", "t_epoch_1"]},
            "r2": {"evals": ["t_epoch_0"]},
            "base": {"finetune": "skipped", "evals": ["t"]}}


# --- submit --------------------------------------------------------------------------------


def test_submit_trains_first_and_chains_evaluations(tmp_path: Path, fake_slurm: Path) -> None:
    group = make_group(tmp_path, STANDARD)
    proc = run_planc("submit", str(group))
    assert proc.returncode == 0, proc.stderr
    sb = calls(fake_slurm, "sbatch")
    got = [(Path(c["cwd"]).relative_to(group).as_posix(), c["argv"]) for c in sb]
    assert got == [
        ("r1", ["--parsable", "finetune.slurm"]),
        ("r1/eval/t_epoch_0", ["--parsable", "--dependency=afterok:100",
                               "--kill-on-invalid-dep=yes", "eval.slurm"]),
        ("r1/eval/t_epoch_1", ["--parsable", "--dependency=afterok:100",
                               "--kill-on-invalid-dep=yes", "eval.slurm"]),
        ("r2", ["--parsable", "finetune.slurm"]),
        ("r2/eval/t_epoch_0", ["--parsable", "--dependency=afterok:103",
                               "--kill-on-invalid-dep=yes", "eval.slurm"]),
        ("base/eval/t", ["--parsable", "eval.slurm"]),
    ]
    assert {c["group"] for c in sb} == {str(group.resolve())}
    data = load(group)
    ft = stage_of(data, "r1", "finetune")
    assert ft["status"] == "submitted" and ft["job_id"] == "100"
    assert ft["output"] == str(group.resolve() / "r1" / "slurm-100.out")
    assert tracker_ts(ft["submitted"]) and ft["last_updated"] == ft["submitted"]
    assert stage_of(data, "base", "evaluations/t")["job_id"] == "105"
    assert stage_of(data, "base", "finetune")["status"] == "skipped"
    assert "job_id: '100'" in (group / "runs_status.yaml").read_text()
    assert "submitted 100: r1/finetune" in proc.stdout
    # idempotent: nothing is pending any more
    again = run_planc("submit", str(group))
    assert again.returncode == 0
    assert len(calls(fake_slurm, "sbatch")) == 6


def tracker_ts(value: str) -> bool:
    return isinstance(value, str) and len(value) == 19 and value[10] == " "


def test_dry_run_prints_commands_and_changes_nothing(tmp_path: Path, fake_slurm: Path) -> None:
    group = make_group(tmp_path, STANDARD)
    before = (group / "runs_status.yaml").read_bytes()
    proc = run_planc("submit", str(group), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    r1 = group.resolve() / "r1"
    assert lines[0] == f"cd {r1} && sbatch --parsable finetune.slurm"
    assert lines[1] == (f"cd {r1}/eval/t_epoch_0 && sbatch --parsable "
                        "'--dependency=afterok:<job id of r1/finetune>' "
                        "--kill-on-invalid-dep=yes eval.slurm")
    assert len(lines) == 6
    assert calls(fake_slurm, "sbatch") == []
    assert (group / "runs_status.yaml").read_bytes() == before


def test_refused_job_stops_and_records_nothing_for_it(tmp_path: Path, fake_slurm: Path) -> None:
    group = make_group(tmp_path, STANDARD)
    (fake_slurm / "refuse").write_text("r2/finetune.slurm")
    proc = run_planc("submit", str(group))
    assert proc.returncode == 1
    assert "Requested node configuration is not available" in proc.stderr
    data = load(group)
    # everything before the refusal is recorded (each sbatch is written at once) …
    assert stage_of(data, "r1", "evaluations/t_epoch_1")["job_id"] == "102"
    # … the refused job and everything after it is untouched
    assert stage_of(data, "r2", "finetune") == tracker.stage()
    assert stage_of(data, "r2", "evaluations/t_epoch_0")["status"] == "pending"
    assert stage_of(data, "base", "evaluations/t")["status"] == "pending"
    # after the fix, a second submit continues where it stopped
    (fake_slurm / "refuse").unlink()
    assert run_planc("submit", str(group)).returncode == 0
    data = load(group)
    assert stage_of(data, "r2", "finetune")["job_id"] == "103"
    assert stage_of(data, "r2", "evaluations/t_epoch_0")["job_id"] == "104"
    assert len(calls(fake_slurm, "sbatch")) == 7  # 3, the refused one, then 3


def test_training_state_decides_evaluation_dependencies(tmp_path: Path,
                                                        fake_slurm: Path) -> None:
    group = make_group(tmp_path, {"done": {"evals": ["t_epoch_0"]},
                                  "busy": {"evals": ["t_epoch_0"]},
                                  "bad": {"evals": ["t_epoch_0"]}})

    def prepare(cur):
        cur["runs"]["done"]["finetune"].update(status="completed", job_id="7")
        cur["runs"]["busy"]["finetune"].update(status="running", job_id="8_3")
        cur["runs"]["bad"]["finetune"].update(status="failed", job_id="9", reason="x",
                                              exit_code=3)
        return cur

    tracker.update(group / "runs_status.yaml", prepare)
    rep = submit_cmd.submit_group(group)
    assert rep.errors == []
    assert [(j.stages, j.dependency) for j in rep.jobs] == [
        ([("done", "evaluations/t_epoch_0")], None),
        ([("busy", "evaluations/t_epoch_0")], "afterok:8_3"),
    ]
    assert rep.skipped == [("bad", "evaluations/t_epoch_0",
                            "its fine-tune failed (use --retry-failed)")]
    # --retry-failed: the fine-tune again, then its evaluation after it; old id kept
    rep = submit_cmd.submit_group(group, retry_failed=True)
    assert [(j.stages, j.dependency) for j in rep.jobs] == [
        ([("bad", "finetune")], None),
        ([("bad", "evaluations/t_epoch_0")], "afterok:102"),
    ]
    ft = stage_of(load(group), "bad", "finetune")
    assert ft["status"] == "submitted" and ft["job_id"] == "102"
    assert ft["previous_job_ids"] == ["9"]
    assert "reason" not in ft and "exit_code" not in ft


def test_only_selected_runs_and_unknown_names(tmp_path: Path, fake_slurm: Path) -> None:
    group = make_group(tmp_path, STANDARD)
    proc = run_planc("submit", str(group), "--only", "r2")
    assert proc.returncode == 0, proc.stderr
    assert [Path(c["cwd"]).name for c in calls(fake_slurm, "sbatch")] == ["r2", "t_epoch_0"]
    proc = run_planc("submit", str(group), "--only", "nope")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == ("planc submit: --only nope: no run 'nope' in the group; runs: r1, r2, "
                           "base\n")
    assert len(calls(fake_slurm, "sbatch")) == 2  # nothing more was submitted


def test_sweep_runs_and_cluster_suffix(tmp_path: Path, fake_slurm: Path) -> None:
    group = make_group(tmp_path, {"alpha0.1_seed1": {"sweep": True},
                                  "alpha1_seed1": {"sweep": True}})
    (fake_slurm / "cluster_suffix").write_text("")
    rep = submit_cmd.submit_group(group)
    assert [j.job_id for j in rep.jobs] == ["100", "101"]
    st = stage_of(load(group), "alpha1_seed1", "run")
    assert st["job_id"] == "101"
    assert st["output"] == str(group.resolve() / "alpha1_seed1" / "slurm-101.out")


def test_missing_script_is_reported_and_others_go_on(tmp_path: Path, fake_slurm: Path) -> None:
    group = make_group(tmp_path, STANDARD)
    (group / "r1" / "finetune.slurm").unlink()
    proc = run_planc("submit", str(group))
    assert proc.returncode == 1
    assert "finetune.slurm does not exist" in proc.stderr
    data = load(group)
    assert stage_of(data, "r1", "finetune")["status"] == "pending"
    assert stage_of(data, "r1", "evaluations/t_epoch_0")["status"] == "pending"
    assert stage_of(data, "r2", "finetune")["status"] == "submitted"


def test_no_tracker_is_exit_2(tmp_path: Path, fake_slurm: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = run_planc("submit", str(tmp_path / "empty"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def make_array_group(tmp_path: Path) -> Path:
    group = make_group(tmp_path, {"ft_a": {"evals": ["t_epoch_0"]},
                                  "ft_b": {"evals": ["t_epoch_0"]},
                                  "base": {"finetune": "skipped", "evals": ["t"]}},
                       scripts=False)
    (group / "array_index.tsv").write_text("# index\trun\tkind\tconfig\n0\tft_a\tfine-tuned\t"
                                           "ft_a/finetune.yaml\n1\tft_b\tfine-tuned\t"
                                           "ft_b/finetune.yaml\n2\tbase\tcontrol\t-\n")
    hdr = ("#!/bin/bash\n#SBATCH --job-name={n}\n#SBATCH --array={a}\n"
           "#SBATCH --output=slurm-%A_%a.out\n")
    (group / "finetune_array.slurm").write_text(hdr.format(n="ft", a="0-1%4"))
    (group / "eval_array_t_epoch_0.slurm").write_text(hdr.format(n="ev", a="0-1"))
    (group / "eval_array_t_base.slurm").write_text(hdr.format(n="evb", a="2"))
    return group


def test_array_layout_uses_aftercorr(tmp_path: Path, fake_slurm: Path) -> None:
    group = make_array_group(tmp_path)
    rep = submit_cmd.submit_group(group)
    assert rep.errors == []
    got = [(c["argv"]) for c in calls(fake_slurm, "sbatch")]
    assert got == [
        ["--parsable", "--array=0,1%4", "finetune_array.slurm"],
        ["--parsable", "--array=2", "eval_array_t_base.slurm"],
        ["--parsable", "--array=0,1", "--dependency=aftercorr:100", "--kill-on-invalid-dep=yes",
         "eval_array_t_epoch_0.slurm"],
    ]
    data = load(group)
    assert stage_of(data, "ft_b", "finetune")["job_id"] == "100_1"
    assert stage_of(data, "ft_b", "finetune")["output"] == str(group.resolve() /
                                                               "slurm-100_1.out")
    assert stage_of(data, "base", "evaluations/t")["job_id"] == "101_2"
    assert stage_of(data, "ft_a", "evaluations/t_epoch_0")["job_id"] == "102_0"


def test_compiled_array_scripts_record_the_per_run_log(tmp_path: Path,
                                                       fake_slurm: Path) -> None:
    group = make_array_group(tmp_path)
    for name in ("finetune_array.slurm", "eval_array_t_epoch_0.slurm"):
        script = group / name
        script.write_text(script.read_text().replace("--output=slurm-%A_%a.out",
                                                     "--output=logs/%x_%A_%a.out")
                          + 'exec >>"$RUN_DIR/slurm-${SLURM_ARRAY_JOB_ID}_${IDX}.out" 2>&1\n')
    submit_cmd.submit_group(group)
    data = load(group)
    g = group.resolve()
    assert stage_of(data, "ft_b", "finetune")["output"] == str(g / "ft_b" / "slurm-100_1.out")
    assert stage_of(data, "ft_a", "evaluations/t_epoch_0")["output"] == str(
        g / "ft_a" / "eval" / "t_epoch_0" / "slurm-102_0.out")
    assert stage_of(data, "base", "evaluations/t")["output"] == str(g / "slurm-101_2.out")
    assert (group / "logs").is_dir()  # sbatch would fail the job without it


def test_array_retry_submits_only_failed_elements(tmp_path: Path, fake_slurm: Path) -> None:
    group = make_array_group(tmp_path)

    def prepare(cur):
        cur["runs"]["ft_a"]["finetune"].update(status="completed", job_id="50_0")
        cur["runs"]["ft_a"]["evaluations"]["t_epoch_0"].update(status="completed", job_id="51_0")
        cur["runs"]["ft_b"]["finetune"].update(status="failed", job_id="50_1")
        cur["runs"]["ft_b"]["evaluations"]["t_epoch_0"].update(status="failed", job_id="51_1")
        cur["runs"]["base"]["evaluations"]["t"].update(status="completed", job_id="52_2")
        return cur

    tracker.update(group / "runs_status.yaml", prepare)
    assert submit_cmd.submit_group(group).jobs == []
    rep = submit_cmd.submit_group(group, retry_failed=True)
    assert [c["argv"] for c in calls(fake_slurm, "sbatch")] == [
        ["--parsable", "--array=1%4", "finetune_array.slurm"],
        ["--parsable", "--array=1", "--dependency=aftercorr:100", "--kill-on-invalid-dep=yes",
         "eval_array_t_epoch_0.slurm"],
    ]
    assert len(rep.jobs) == 2
    assert stage_of(load(group), "ft_b", "evaluations/t_epoch_0")["previous_job_ids"] == ["51_1"]


# --- status --sync -------------------------------------------------------------------------

def scontrol_line(job: str, state: str, reason: str = "None", exit_code: str = "0:0",
                  stdout: str | None = None) -> str:
    base, _, task = job.partition("_")
    arr = f"ArrayJobId={base} ArrayTaskId={task} " if task else ""
    raw = str(int(base) + 1000 + int(task)) if task else base
    out = stdout or f"/x/slurm-{job}.out"
    return (f"JobId={raw} {arr}JobName=j UserId=root(0) JobState={state} Reason={reason} "
            f"Dependency=(null) ExitCode={exit_code} Partition=debug Command=/x/a b.slurm "
            f"WorkDir=/x StdErr={out} StdIn=/dev/null StdOut={out} Power= \n")


def submitted_group(tmp_path: Path) -> Path:
    group = make_group(tmp_path, STANDARD)
    rep = submit_cmd.submit_group(group)  # ids 100..105
    assert len(rep.jobs) == 6
    return group


def test_sync_maps_states_and_keeps_other_fields(tmp_path: Path, fake_slurm: Path) -> None:
    group = submitted_group(tmp_path)
    tracker.update(group / "runs_status.yaml",
                   lambda cur: (cur["runs"]["r1"]["finetune"].update(note="keep me") or cur))
    (fake_slurm / "scontrol.txt").write_text(
        scontrol_line("100", "COMPLETED") + scontrol_line("101", "RUNNING")
        + scontrol_line("102", "PENDING", "Dependency")
        + scontrol_line("103", "FAILED", "NonZeroExitCode", "3:0")
        + scontrol_line("104", "CANCELLED", "DependencyNeverSatisfied")
        + scontrol_line("105", "CANCELLED", "None", "0:15") + scontrol_line("999", "RUNNING"))
    proc = run_planc("status", str(group), "--sync")
    assert proc.returncode == 0, proc.stderr
    data = load(group)
    ft = stage_of(data, "r1", "finetune")
    assert (ft["status"], ft["exit_code"], ft["note"]) == ("completed", 0, "keep me")
    assert stage_of(data, "r1", "evaluations/t_epoch_0")["status"] == "running"
    assert stage_of(data, "r1", "evaluations/t_epoch_1")["status"] == "submitted"
    r2 = stage_of(data, "r2", "finetune")
    assert (r2["status"], r2["exit_code"], r2["reason"]) == (
        "failed", 3, "FAILED: NonZeroExitCode (exit code 3)")
    dep = stage_of(data, "r2", "evaluations/t_epoch_0")
    assert dep["status"] == "failed" and "DependencyNeverSatisfied" in dep["reason"]
    cancelled = stage_of(data, "base", "evaluations/t")
    assert cancelled["status"] == "failed" and "SIGTERM" in cancelled["reason"]
    assert cancelled["exit_code"] is None
    assert "finetune: 1 completed, 0 running, 0 submitted, 1 failed, 0 pending, 1 skipped" \
        in proc.stdout
    assert "evaluations: 0 completed, 1 running, 1 submitted, 2 failed, 0 pending, 0 skipped" \
        in proc.stdout
    assert "6 job(s) queried (scontrol show job -o)" in proc.stdout
    # one query for the whole group
    assert [c["argv"] for c in calls(fake_slurm, "scontrol")] == [["show", "job", "-o"]]
    assert calls(fake_slurm, "sacct") == []


def test_stale_answers_never_downgrade(tmp_path: Path, fake_slurm: Path) -> None:
    group = submitted_group(tmp_path)
    (fake_slurm / "scontrol.txt").write_text(scontrol_line("100", "COMPLETED")
                                             + scontrol_line("101", "RUNNING"))
    status_cmd.sync_group(group)
    (fake_slurm / "scontrol.txt").write_text(scontrol_line("100", "RUNNING")
                                             + scontrol_line("101", "PENDING"))
    rep = status_cmd.sync_group(group)
    assert rep.changes == []
    data = load(group)
    assert stage_of(data, "r1", "finetune")["status"] == "completed"
    assert stage_of(data, "r1", "evaluations/t_epoch_0")["status"] == "running"
    # a completed stage is not even asked about again
    assert "100" not in status_cmd.active_job_ids(data)


def test_resubmission_during_a_sync_wins(tmp_path: Path, fake_slurm: Path) -> None:
    group = submitted_group(tmp_path)
    path = group / "runs_status.yaml"
    text = scontrol_line("103", "FAILED", "NonZeroExitCode", "3:0")

    def runner(argv, cwd=None, env=None):
        # while the query runs, a retry resubmits r2's fine-tune as job 200
        tracker.update(path, lambda cur: (cur["runs"]["r2"]["finetune"].update(
            status="submitted", job_id="200") or cur))
        return slurm.subprocess.CompletedProcess(argv, 0, text, "")

    rep = status_cmd.sync_group(group, runner)
    assert rep.changes == []
    st = stage_of(load(group), "r2", "finetune")
    assert (st["status"], st["job_id"]) == ("submitted", "200")
    assert "reason" not in st and "exit_code" not in st


def test_purged_ids_go_to_sacct_once(tmp_path: Path, fake_slurm: Path) -> None:
    group = submitted_group(tmp_path)
    (fake_slurm / "scontrol.txt").write_text(scontrol_line("100", "COMPLETED"))
    rep = status_cmd.sync_group(group)  # sacct: accounting disabled
    assert rep.missing == ["101", "102", "103", "104", "105"]
    assert any("accounting storage is disabled" in n for n in rep.notes)
    (fake_slurm / "sacct.txt").write_text("103|103|r2|FAILED|3:0|None|00:00:01\n"
                                          "104|104|e|CANCELLED by 0|0:0|None|00:00:00\n")
    rep = status_cmd.sync_group(group)
    assert rep.missing == ["101", "102", "105"]
    sacct_calls = calls(fake_slurm, "sacct")
    assert len(sacct_calls) == 2
    assert sacct_calls[-1]["argv"][:5] == ["-X", "-n", "-P", "-j", "101,102,103,104,105"]
    data = load(group)
    assert stage_of(data, "r2", "finetune")["exit_code"] == 3
    assert stage_of(data, "r2", "evaluations/t_epoch_0")["reason"] == "CANCELLED by 0"


def test_scontrol_failure_falls_back_to_squeue(tmp_path: Path, fake_slurm: Path) -> None:
    group = submitted_group(tmp_path)
    (fake_slurm / "scontrol_fail").write_text("slurm_load_jobs error: Unable to contact "
                                              "slurm controller\n")
    (fake_slurm / "squeue.txt").write_text("100|100|N/A|r1|COMPLETED|None|debug|N/A\n"
                                           "101|101|N/A|e|RUNNING|None|debug|N/A\n")
    rep = status_cmd.sync_group(group)
    assert [c.new for c in rep.changes] == ["completed", "running"]
    sq = calls(fake_slurm, "squeue")
    assert sq[0]["argv"][:5] == ["-h", "-t", "all", "-j", "100,101,102,103,104,105"]


def test_sync_of_array_elements(tmp_path: Path, fake_slurm: Path) -> None:
    group = make_array_group(tmp_path)
    submit_cmd.submit_group(group)
    (fake_slurm / "scontrol.txt").write_text(
        scontrol_line("100_0", "COMPLETED") + scontrol_line("100_1", "FAILED",
                                                            "NonZeroExitCode", "2:0"))
    status_cmd.sync_group(group)
    data = load(group)
    assert stage_of(data, "ft_a", "finetune")["status"] == "completed"
    assert stage_of(data, "ft_b", "finetune")["exit_code"] == 2
    # three array ids: one query for every job the controller holds
    assert calls(fake_slurm, "scontrol")[-1]["argv"] == ["show", "job", "-o"]


def test_a_single_job_id_is_queried_by_itself(tmp_path: Path, fake_slurm: Path) -> None:
    group = make_group(tmp_path, {"s": {"sweep": True}})
    submit_cmd.submit_group(group)
    (fake_slurm / "scontrol.txt").write_text(scontrol_line("100", "COMPLETED"))
    status_cmd.sync_group(group)
    assert calls(fake_slurm, "scontrol")[-1]["argv"] == ["show", "job", "-o", "100"]
    assert stage_of(load(group), "s", "run")["status"] == "completed"


def test_status_json_and_plain_summary(tmp_path: Path, fake_slurm: Path) -> None:
    group = submitted_group(tmp_path)
    (fake_slurm / "scontrol.txt").write_text(scontrol_line("103", "FAILED", "NonZeroExitCode",
                                                           "3:0"))
    proc = run_planc("status", str(group), "--sync", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["group"] == "grp"
    assert out["counts"]["finetune"]["failed"] == 1
    assert out["counts"]["evaluations"]["submitted"] == 4
    assert out["sync"]["changes"] == [{"run": "r2", "stage": "finetune", "job_id": "103",
                                       "old": "submitted", "new": "failed",
                                       "reason": "FAILED: NonZeroExitCode (exit code 3)",
                                       "exit_code": 3}]
    row = next(r for r in out["stages"] if r["run"] == "r2" and r["stage"] == "finetune")
    assert row["exit_code"] == 3
    plain = run_planc("status", str(group / "runs_status.yaml"))
    assert "failed r2/finetune (job 103): FAILED: NonZeroExitCode (exit code 3)" in plain.stdout
    assert run_planc("status", str(tmp_path / "nowhere")).returncode == 2


# --- concurrency (processes) -------------------------------------------------------------------

def _sync_worker(args: tuple[str, str, int]) -> int:
    group, text, delay_ms = args

    def runner(argv, cwd=None, env=None):
        time.sleep(delay_ms / 1000)
        return slurm.subprocess.CompletedProcess(argv, 0, text, "")

    rep = status_cmd.sync_group(Path(group), runner)
    return len(rep.changes)


def _writer_worker(args: tuple[str, int]) -> None:
    path, i = args

    def change(cur):
        cur["runs"]["r1"].setdefault("results", {})[f"k{i}"] = i
        return cur

    tracker.update(Path(path), change)


def test_concurrent_syncs_and_writers_lose_nothing(tmp_path: Path, fake_slurm: Path) -> None:
    group = submitted_group(tmp_path)
    text = (scontrol_line("100", "COMPLETED") + scontrol_line("101", "RUNNING")
            + scontrol_line("103", "FAILED", "NonZeroExitCode", "3:0")
            + scontrol_line("105", "COMPLETED"))
    path = str(group / "runs_status.yaml")
    jobs = [(str(group), text, d) for d in (0, 5, 10, 15, 20, 25)]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(6) as pool:
        syncs = pool.map_async(_sync_worker, jobs)
        writes = pool.map_async(_writer_worker, [(path, i) for i in range(20)])
        changed = syncs.get(60)
        writes.get(60)
    assert sum(changed) == 4  # each stage changed exactly once, by one of the syncs
    data = load(group)
    assert data["runs"]["r1"]["results"] == {f"k{i}": i for i in range(20)}
    assert stage_of(data, "r1", "finetune")["status"] == "completed"
    assert stage_of(data, "r1", "evaluations/t_epoch_0")["status"] == "running"
    assert stage_of(data, "r2", "finetune")["exit_code"] == 3
    assert stage_of(data, "base", "evaluations/t")["status"] == "completed"
    assert yaml.safe_load((group / "runs_status.yaml").read_text())["run_group"] == "grp"


def test_syncs_during_a_submit_lose_nothing(tmp_path: Path, fake_slurm: Path) -> None:
    """A slow ``planc submit`` (0.3 s per sbatch) while ``planc status --sync`` processes run
    again and again: every job id the submit wrote survives, every state a sync wrote too."""
    group = make_group(tmp_path, STANDARD)
    (fake_slurm / "scontrol.txt").write_text("".join(
        scontrol_line(str(i), "COMPLETED") for i in range(100, 106)))
    env = {**os.environ, "FAKE_SBATCH_DELAY": "0.3"}
    submit = subprocess.Popen([sys.executable, "-m", "compiler", "submit", str(group)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    syncs = 0
    while submit.poll() is None:
        procs = [subprocess.Popen([sys.executable, "-m", "compiler", "status", str(group),
                                   "--sync"], cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        for p in procs:
            assert p.wait(60) == 0, p.stderr.read() if p.stderr else ""
        syncs += 2
    assert submit.returncode == 0, submit.stderr.read() if submit.stderr else ""
    assert syncs >= 2
    data = load(group)
    ids = sorted(st["job_id"] for _r, _k, st in iter_stages(data) if st.get("job_id"))
    assert ids == [str(i) for i in range(100, 106)]
    assert all(st.get("submitted") for _r, _k, st in iter_stages(data) if st.get("job_id"))
    status_cmd.sync_group(group)
    data = load(group)
    assert {st["status"] for _r, k, st in iter_stages(data) if k != "finetune"} == {"completed"}
    assert stage_of(data, "r2", "finetune")["status"] == "completed"


def test_no_slurm_commands_is_exit_2(tmp_path: Path) -> None:
    group = make_group(tmp_path, {"s": {"sweep": True}})
    tracker.update(group / "runs_status.yaml", lambda cur: (cur["runs"]["s"]["run"].update(
        status="submitted", job_id="5") or cur))

    def missing(argv, cwd=None, env=None):
        raise slurm.SlurmError(f"{argv[0]} not found: is this a SLURM login node?")

    with pytest.raises(slurm.SlurmError, match="cannot query SLURM: scontrol not found"):
        status_cmd.sync_group(group, missing)
    proc = run_planc("status", str(group), "--sync", env={"PATH": str(tmp_path / "none")})
    assert proc.returncode == 2 and "scontrol not found" in proc.stderr
    assert stage_of(load(group), "s", "run")["status"] == "submitted"


def test_a_group_compiled_for_a_local_cluster_runs_here(tmp_path: Path,
                                                         fake_slurm: Path) -> None:
    """``planc submit`` of a group compiled for ``cpu_only``/``local_gpu`` runs it on this
    machine (as ``planc run --local``); a stage without a script fails the command."""
    group = make_group(tmp_path, {"s": {"sweep": True}, "t": {"sweep": True}}, scripts=False)
    (group / "launch_local.sh").write_text("#!/bin/bash\n")
    proc = run_planc("submit", str(group))
    assert proc.returncode == 1, proc.stderr
    assert "was compiled for this machine (it has launch_local.sh)" in proc.stderr
    assert "0 completed, 0 failed, 2 without a script" in proc.stdout
    (group / "s").mkdir()
    (group / "s" / "run_local.sh").write_text('echo "stage $1" > ran.txt\n')
    proc = run_planc("submit", str(group), "--only", "s", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    run_dir = group.resolve() / "s"
    assert proc.stdout == f"cd {run_dir} && bash {run_dir}/run_local.sh run\n"
    assert stage_of(load(group), "s", "run")["status"] == "pending"
    proc = run_planc("submit", str(group), "--only", "s")
    assert proc.returncode == 0, proc.stderr
    assert (group / "s" / "ran.txt").read_text() == "stage run\n"
    assert stage_of(load(group), "s", "run")["status"] == "completed"
    assert stage_of(load(group), "t", "run")["status"] == "pending"
    assert calls(fake_slurm, "sbatch") == []


CAP_PLAN = "plans/cap_8L_llama32_lora_comparison/runs_plan.md"


def _compile(tmp_path: Path, layout: str) -> Path:
    proc = run_planc("compile", CAP_PLAN, "--out", str(tmp_path / "out"), "--cluster",
                     "ci-slurm", "--layout", layout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return tmp_path / "out" / "cap_8L_llama32_lora_comparison"


def test_compiled_run_group_per_run_layout(tmp_path: Path, fake_slurm: Path) -> None:
    group = _compile(tmp_path, "per-run")
    rep = submit_cmd.submit_group(group)
    assert rep.errors == [] and rep.skipped == []
    data = load(group)
    train_ids = {}
    for job in rep.jobs:
        (run, key), = job.stages
        if key == "finetune":
            assert job.dependency is None
            train_ids[run] = job.job_id
        elif data["runs"][run]["finetune"]["status"] == "skipped":
            assert job.dependency is None  # control runs: no dependency
        else:
            assert job.dependency == f"afterok:{train_ids[run]}"  # after its own fine-tune
    assert len(train_ids) == 4
    pending = [k for _r, k, st in iter_stages(data) if st["status"] == "pending"]
    assert pending == []
    assert {Path(c["cwd"]).name for c in calls(fake_slurm, "sbatch")} >= {
        "Llama-3.2-1B-Instruct_rank4", "capitalization_8L_epoch_1", "reasoning"}


def test_compiled_run_group_array_layout(tmp_path: Path, fake_slurm: Path) -> None:
    group = _compile(tmp_path, "array")
    rep = submit_cmd.submit_group(group)
    assert rep.errors == []
    got = [(c["argv"][1:-1], c["argv"][-1]) for c in calls(fake_slurm, "sbatch")]
    assert got[0] == (["--array=0,1,2,3"], "finetune_array.slurm")
    epoch = [g for g in got if g[1].endswith("_epoch_1.slurm")]
    assert epoch and all(a == ["--array=0,1,2,3", "--dependency=aftercorr:100",
                               "--kill-on-invalid-dep=yes"] for a, _s in epoch)
    base = [g for g in got if g[1].endswith("_base.slurm")]
    assert base and all(len(a) == 1 and a[0].startswith("--array=") for a, _s in base)
    data = load(group)
    st = stage_of(data, "Llama-3.2-3B-Instruct_rank64", "finetune")
    assert st["job_id"] == "100_3"
    assert st["output"] == str(group.resolve() / "Llama-3.2-3B-Instruct_rank64" /
                               "slurm-100_3.out")
    assert all(st["status"] in ("submitted", "skipped") for _r, _k, st in iter_stages(data))
    # the dry run of a fresh compile shows the same dependency shape before any id exists
    fresh = _compile(tmp_path / "again", "array")
    dry = run_planc("submit", str(fresh), "--dry-run")
    assert "'--dependency=aftercorr:<array id of finetune_array.slurm>'" in dry.stdout


def test_local_runner_ids_are_not_sent_to_slurm(tmp_path: Path, fake_slurm: Path) -> None:
    group = make_group(tmp_path, {"r": {"evals": ["t_epoch_0"]}, "s": {"sweep": True}})
    tracker.update(group / "runs_status.yaml", lambda cur: (
        cur["runs"]["r"]["finetune"].update(status="running", job_id="local-4242"),
        cur["runs"]["s"]["run"].update(status="running", job_id="77"))[0] or cur)
    (fake_slurm / "scontrol.txt").write_text(scontrol_line("77", "COMPLETED"))
    rep = status_cmd.sync_group(group)
    assert rep.queried == 1 and [c.job_id for c in rep.changes] == ["77"]
    assert rep.notes == ["1 stage(s) run outside SLURM (local-4242); planc run tracks those"]
    assert stage_of(load(group), "r", "finetune")["status"] == "running"
    sub = submit_cmd.submit_group(group)
    assert sub.jobs == []
    assert sub.skipped == [("r", "evaluations/t_epoch_0",
                            "its fine-tune runs outside SLURM (job local-4242)")]
