"""``planc run GROUP --local``: real processes on hand-made compiled groups.

Covers statuses and exit codes, fine-tune before evaluations, a failed fine-tune failing
its evaluations, SIGINT leaving nothing ``running``, and GPU pinning with a fake ``pynvml``
module injected through ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from compiler import tracker
from compiler.local import capacity, plan_jobs
from tests.conftest import ROOT, run_planc


def stage(status: str = "pending", **extra: object) -> dict:
    return {**tracker.stage(status), **extra}


def make_group(root: Path, runs: dict[str, dict], scripts: dict[str, str]) -> Path:
    """A compiled-looking group: runs_status.yaml plus the given scripts (relative paths)."""
    group = root / "grp"
    group.mkdir()
    data = {"schema_version": 1, "run_group": "grp", "runs": runs}
    (group / "runs_status.yaml").write_text(tracker.dump(data), "utf-8")
    for rel, body in scripts.items():
        p = group / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("#!/bin/bash\n#SBATCH --job-name=x\nset -eu\n" + textwrap.dedent(body),
                     "utf-8")
    return group


def status_of(group: Path) -> dict:
    return yaml.safe_load((group / "runs_status.yaml").read_text("utf-8"))["runs"]


def no_gpu_env(tmp_path: Path) -> dict[str, str]:
    """A PYTHONPATH whose ``pynvml`` reports no library (the GPU-less path, also on GPU hosts)."""
    fake = tmp_path / "nogpu"
    fake.mkdir(exist_ok=True)
    (fake / "pynvml.py").write_text(textwrap.dedent("""
        class NVMLError(Exception):
            pass
        class NVMLError_LibraryNotFound(NVMLError):
            pass
        def nvmlInit():
            raise NVMLError_LibraryNotFound("NVML Shared Library Not Found")
        def nvmlShutdown():
            pass
    """), "utf-8")
    return {"PYTHONPATH": f"{fake}{os.pathsep}{ROOT}"}


def test_capacity_formula():
    assert capacity(queued=5, slots=2, running=0) == 2
    assert capacity(queued=1, slots=4, running=1) == 1
    assert capacity(queued=3, slots=2, running=2) == 0
    assert capacity(queued=3, slots=1, running=2) == 0  # never negative
    assert capacity(queued=0, slots=8, running=0) == 0


def test_plan_jobs_orders_training_first_and_reports_missing_scripts(tmp_path):
    runs = {
        "r1": {"type": "fine-tuned", "finetune": stage(),
               "evaluations": {"cap_epoch_0": stage()}},
        "base": {"type": "control", "finetune": stage("skipped"),
                 "evaluations": {"cap": stage(), "gone": stage()}},
        "done": {"type": "fine-tuned", "finetune": stage("completed"),
                 "evaluations": {"cap_epoch_0": stage("completed")}},
    }
    group = make_group(tmp_path, runs, {
        "r1/finetune.slurm": "true\n",
        "r1/eval/cap_epoch_0/eval.slurm": "true\n",
        "base/eval/cap/eval.slurm": "true\n",
    })
    jobs, missing = plan_jobs(group, tracker.read(group / "runs_status.yaml"))
    assert [(j.label, j.after) for j in jobs] == [
        ("r1/finetune", None), ("r1/evaluations/cap_epoch_0", "finetune"),
        ("base/evaluations/cap", None)]
    assert missing == ["base/evaluations/gone"]
    assert jobs[0].log == group / "r1/local-finetune.out"
    assert jobs[1].log == group / "r1/eval/cap_epoch_0/local.out"
    assert (jobs[1].argv, jobs[1].cwd) == (
        ["bash", str(group / "r1/eval/cap_epoch_0/eval.slurm")], group / "r1/eval/cap_epoch_0")


def test_run_local_sh_of_local_clusters_runs_one_stage_per_job(tmp_path):
    """Groups compiled for local_gpu/cpu_only have ``<run>/run_local.sh [STAGE…]``."""
    runs = {"r1": {"type": "fine-tuned", "finetune": stage(),
                   "evaluations": {"cap_epoch_0": stage(), "cap_epoch_1": stage()}}}
    group = make_group(tmp_path, runs, {"r1/run_local.sh": (
        'echo "$1 group=$PLANC_GROUP_DIR project=$PLANC_PROJECT_ROOT" >> stages.txt\n'
        '[ "$1" != cap_epoch_1 ] || exit 4\n')})
    jobs, missing = plan_jobs(group, tracker.read(group / "runs_status.yaml"))
    assert missing == []
    assert [j.argv[2:] for j in jobs] == [["finetune"], ["cap_epoch_0"], ["cap_epoch_1"]]
    assert {j.cwd for j in jobs} == {group / "r1"}
    proc = run_planc("run", str(group), "--local", "--max-parallel", "1", cwd=tmp_path,
                     env=no_gpu_env(tmp_path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (group / "r1/stages.txt").read_text().splitlines() == [
        f"{s} group={group} project={tmp_path}" for s in ("finetune", "cap_epoch_0", "cap_epoch_1")]
    st = status_of(group)["r1"]
    assert st["finetune"]["status"] == "completed"
    assert st["evaluations"]["cap_epoch_0"]["status"] == "completed"
    assert st["evaluations"]["cap_epoch_1"]["status"] == "failed"
    assert st["evaluations"]["cap_epoch_1"]["exit_code"] == 4
    assert st["evaluations"]["cap_epoch_1"]["output"] == str(
        group / "r1/eval/cap_epoch_1/local.out")


def test_cpu_only_group_statuses_exit_codes_and_order(tmp_path):
    runs = {
        "good": {"type": "fine-tuned", "finetune": stage(),
                 "evaluations": {"cap_epoch_0": stage(), "cap_epoch_1": stage()}},
        "bad": {"type": "fine-tuned", "finetune": stage(),
                "evaluations": {"cap_epoch_0": stage()}},
        "base": {"type": "control", "finetune": stage("skipped", note="Base model"),
                 "evaluations": {"cap": stage()}},
        "sweep1": {"type": "sweep", "run": stage()},
    }
    group = make_group(tmp_path, runs, {
        "good/finetune.slurm": "sleep 0.3\necho trained > ../trained.flag\necho step 1\n",
        # an evaluation started before its fine-tune finished would exit 9
        "good/eval/cap_epoch_0/eval.slurm": "test -f ../../../trained.flag || exit 9\necho ok\n",
        "good/eval/cap_epoch_1/eval.slurm": "test -f ../../../trained.flag || exit 9\n",
        "bad/finetune.slurm": "echo boom >&2\nexit 3\n",
        "bad/eval/cap_epoch_0/eval.slurm": "echo never > ran.flag\n",
        "base/eval/cap/eval.slurm": "echo \"[$CUDA_VISIBLE_DEVICES]\" > seen.txt\n",
        "sweep1/run.slurm": "python3 -c 'import sys; sys.exit(0)'\n",
    })
    proc = run_planc("run", str(group), "--local", "--max-parallel", "2",
                     env=no_gpu_env(tmp_path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    st = status_of(group)
    assert st["good"]["finetune"]["status"] == "completed"
    assert st["good"]["finetune"]["exit_code"] == 0
    assert st["good"]["finetune"]["job_id"].startswith("local-")
    assert 0.3 <= st["good"]["finetune"]["elapsed_s"] < 30
    assert "reason" not in st["good"]["finetune"] and "gpu" not in st["good"]["finetune"]
    out = Path(st["good"]["finetune"]["output"])
    assert out == group / "good" / "local-finetune.out"
    assert out.read_text() == "step 1\n"
    for key in ("cap_epoch_0", "cap_epoch_1"):
        assert st["good"]["evaluations"][key]["status"] == "completed", key
        assert st["good"]["evaluations"][key]["exit_code"] == 0
    assert st["bad"]["finetune"]["status"] == "failed"
    assert st["bad"]["finetune"]["exit_code"] == 3
    assert "boom" in Path(st["bad"]["finetune"]["output"]).read_text()
    assert st["bad"]["evaluations"]["cap_epoch_0"]["status"] == "failed"
    assert st["bad"]["evaluations"]["cap_epoch_0"]["reason"] == "dependency failed: bad/finetune"
    assert not (group / "bad/eval/cap_epoch_0/ran.flag").exists()
    assert st["base"]["finetune"] == {**stage("skipped"), "note": "Base model"}
    assert st["base"]["evaluations"]["cap"]["status"] == "completed"
    assert (group / "base/eval/cap/seen.txt").read_text() == "[]\n"  # cpu_only: no GPU
    assert st["sweep1"]["run"]["status"] == "completed"
    assert "0 running" not in proc.stdout
    assert "5 completed, 2 failed" in proc.stdout
    assert all(s != "running" for r in st.values() for s in _statuses(r))

    # a second run finds nothing pending; --retry-failed reruns the failed fine-tune
    again = run_planc("run", str(group), "--local", env=no_gpu_env(tmp_path))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 stage(s) to run" in again.stdout
    retry = run_planc("run", str(group), "--local", "--retry-failed", env=no_gpu_env(tmp_path))
    assert retry.returncode == 1
    assert "2 stage(s) to run" in retry.stdout  # bad/finetune and its evaluation
    after = status_of(group)["bad"]
    assert after["finetune"]["exit_code"] == 3
    assert after["evaluations"]["cap_epoch_0"]["reason"] == "dependency failed: bad/finetune"


def test_signal_exit_statuses_are_named(tmp_path):
    """A job killed by a signal (-15) and a shell that exits 128+15 after its command was
    killed (what scancel and timeouts produce) both say SIGTERM in the tracker."""
    runs = {"direct": {"type": "sweep", "run": stage()},
            "child": {"type": "sweep", "run": stage()},
            "plain": {"type": "sweep", "run": stage()}}
    group = make_group(tmp_path, runs, {
        "direct/run.slurm": "kill -TERM $$\n",
        "child/run.slurm": "sh -c 'kill -TERM $$'\n",
        "plain/run.slurm": "exit 3\n",
    })
    proc = run_planc("run", str(group), "--local", env=no_gpu_env(tmp_path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    st = status_of(group)
    assert st["direct"]["run"]["reason"] == "killed by signal SIGTERM"
    assert st["child"]["run"]["exit_code"] == 143
    assert st["child"]["run"]["reason"] == "exit code 143 = 128 + 15, SIGTERM"
    assert st["plain"]["run"]["exit_code"] == 3 and "reason" not in st["plain"]["run"]


def _statuses(rec: dict) -> list[str]:
    out = [rec[k]["status"] for k in ("finetune", "run") if isinstance(rec.get(k), dict)]
    return out + [e["status"] for e in (rec.get("evaluations") or {}).values()]


def test_missing_tracker_is_exit_2(tmp_path):
    proc = run_planc("run", str(tmp_path), "--local")
    assert proc.returncode == 2
    assert "runs_status.yaml: not found" in proc.stderr


def test_stale_running_stage_is_reset_and_run(tmp_path):
    """A runner killed with SIGKILL leaves ``running`` + ``local-<pid>``; the next run
    resets it (the process is gone) and runs it; a live pid is left alone."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    live = subprocess.Popen(["sleep", "60"])
    try:
        runs = {"a": {"type": "sweep", "run": stage("running", job_id=f"local-{dead.pid}")},
                "b": {"type": "sweep", "run": stage("running", job_id=f"local-{live.pid}")}}
        group = make_group(tmp_path, runs, {"a/run.slurm": "true\n", "b/run.slurm": "true\n"})
        proc = run_planc("run", str(group), "--local", env=no_gpu_env(tmp_path))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"reset a/run to pending (its local job {dead.pid} no longer runs)" in proc.stdout
        st = status_of(group)
        assert st["a"]["run"]["status"] == "completed"
        assert "reason" not in st["a"]["run"]  # the new attempt clears the old reason
        assert st["b"]["run"] == stage("running", job_id=f"local-{live.pid}")
    finally:
        live.kill()
        live.wait()


