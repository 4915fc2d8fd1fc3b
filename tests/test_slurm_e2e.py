"""End to end on a REAL single-node SLURM (``scripts/slurm-local.sh start``).

compile / hand-written group → ``planc submit`` → ``planc status --sync`` until nothing is in
flight → assertions on ``runs_status.yaml``: completed runs, a failing run (exit 3), a
cancelled run, an evaluation whose training failed (``kill_invalid_depend`` →
DependencyNeverSatisfied), ``--retry-failed`` after the fix, fake GPU GRES setting
``CUDA_VISIBLE_DEVICES``, job arrays with ``aftercorr``, and the ``plans/lr-sweep`` CPU sweep
compiled for ``clusters/ci-slurm.yaml`` in both layouts. In CI these tests fail instead of
skipping when the cluster is missing (``tests.conftest.need_or_skip``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compiler import tracker
from compiler.models.status import BASE_NOTE, RunsStatus
from tests.conftest import need_or_skip, run_planc

pytestmark = [pytest.mark.slurm, pytest.mark.e2e]

POLL_TIMEOUT_S = 240


def _cluster_up() -> bool:
    if not (shutil.which("sbatch") and shutil.which("scontrol")):
        return False
    try:
        proc = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "is UP" in proc.stdout


@pytest.fixture(autouse=True)
def _need_slurm() -> None:
    need_or_skip(_cluster_up(), "no local SLURM: run `bash scripts/slurm-local.sh install && "
                 "bash scripts/slurm-local.sh start` (as root)")


# Jobs inherit sbatch's environment: make `python` the interpreter running the tests.
JOB_ENV = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def planc(*args: str) -> subprocess.CompletedProcess[str]:
    return run_planc(*args, env=JOB_ENV, timeout=300)


def sync_until_done(group: Path, timeout: float = POLL_TIMEOUT_S) -> dict:
    """``planc status --sync --json`` until no stage is submitted or running."""
    deadline = time.monotonic() + timeout
    while True:
        proc = planc("status", str(group), "--sync", "--json")
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout)
        active = [s for s in out["stages"] if s["status"] in ("submitted", "running")]
        if not active:
            return out
        if time.monotonic() > deadline:
            raise AssertionError(f"still in flight after {timeout} s: {active}")
        time.sleep(1.0)


def wait_for(group: Path, run: str, stage: str, status: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        planc("status", str(group), "--sync")
        if stage_of(load(group), run, stage)["status"] == status:
            return
        time.sleep(0.5)
    raise AssertionError(f"{run}/{stage} never became {status}")


def load(group: Path) -> dict:
    data = tracker.read(group / "runs_status.yaml")
    assert data is not None
    RunsStatus.model_validate(data)
    return data


def stage_of(data: dict, run: str, key: str) -> dict:
    rec = data["runs"][run]
    return rec["evaluations"][key.split("/", 1)[1]] if key.startswith("evaluations/") else rec[key]


def header(name: str, extra: str = "") -> str:
    return (f"#!/bin/bash\n#SBATCH --job-name={name}\n#SBATCH --output=slurm-%j.out\n"
            f"#SBATCH --time=00:05:00\n#SBATCH --mem=100M\n{extra}")


def write_group(root: Path, runs: dict[str, dict]) -> Path:
    """Hand-written per-run group: ``runs`` maps run → {"train": body | None (control),
    "evals": {key: body}, "train_extra"/"eval_extra": extra #SBATCH lines}."""
    group = root / f"grp-{root.name[-12:]}"
    data: dict = {"schema_version": 1, "run_group": group.name, "runs": {}}
    for name, spec in runs.items():
        run_dir = group / name
        run_dir.mkdir(parents=True)
        if spec.get("train") is None:
            ft = tracker.stage("skipped", BASE_NOTE)
        else:
            ft = tracker.stage()
            (run_dir / "finetune.slurm").write_text(
                header(f"{name}", spec.get("train_extra", "")) + spec["train"] + "\n")
        evals = {}
        for key, body in spec.get("evals", {}).items():
            (run_dir / "eval" / key).mkdir(parents=True)
            (run_dir / "eval" / key / "eval.slurm").write_text(
                header(f"eval-{key}", spec.get("eval_extra", "")) + body + "\n")
            evals[key] = tracker.stage()
        data["runs"][name] = {"finetune": ft, "evaluations": evals}
    (group / "runs_status.yaml").write_text(tracker.dump(data))
    return group


def test_group_completes_fails_cancels_and_retries(tmp_path: Path) -> None:
    group = write_group(tmp_path, {
        "good": {"train": "sleep 2; echo trained > trained.txt",
                 "evals": {"t_epoch_0": "test -f ../../trained.txt && echo evaluated"}},
        "bad": {"train": "echo broken; exit 3", "evals": {"t_epoch_0": "echo never"}},
        "base": {"train": None, "evals": {"t": "echo base"}},
        "slow": {"train": "sleep 300"},
    })
    proc = planc("submit", str(group))
    assert proc.returncode == 0, proc.stderr
    data = load(group)
    ids = {r: stage_of(data, r, "finetune")["job_id"] for r in ("good", "bad", "slow")}
    assert all(i and i.isdigit() for i in ids.values())
    # the cancelled run: wait until it runs, then scancel it
    wait_for(group, "slow", "finetune", "running")
    subprocess.run(["scancel", ids["slow"]], check=True, timeout=30)
    out = sync_until_done(group)
    data = load(group)
    good = stage_of(data, "good", "finetune")
    assert (good["status"], good["exit_code"]) == ("completed", 0)
    # the ledger's measured side, from scontrol's RunTime (or sacct's Elapsed once purged)
    assert 2 <= good["elapsed_s"] < 60 and good["elapsed_job_id"] == ids["good"]
    assert Path(good["output"]) == group.resolve() / "good" / f"slurm-{ids['good']}.out"
    assert stage_of(data, "good", "evaluations/t_epoch_0")["status"] == "completed"
    assert stage_of(data, "base", "evaluations/t")["status"] == "completed"
    assert stage_of(data, "base", "finetune")["status"] == "skipped"
    bad = stage_of(data, "bad", "finetune")
    assert (bad["status"], bad["exit_code"]) == ("failed", 3)
    assert bad["reason"] == "FAILED: NonZeroExitCode (exit code 3)"
    assert "broken" in Path(bad["output"]).read_text()
    never = stage_of(data, "bad", "evaluations/t_epoch_0")
    assert never["status"] == "failed"
    assert never["reason"].startswith("CANCELLED: DependencyNeverSatisfied")
    assert not Path(never["output"]).exists()  # it never ran
    assert "elapsed_s" not in never
    slow = stage_of(data, "slow", "finetune")
    assert slow["status"] == "failed" and slow["reason"].startswith("CANCELLED")
    assert "SIGTERM" in slow["reason"]
    assert slow["elapsed_s"] >= 0 and slow["elapsed_job_id"] == ids["slow"]  # ran, then killed
    assert out["counts"]["finetune"] == {"completed": 1, "running": 0, "submitted": 0,
                                         "failed": 2, "pending": 0, "skipped": 1}
    # fix the failing run; --retry-failed resubmits it and its evaluation, nothing else
    (group / "bad" / "finetune.slurm").write_text(header("bad") + "echo fixed\n")
    (group / "slow" / "finetune.slurm").write_text(header("slow") + "echo quick\n")
    proc = planc("submit", str(group), "--retry-failed", "--only", "bad")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("submitted ") == 2
    sync_until_done(group)
    data = load(group)
    bad = stage_of(data, "bad", "finetune")
    assert (bad["status"], bad["previous_job_ids"]) == ("completed", [ids["bad"]])
    assert bad["elapsed_job_id"] == bad["job_id"]  # measured on the new job, not the old
    assert stage_of(data, "bad", "evaluations/t_epoch_0")["status"] == "completed"
    assert stage_of(data, "slow", "finetune")["status"] == "failed"  # not in --only
    assert stage_of(data, "good", "finetune")["job_id"] == ids["good"]  # never resubmitted


def test_fake_gpu_gres_sets_cuda_visible_devices(tmp_path: Path) -> None:
    group = write_group(tmp_path, {
        "gpu": {"train": 'echo "CVD=${CUDA_VISIBLE_DEVICES:-unset}"',
                "train_extra": "#SBATCH --partition=gpu\n#SBATCH --gres=gpu:1\n",
                "evals": {"t_epoch_0": 'echo "CVD=${CUDA_VISIBLE_DEVICES:-unset}"'},
                "eval_extra": "#SBATCH --partition=gpu\n#SBATCH --gres=gpu:2\n"},
    })
    assert planc("submit", str(group)).returncode == 0
    sync_until_done(group)
    data = load(group)
    ft, ev = stage_of(data, "gpu", "finetune"), stage_of(data, "gpu", "evaluations/t_epoch_0")
    assert ft["status"] == ev["status"] == "completed"
    assert Path(ft["output"]).read_text().strip() == "CVD=0"
    assert Path(ev["output"]).read_text().strip() == "CVD=0,1"


def test_refused_job_is_not_recorded(tmp_path: Path) -> None:
    group = write_group(tmp_path, {
        "huge": {"train": "echo x", "train_extra": "#SBATCH --partition=gpu\n"
                 "#SBATCH --gres=gpu:99\n", "evals": {"t_epoch_0": "echo y"}},
    })
    proc = planc("submit", str(group))
    assert proc.returncode == 1
    assert "Requested node configuration is not available" in proc.stderr
    data = load(group)
    assert stage_of(data, "huge", "finetune") == tracker.stage()
    assert stage_of(data, "huge", "evaluations/t_epoch_0") == tracker.stage()


def test_array_layout_with_aftercorr(tmp_path: Path) -> None:
    group = tmp_path / "arr"
    group.mkdir()
    data = {"schema_version": 1, "run_group": "arr", "runs": {
        "a": {"finetune": tracker.stage(), "evaluations": {"t_epoch_0": tracker.stage()}},
        "b": {"finetune": tracker.stage(), "evaluations": {"t_epoch_0": tracker.stage()}},
        "c": {"finetune": tracker.stage("skipped", BASE_NOTE),
              "evaluations": {"t": tracker.stage()}}}}
    (group / "runs_status.yaml").write_text(tracker.dump(data))
    (group / "array_index.tsv").write_text("# index\trun\tkind\tconfig\n0\ta\tfine-tuned\t-\n"
                                           "1\tb\tfine-tuned\t-\n2\tc\tcontrol\t-\n")
    body = ("#!/bin/bash\n#SBATCH --job-name={n}\n#SBATCH --output=logs/%x_%A_%a.out\n"
            "#SBATCH --time=00:05:00\n#SBATCH --mem=100M\n{b}\n")
    (group / "finetune_array.slurm").write_text(body.format(
        n="ft", b='[ "$SLURM_ARRAY_TASK_ID" = 1 ] && exit 2; echo trained'))
    (group / "eval_array_t_epoch_0.slurm").write_text(body.format(n="ev", b="echo eval"))
    (group / "eval_array_t_base.slurm").write_text(body.format(n="evb", b="echo base"))
    proc = planc("submit", str(group))
    assert proc.returncode == 0, proc.stderr
    sync_until_done(group)
    data = load(group)
    a, b = stage_of(data, "a", "finetune"), stage_of(data, "b", "finetune")
    array_id = a["job_id"].split("_")[0]
    assert (a["job_id"], b["job_id"]) == (f"{array_id}_0", f"{array_id}_1")
    assert a["status"] == "completed"
    assert (b["status"], b["exit_code"]) == ("failed", 2)
    assert stage_of(data, "a", "evaluations/t_epoch_0")["status"] == "completed"
    ev_b = stage_of(data, "b", "evaluations/t_epoch_0")
    assert ev_b["status"] == "failed" and "DependencyNeverSatisfied" in ev_b["reason"]
    assert stage_of(data, "c", "evaluations/t")["status"] == "completed"
    assert Path(a["output"]).read_text().strip() == "trained"


@pytest.mark.parametrize("layout", ["per-run", "array"])
def test_lr_sweep_compiled_for_ci_slurm_runs_to_completion(tmp_path: Path, layout: str) -> None:
    need_or_skip(importlib.util.find_spec("sklearn") is not None,
                 "the lr-sweep plan trains with scikit-learn (the test extra installs it)")
    out = tmp_path / "out"
    proc = planc("compile", "plans/lr-sweep/plan.md", "--out", str(out), "--cluster",
                 "ci-slurm", "--layout", layout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    group = out / "lr-sweep"
    assert (group / ("run_array.slurm" if layout == "array" else
                     "alpha0.001_seed0/run.slurm")).is_file()
    dry = planc("submit", str(group), "--dry-run")
    assert dry.returncode == 0 and "sbatch --parsable" in dry.stdout
    assert load(group)["runs"]["alpha0.001_seed0"]["run"]["status"] == "pending"
    proc = planc("submit", str(group))
    assert proc.returncode == 0, proc.stderr
    result = sync_until_done(group)
    assert result["counts"]["run"]["completed"] == 6, result["stages"]
    data = load(group)
    for name, rec in data["runs"].items():
        st = rec["run"]
        assert st["status"] == "completed" and st["exit_code"] == 0
        assert "command exited with 0" in Path(st["output"]).read_text()
        metrics = json.loads((group / name / "output" / "metrics.json").read_text())
        assert metrics["test_accuracy"] > 0.8
    # nothing left to submit; a recompile keeps every status
    again = planc("submit", str(group))
    assert again.returncode == 0 and "submitted 0 job(s)" in again.stderr
    assert planc("compile", "plans/lr-sweep/plan.md", "--out", str(out), "--cluster",
                 "ci-slurm", "--layout", layout).returncode == 0
    assert all(r["run"]["status"] == "completed" for r in load(group)["runs"].values())


def test_cluster_detect_sees_the_local_cluster() -> None:
    proc = planc("cluster", "detect", "--json")
    assert proc.returncode == 0, proc.stderr
    c = json.loads(proc.stdout)["cluster"]
    assert c["type"] == "slurm" and c["gpu_count"] == 2
    names = {p["name"]: p for p in c["details"]["partitions"]}
    assert names["debug"]["default"] and not names["gpu"]["default"]