def test_one_runner_per_group(tmp_path):
    import fcntl

    group = make_group(tmp_path, {"a": {"type": "sweep", "run": stage()}},
                       {"a/run.slurm": "true\n"})
    with open(group / "runs_status.yaml.run.lock", "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        proc = run_planc("run", str(group), "--local", env=no_gpu_env(tmp_path))
    assert proc.returncode == 2
    assert "another planc run is active" in proc.stderr
    assert status_of(group)["a"]["run"]["status"] == "pending"


def _dead(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in "ZX"


def test_sigint_leaves_nothing_running(tmp_path):
    runs = {f"r{i}": {"type": "sweep", "run": stage()} for i in range(3)}
    scripts = {f"r{i}/run.slurm": "sleep 120 &\necho $! > child.pid\nwait\n" for i in range(3)}
    group = make_group(tmp_path, runs, scripts)
    env = {**os.environ, **no_gpu_env(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "compiler", "run", str(group), "--local",
                             "--max-parallel", "2"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        running = [n for n, r in status_of(group).items() if r["run"]["status"] == "running"]
        pids = list(group.glob("r*/child.pid"))
        if len(running) == 2 and len(pids) == 2 and all(p.read_text().strip() for p in pids):
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("two jobs never reached running: " + proc.communicate()[0])
    children = [int(p.read_text()) for p in pids]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "interrupted: stopping 2 job(s)" in out
    st = status_of(group)
    assert [r["run"]["status"] for r in st.values()] == ["pending"] * 3
    started = [n for n, r in st.items() if r["run"].get("reason") == "interrupted"]
    assert len(started) == 2
    for name in started:
        assert st[name]["run"]["job_id"] is None
        assert Path(st[name]["run"]["output"]).is_file()  # the partial log is kept
    time.sleep(0.5)
    assert all(_dead(pid) for pid in children), "a job's child process survived"


FAKE_NVML = """
import os


class NVMLError(Exception):
    pass

_PROCS = {1: [object()]}          # GPU 1 is busy with someone else's process


class _Mem:
    total = 80 * 1024**3
    used = 1 * 1024**3
    free = 79 * 1024**3


def nvmlInit():
    pass

def nvmlShutdown():
    pass

def nvmlDeviceGetCount():
    return int(os.environ.get("FAKE_GPUS", "3"))

def nvmlDeviceGetHandleByIndex(i):
    return i

def nvmlDeviceGetUUID(h):
    return f"GPU-fake-{h}"

def nvmlDeviceGetName(h):
    return "Fake H100"

def nvmlDeviceGetMemoryInfo(h):
    return _Mem()

def nvmlDeviceGetComputeRunningProcesses(h):
    return _PROCS.get(h, [])
"""


def test_gpu_pinning_with_fake_nvml(tmp_path):
    fake = tmp_path / "fakenvml"
    fake.mkdir()
    (fake / "pynvml.py").write_text(FAKE_NVML, "utf-8")
    runs = {f"r{i}": {"type": "sweep", "run": stage()} for i in range(4)}
    body = ('echo "$CUDA_VISIBLE_DEVICES $(date +%s.%N)" > gpu.txt\nsleep 0.6\n'
            'echo "$(date +%s.%N)" >> gpu.txt\n')
    group = make_group(tmp_path, runs, {f"r{i}/run.slurm": body for i in range(4)})
    env = {"PYTHONPATH": f"{fake}{os.pathsep}{ROOT}"}
    proc = run_planc("run", str(group), "--local", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "gpu (3 GPU(s) found by NVML); 2 slot(s)" in proc.stdout
    spans = []
    for i in range(4):
        first, second = (group / f"r{i}/gpu.txt").read_text().split("\n")[:2]
        uuid, start = first.split()
        spans.append((uuid, float(start), float(second)))
    assert {u for u, _s, _e in spans} <= {"GPU-fake-0", "GPU-fake-2"}
    for a in range(4):
        for b in range(a + 1, 4):
            ua, sa, ea = spans[a]
            ub, sb, eb = spans[b]
            if sa < eb and sb < ea:  # overlapping in time → never the same GPU
                assert ua != ub
    st = status_of(group)
    assert {st[f"r{i}"]["run"]["gpu"] for i in range(4)} <= {"GPU-fake-0", "GPU-fake-2"}
    assert all(st[f"r{i}"]["run"]["status"] == "completed" for i in range(4))


def test_distributed_finetune_gets_n_gpus_and_max_parallel_caps_jobs(tmp_path):
    fake = tmp_path / "fakenvml"
    fake.mkdir()
    (fake / "pynvml.py").write_text(FAKE_NVML, "utf-8")
    body = ('echo "$CUDA_VISIBLE_DEVICES $(date +%s.%N)" > gpu.txt\nsleep 0.5\n'
            'echo "$(date +%s.%N)" >> gpu.txt\n')
    runs = {"dist": {"type": "fine-tuned", "finetune": stage(), "evaluations": {}},
            "big": {"type": "fine-tuned", "finetune": stage(), "evaluations": {}},
            **{f"s{i}": {"type": "sweep", "run": stage()} for i in range(3)}}
    scripts = {"dist/finetune.slurm": body + "# tune run --nproc_per_node 2 recipe\n",
               "big/finetune.slurm": body + "# tune run --nproc_per_node 4 recipe\n",
               **{f"s{i}/run.slurm": body for i in range(3)}}
    group = make_group(tmp_path, runs, scripts)
    env = {"PYTHONPATH": f"{fake}{os.pathsep}{ROOT}", "FAKE_GPUS": "4"}
    proc = run_planc("run", str(group), "--local", "--max-parallel", "2", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 slot(s), at most 2 job(s) at once" in proc.stdout
    assert "skip big/finetune: needs 4 GPUs, this machine has 3 free" in proc.stdout
    st = status_of(group)
    assert st["big"]["finetune"]["status"] == "pending"
    free = {"GPU-fake-0", "GPU-fake-2", "GPU-fake-3"}
    spans = {}
    for name in ("dist", "s0", "s1", "s2"):
        first, second = (group / name / "gpu.txt").read_text().split("\n")[:2]
        devices, start = first.split()
        spans[name] = (devices.split(","), float(start), float(second))
    assert len(spans["dist"][0]) == 2 and set(spans["dist"][0]) <= free
    assert st["dist"]["finetune"]["gpu"] == ",".join(spans["dist"][0])
    for name in ("s0", "s1", "s2"):
        assert len(spans[name][0]) == 1 and set(spans[name][0]) <= free
    for _devices, t, _end in spans.values():  # at every start: <= 2 jobs, disjoint GPUs
        active = [d for d, start, end in spans.values() if start <= t < end]
        assert len(active) <= 2
        held = [g for d in active for g in d]
        assert len(held) == len(set(held))
