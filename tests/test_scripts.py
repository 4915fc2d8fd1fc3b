"""Launch scripts from ``compiler.scripts``: syntax (bash -n, shellcheck), SLURM headers,
afterok/aftercorr chaining, quoting of hostile values, the local launcher's GPU pinning, and
``compiler.gpus_free``'s degradation to "no GPUs".

Scripts are run for real in a sandbox: fake ``sbatch``/``tune``/``inspect``/``module``/
``trainer``/``curl`` executables on ``PATH`` record their argv, working directory and a few
environment variables to a JSON-lines file, and the tests assert on those records.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import gpus_free
from compiler.matrix import Evaluation, Resources, Run, RunMatrix
from compiler.models.cluster import ClusterProfile
from compiler.render import environment
from compiler.scripts import render_scripts
from tests.conftest import ROOT, need_or_skip

MODELS = ("Llama-3.2-1B-Instruct", "Llama-3.2-3B-Instruct")
RANKS = (4, 8)
TASKS = ("cap", "rev")
EPOCHS = (0, 1)
HOSTILE = "it's $(rm -rf /); `id` \"q\" a\nb ;&|<>*?"


# --------------------------------------------------------------------------- builders

def cluster(ctype: str, **extra) -> ClusterProfile:
    base: dict = {"name": f"test-{ctype}", "type": ctype}
    if ctype == "slurm":
        base.update(account="mylab", modules=["anaconda3/2025.6"])
    if ctype == "local_gpu":
        base.update(gpu_count=4)
    base.update(extra)
    return ClusterProfile(**base)


def run_group(ctype: str = "slurm", *, gpus: int = 1, layout: str = "per-run",
              task_arg: str = "/data/cap.json", output_root: str = "/scratch/out",
              base_root: str = "/models", settings: dict | None = None,
              **cluster_extra) -> RunMatrix:
    """A 2×2 run group (model × LoRA rank) with 2 control runs and 2 tasks (epochs 0, 1)."""
    runs: list[Run] = []
    for model in MODELS:
        for rank in RANKS:
            name = f"{model}_rank{rank}"
            evs = tuple(Evaluation(key=f"{t}_epoch_{e}", task=t, epoch=e,
                                   script=f"tasks/{t}.py@{t}", args={"data": task_arg})
                        for t in TASKS for e in EPOCHS)
            runs.append(Run(name=name, kind="fine-tuned", model=model,
                            factors={"model": model, "lora_rank": rank},
                            output_dir=f"{output_root}/{name}",
                            evaluations=evs,
                            train=Resources(gpus=gpus, cpus_per_task=max(1, gpus), mem="32G",
                                            time="02:00:00", partition="gpu"),
                            eval=Resources(gpus=1, mem="16G", time="00:30:00")))
    for model in MODELS:
        evs = tuple(Evaluation(key=t, task=t, epoch=None, script=f"tasks/{t}.py",
                               args={"data": task_arg}) for t in TASKS)
        runs.append(Run(name=f"{model}_base", kind="control", model=model,
                        model_path=f"{base_root}/{model}", evaluations=evs,
                        eval=Resources(gpus=1, mem="16G", time="00:30:00")))
    return RunMatrix(group="cap_lora_2025-10-18", kind="run-group", runs=tuple(runs),
                     cluster=cluster(ctype, **cluster_extra), source="plans/cap.md",
                     source_sha256="ab" * 32, created="2025-10-18 00:00:00",
                     factors={"model": MODELS, "lora_rank": RANKS},
                     settings={"layout": layout, **(settings or {})})


def sweep(ctype: str = "slurm", *, layout: str = "per-run", values: tuple[str, ...] = ("a",),
          settings: dict | None = None, **cluster_extra) -> RunMatrix:
    """A sweep whose commands carry each value single-quoted, as expand.py substitutes them."""
    runs = []
    for i, value in enumerate(values):
        name = f"lr0.001_v{i}"
        out = f"out/{name}"
        command = (f"trainer --lr 0.001 --name {shlex.quote(value)} --out {shlex.quote(out)}"
                   " && echo done")
        runs.append(Run(name=name, kind="sweep", command=command,
                        factors={"lr": 0.001, "name": value},
                        train=Resources(gpus=1 if ctype != "cpu_only" else 0)))
    return RunMatrix(group="sweep1", kind="sweep", runs=tuple(runs),
                     cluster=cluster(ctype, **cluster_extra), source="plans/sweep.md",
                     source_sha256="cd" * 32, created="2025-10-18 00:00:00",
                     settings={"layout": layout, **(settings or {})})


def render(matrix: RunMatrix) -> dict[str, bytes]:
    return render_scripts(matrix, environment())


def write(files: dict[str, bytes], folder: Path) -> Path:
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


# --------------------------------------------------------------------------- fakes

FAKE_TOOL = """\
import json, os, sys, time
tool = os.path.basename(sys.argv[0])
rec = {"tool": tool, "argv": sys.argv[1:], "cwd": os.getcwd(),
       "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
       "env": {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "PLANC_RUN_DIR", "MY_VAR",
                                              "ACTIVATED", "PLANC_GROUP_DIR")},
       "start": time.time()}
if tool == "curl":
    for i, a in enumerate(sys.argv):
        if a == "-H" and sys.argv[i + 1].startswith("@"):
            with open(sys.argv[i + 1][1:]) as fh:
                rec.setdefault("header_files", []).append(fh.read())
    rec["stdin"] = sys.stdin.read()
    counter = os.environ["FAKE_LOG"] + ".curl"
    n = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
    open(counter, "w").write(str(n))
    print(json.dumps({"id": "id%d" % n, "status": "ready"}))
time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
rec["end"] = time.time()
with open(os.environ["FAKE_LOG"], "a") as fh:
    fh.write(json.dumps(rec) + "\\n")
if tool == "sbatch":
    counter = os.environ["FAKE_LOG"] + ".ids"
    n = int(open(counter).read()) + 1 if os.path.exists(counter) else 1000
    open(counter, "w").write(str(n))
    print(n)
fail = os.environ.get("FAKE_FAIL")
if fail and tool in ("tune", "trainer") and fail in os.getcwd() + " ".join(sys.argv):
    sys.exit(3)
"""

FAKE_NVML = '''\
"""A fake pynvml driven by FAKE_NVML (JSON): {"init_error": bool, "gpus": [{"uuid",
"free_gib", "total_gib", "procs"}]}."""
import json, os

class NVMLError(Exception):
    pass

class NVMLError_LibraryNotFound(NVMLError):
    pass

def _cfg():
    return json.loads(os.environ.get("FAKE_NVML", '{"gpus": []}'))

class _Mem:
    def __init__(self, g):
        self.total = int(g.get("total_gib", 80) * 1024 ** 3)
        self.free = int(g["free_gib"] * 1024 ** 3)
        self.used = self.total - self.free

class _Proc:
    pid = 1
    usedGpuMemory = 1

def nvmlInit():
    if _cfg().get("init_error"):
        raise NVMLError_LibraryNotFound("NVML Shared Library Not Found")

def nvmlShutdown():
    pass

def nvmlDeviceGetCount():
    return len(_cfg()["gpus"])

def nvmlDeviceGetHandleByIndex(i):
    return _cfg()["gpus"][i]

def nvmlDeviceGetUUID(h):
    return h["uuid"]

def nvmlDeviceGetName(h):
    return "Fake GPU"

def nvmlDeviceGetMemoryInfo(h):
    return _Mem(h)

def nvmlDeviceGetComputeRunningProcesses(h):
    return [_Proc() for _ in range(h.get("procs", 0))]
'''


class Sandbox:
    """A temporary folder with fake tools on PATH and a JSON-lines call log."""

    TOOLS = ("sbatch", "tune", "inspect", "module", "trainer", "curl")

    def __init__(self, root: Path):
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir()
        self.log = root / "calls.jsonl"
        tool = self.bin / "_fake.py"
        tool.write_text(f"#!{sys.executable}\n{FAKE_TOOL}")
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
        for name in self.TOOLS:
            (self.bin / name).symlink_to(tool)
        self.nvml = root / "nvml"
        self.nvml.mkdir()
        (self.nvml / "pynvml.py").write_text(FAKE_NVML)
        self.canary = root / "PWNED"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SLURM_", "PLANC_", "CUDA_", "RESEARCH_AGENT"))}
        env.update(PATH=f"{self.bin}:{env.get('PATH', '/usr/bin:/bin')}",
                   FAKE_LOG=str(self.log), PLANC_PYTHON=sys.executable,
                   PYTHONPATH=f"{self.nvml}:{ROOT}")
        env.update(extra)
        return env

    def run(self, script: Path, *args: str, cwd: Path | None = None, timeout: float = 120,
            **env: str) -> subprocess.CompletedProcess[str]:
        bash = shutil.which("bash") or "/bin/bash"
        return subprocess.run([bash, str(script), *args], cwd=cwd or self.root,
                              env=self.env(**env), capture_output=True, text=True,
                              timeout=timeout)

    def calls(self, tool: str | None = None) -> list[dict]:
        if not self.log.exists():
            return []
        rows = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [r for r in rows if tool is None or r["tool"] == tool]


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


def submitted(stdout: str) -> dict[tuple[str, str], str]:
    """``SUBMITTED <run> <stage> <id>`` lines → {(run, stage): id}."""
    out = {}
    for line in stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == "SUBMITTED":
            assert len(parts) == 4, line
            out[(parts[1], parts[2])] = parts[3]
    return out


def option(argv: list[str], name: str) -> str | None:
    """The value of ``--name=value`` in an argv, ``None`` when absent."""
    values = [a.split("=", 1)[1] for a in argv if a.startswith(f"--{name}=")]
    assert len(values) <= 1, argv
    return values[0] if values else None


def scripts_of(files: dict[str, bytes]) -> list[str]:
    return sorted(p for p in files if p.endswith((".sh", ".slurm")))


# --------------------------------------------------------------------------- syntax

MATRICES = {
    "slurm-1gpu-per-run": lambda: run_group("slurm"),
    "slurm-4gpu-per-run": lambda: run_group("slurm", gpus=4),
    "slurm-1gpu-array": lambda: run_group("slurm", layout="array",
                                          settings={"array_throttle": 2}),
    "slurm-4gpu-array-outroot": lambda: run_group("slurm", gpus=4, layout="array",
                                                  settings={"out_root": "/abs/exp/g"}),
    "slurm-hostile": lambda: run_group("slurm", task_arg=HOSTILE,
                                       output_root="/scratch/it's here",
                                       base_root="/models/$(rm -rf /)",
                                       env={"MY_VAR": HOSTILE},
                                       activate="source /opt/my env/bin/activate",
                                       settings={"project_root": "/proj/x y"}),
    "local_gpu": lambda: run_group("local_gpu", task_arg=HOSTILE),
    "local_gpu-4gpu": lambda: run_group("local_gpu", gpus=4),
    "cpu_only": lambda: run_group("cpu_only", settings={"cpu_slots": 2}),
    "sweep-slurm": lambda: sweep("slurm", values=("a b", HOSTILE)),
    "sweep-slurm-array": lambda: sweep("slurm", layout="array", values=("a", HOSTILE)),
    "sweep-local_gpu": lambda: sweep("local_gpu", values=(HOSTILE,)),
    "sweep-cpu_only": lambda: sweep("cpu_only", values=("x",)),
}


@pytest.mark.parametrize("name", sorted(MATRICES))
def test_every_script_passes_bash_n_and_shellcheck(name: str, tmp_path: Path) -> None:
    files = render(MATRICES[name]())
    write(files, tmp_path)
    scripts = scripts_of(files)
    assert scripts
    for rel in scripts:
        text = files[rel].decode()
        assert text.startswith("#!/bin/bash\n# generated by planc"), rel
        proc = subprocess.run(["bash", "-n", str(tmp_path / rel)], capture_output=True,
                              text=True)
        assert proc.returncode == 0, (rel, proc.stderr)
    shellcheck = shutil.which("shellcheck")
    need_or_skip(shellcheck is not None, "shellcheck is not installed (apt-get install "
                 "shellcheck)")
    proc = subprocess.run([shellcheck, "-S", "style", "-s", "bash",
                           *[str(tmp_path / rel) for rel in scripts]],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_set_euo_pipefail_in_every_script() -> None:
    for name, build in MATRICES.items():
        files = render(build())
        for rel in scripts_of(files):
            assert "\nset -euo pipefail\n" in files[rel].decode(), (name, rel)


def test_artifacts_by_cluster_type_and_layout() -> None:
    per_run = set(render(run_group("slurm")))
    ft = [f"{m}_rank{r}" for m in MODELS for r in RANKS]
    base = [f"{m}_base" for m in MODELS]
    expected = {f"{r}/finetune.slurm" for r in ft}
    expected |= {f"{r}/eval/{t}_epoch_{e}/eval.slurm" for r in ft for t in TASKS for e in EPOCHS}
    expected |= {f"{r}/eval/{t}/eval.slurm" for r in base for t in TASKS}
    expected |= {"submit_all.sh", "submit_api.sh", "api/plan.json", "api/sweep.json",
                 "api/sweep_update.json"}
    expected |= {f"api/runs/{r}.json" for r in ft + base}
    assert per_run == expected
    array = set(render(run_group("slurm", layout="array")))
    assert array == ({"array_index.tsv", "finetune_array.slurm", "submit_all.sh",
                      "submit_api.sh", "api/plan.json", "api/sweep.json",
                      "api/sweep_update.json"}
                     | {f"api/runs/{r}.json" for r in ft + base}
                     | {f"eval_array_{t}_epoch_{e}.slurm" for t in TASKS for e in EPOCHS}
                     | {f"eval_array_{t}_base.slurm" for t in TASKS})
    for ctype in ("local_gpu", "cpu_only"):
        local = set(render(run_group(ctype)))
        assert {p for p in local if p.endswith(".slurm")} == set()
        assert "launch_local.sh" in local and "submit_all.sh" not in local
        assert {f"{r}/run_local.sh" for r in ft + base} <= local


# --------------------------------------------------------------------------- SLURM headers

def sbatch_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#SBATCH")]


def test_finetune_slurm_one_gpu() -> None:
    text = render(run_group("slurm"))["Llama-3.2-1B-Instruct_rank4/finetune.slurm"].decode()
    assert sbatch_lines(text) == [
        "#SBATCH --job-name=Llama-3.2-1B-Instruct_rank4",
        "#SBATCH --output=slurm-%j.out",
        "#SBATCH --nodes=1",
        "#SBATCH --ntasks=1",
        "#SBATCH --cpus-per-task=1",
        "#SBATCH --mem=32G",
        "#SBATCH --time=02:00:00",
        "#SBATCH --gres=gpu:1",
        "#SBATCH --partition=gpu",
        "#SBATCH --account=mylab",
    ]
    body = text.splitlines()
    assert "module purge" in body and "module load anaconda3/2025.6" in body
    assert "export HF_HUB_OFFLINE=1" in body
    assert ("tune run lora_finetune_single_device --config finetune.yaml || tune_rc=$?"
            in body)
    assert body[-1] == 'exit "$tune_rc"'
    assert "mkdir -p /scratch/out/Llama-3.2-1B-Instruct_rank4/logs/wandb" in body
    assert not any(line.startswith("mv ") or " mv " in line for line in body)


def test_finetune_slurm_four_gpus_and_optional_directives() -> None:
    m = run_group("slurm", gpus=4, qos="high", constraint="gpu80", mail_user="me@x.edu",
                  settings={"out_root": "/abs/exp/g"})
    text = render(m)["Llama-3.2-3B-Instruct_rank8/finetune.slurm"].decode()
    lines = sbatch_lines(text)
    assert "#SBATCH --gres=gpu:4" in lines and "#SBATCH --cpus-per-task=4" in lines
    assert "#SBATCH --output=/abs/exp/g/Llama-3.2-3B-Instruct_rank8/slurm-%j.out" in lines
    for d in ("--account=mylab", "--constraint=gpu80", "--qos=high", "--mail-user=me@x.edu"):
        assert f"#SBATCH {d}" in lines
    assert ("tune run --nproc_per_node 4 lora_finetune_distributed --config finetune.yaml"
            " || tune_rc=$?") in text
    assert "GROUP_DIR=/abs/exp/g\n" in text


def test_no_gres_without_gpus_and_no_unset_directives() -> None:
    m = run_group("slurm", gpus=0, account=None, modules=[])
    text = render(m)["Llama-3.2-1B-Instruct_rank4/finetune.slurm"].decode()
    assert not any("gres" in line for line in sbatch_lines(text))
    assert not any(k in text for k in ("--account", "--qos", "--constraint", "--mail"))
    assert "module " not in text


@pytest.mark.parametrize("field,value", [("account", "lab; rm -rf /"), ("qos", "a b"),
                                         ("constraint", "x'y"), ("mail_user", "a\nb")])
def test_unsafe_sbatch_values_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValueError, match="#SBATCH"):
        render(run_group("slurm", **{field: value}))


def test_eval_slurm_forms() -> None:
    files = render(run_group("slurm"))
    ft = files["Llama-3.2-1B-Instruct_rank8/eval/rev_epoch_1/eval.slurm"].decode()
    assert "#SBATCH --job-name=eval-rev-ep1" in ft
    assert "#SBATCH --time=00:30:00" in ft and "#SBATCH --mem=16G" in ft
    assert ('inspect eval-set "$PROJECT_ROOT"/tasks/rev.py@rev --model '
            'hf/Llama-3.2-1B-Instruct_rank8_epoch_1 -M '
            'model_path=/scratch/out/Llama-3.2-1B-Instruct_rank8/epoch_1 -M do_sample=false '
            '-T data=/data/cap.json -T config_path="$EVAL_DIR"/eval.yaml --metadata epoch=1 '
            '--metadata is_finetuned=true --metadata source_model=Llama-3.2-1B-Instruct '
            '--seed 14 --retry-attempts 0 '
            '--log-dir "$EVAL_DIR"/logs || eval_rc=$?') in ft
    base = files["Llama-3.2-3B-Instruct_base/eval/cap/eval.slurm"].decode()
    assert "#SBATCH --job-name=eval-cap\n" in base
    assert "-M model_path=/models/Llama-3.2-3B-Instruct " in base
    assert "--model hf/Llama-3.2-3B-Instruct " in base


# --------------------------------------------------------------------------- running jobs

def test_job_scripts_run_with_hostile_values(sandbox: Sandbox) -> None:
    """finetune.slurm and eval.slurm, run as SLURM would (cwd = submit dir), pass every
    hostile value through as one literal argument and never execute it."""
    hostile = HOSTILE.replace("rm -rf /", f"touch {sandbox.canary}")
    group = sandbox.root / "exp" / "g"
    activate = sandbox.root / "my env" / "activate"
    activate.parent.mkdir()
    activate.write_text("export ACTIVATED=yes\n")
    m = run_group("slurm", task_arg=hostile, output_root=f"{sandbox.root}/out it's",
                  base_root=f"{sandbox.root}/models $(touch {sandbox.canary})",
                  env={"MY_VAR": hostile}, activate=f"source {shlex.quote(str(activate))}",
                  settings={"project_root": str(sandbox.root / "proj x")})
    write(render(m), group)
    run = "Llama-3.2-1B-Instruct_rank4"
    proc = sandbox.run(group / run / "finetune.slurm", cwd=group / run,
                       PLANC_GROUP_DIR=str(group))
    assert proc.returncode == 0, proc.stderr
    (tune,) = sandbox.calls("tune")
    assert tune["argv"] == ["run", "lora_finetune_single_device", "--config", "finetune.yaml"]
    assert tune["cwd"] == str(group / run)
    assert tune["env"] == {"HF_HUB_OFFLINE": "1", "PLANC_RUN_DIR": None, "MY_VAR": hostile,
                           "ACTIVATED": "yes", "PLANC_GROUP_DIR": str(group)}
    assert (sandbox.root / f"out it's/{run}/logs/wandb").is_dir()
    assert [c["argv"] for c in sandbox.calls("module")] == [["purge"],
                                                           ["load", "anaconda3/2025.6"]]
    ev_dir = group / run / "eval" / "cap_epoch_1"
    proc = sandbox.run(ev_dir / "eval.slurm", cwd=ev_dir, PLANC_GROUP_DIR=str(group))
    assert proc.returncode == 0, proc.stderr
    (inspect,) = sandbox.calls("inspect")
    assert inspect["argv"] == [
        "eval-set", f"{sandbox.root}/proj x/tasks/cap.py@cap",
        "--model", f"hf/{run}_epoch_1",
        "-M", f"model_path={sandbox.root}/out it's/{run}/epoch_1", "-M", "do_sample=false",
        "-T", f"data={hostile}", "-T", f"config_path={ev_dir}/eval.yaml",
        "--metadata", "epoch=1", "--metadata", "is_finetuned=true",
        "--metadata", "source_model=Llama-3.2-1B-Instruct", "--seed", "14",
        "--retry-attempts", "0", "--log-dir", f"{ev_dir}/logs"]
    assert inspect["cwd"] == str(ev_dir)
    base_dir = group / "Llama-3.2-1B-Instruct_base" / "eval" / "rev"
    proc = sandbox.run(base_dir / "eval.slurm", cwd=base_dir, PLANC_GROUP_DIR=str(group))
    assert proc.returncode == 0, proc.stderr
    assert (f"model_path={sandbox.root}/models $(touch {sandbox.canary})/Llama-3.2-1B-Instruct"
            in sandbox.calls("inspect")[1]["argv"])
    assert not sandbox.canary.exists()


def test_finetune_exit_code_is_the_job_exit_code(sandbox: Sandbox) -> None:
    group = write(render(run_group("slurm", output_root=str(sandbox.root / "o"))),
                  sandbox.root / "g")
    run = group / "Llama-3.2-1B-Instruct_rank4"
    proc = sandbox.run(run / "finetune.slurm", cwd=run, PLANC_GROUP_DIR=str(group),
                       FAKE_FAIL="rank4")
    assert proc.returncode == 3
    assert "planc: tune run exited with 3" in proc.stdout


def test_job_script_refuses_to_guess_the_group_folder(sandbox: Sandbox) -> None:
    group = write(render(run_group("slurm")), sandbox.root / "g")
    run = group / "Llama-3.2-1B-Instruct_rank4"
    proc = sandbox.run(run / "finetune.slurm", cwd=run)
    assert proc.returncode != 0 and "PLANC_GROUP_DIR" in proc.stderr
    assert sandbox.calls("tune") == []


# --------------------------------------------------------------------------- submit_all.sh

def test_submit_all_chains_every_evaluation_to_its_run(sandbox: Sandbox) -> None:
    group = write(render(run_group("slurm")), sandbox.root / "g")
    proc = sandbox.run(group / "submit_all.sh", cwd=sandbox.root, PLANC_SUBMIT_DELAY="0")
    assert proc.returncode == 0, proc.stderr
    ids = submitted(proc.stdout)
    calls = sandbox.calls("sbatch")
    assert len(calls) == len(ids) == 4 + 4 * 4 + 2 * 2
    assert all(c["argv"][0] == "--parsable" for c in calls)
    by_id = {str(1000 + i): c for i, c in enumerate(calls)}
    for model in MODELS:
        for rank in RANKS:
            run = f"{model}_rank{rank}"
            ft = by_id[ids[(run, "finetune")]]
            assert ft["argv"] == ["--parsable", "finetune.slurm"]
            assert ft["cwd"] == str(group / run)
            for t in TASKS:
                for e in EPOCHS:
                    call = by_id[ids[(run, f"{t}_epoch_{e}")]]
                    assert call["argv"] == ["--parsable",
                                            f"--dependency=afterok:{ids[(run, 'finetune')]}",
                                            "eval.slurm"]
                    assert call["cwd"] == str(group / run / "eval" / f"{t}_epoch_{e}")
                    assert call["env"]["PLANC_GROUP_DIR"] == str(group)
        for t in TASKS:
            call = by_id[ids[(f"{model}_base", t)]]
            assert call["argv"] == ["--parsable", "eval.slurm"]
    # a fine-tune is submitted before its evaluations
    order = [c["cwd"] for c in calls]
    assert order.index(str(group / "Llama-3.2-1B-Instruct_rank4")) < order.index(
        str(group / "Llama-3.2-1B-Instruct_rank4" / "eval" / "cap_epoch_0"))


STATUS_YAML = """\
schema_version: 1
run_group: cap_lora_2025-10-18
runs:
  Llama-3.2-1B-Instruct_rank4:
    finetune: {status: completed, job_id: "11", output: null, last_updated: null}
    evaluations:
      cap_epoch_0: {status: completed, job_id: "12", output: null, last_updated: null}
      cap_epoch_1: {status: pending, job_id: null, output: null, last_updated: null}
  Llama-3.2-1B-Instruct_rank8:
    finetune: {status: running, job_id: "777", output: null, last_updated: null}
    evaluations:
      cap_epoch_0: {status: pending, job_id: null, output: null, last_updated: null}
  Llama-3.2-3B-Instruct_rank4:
    finetune: {status: failed, job_id: "13", output: null, last_updated: null}
  Llama-3.2-3B-Instruct_rank8:
    finetune:
      status: pending
      job_id: null
  Llama-3.2-1B-Instruct_base:
    finetune: {status: skipped, job_id: null, output: null, last_updated: null}
    evaluations:
      cap: {status: submitted, job_id: "14", output: null, last_updated: null}
"""


def test_submit_all_submits_only_pending_stages(sandbox: Sandbox) -> None:
    group = write(render(run_group("slurm")), sandbox.root / "g")
    (group / "runs_status.yaml").write_text(STATUS_YAML)
    proc = sandbox.run(group / "submit_all.sh")
    assert proc.returncode == 0, proc.stderr
    ids = submitted(proc.stdout)
    calls = {c["cwd"]: c["argv"] for c in sandbox.calls("sbatch")}
    g = str(group)
    # completed fine-tune: pending evaluations run without dependency; completed ones skip
    assert ("Llama-3.2-1B-Instruct_rank4", "finetune") not in ids
    assert ("Llama-3.2-1B-Instruct_rank4", "cap_epoch_0") not in ids
    assert "SKIPPED Llama-3.2-1B-Instruct_rank4 cap_epoch_0 completed" in proc.stdout
    assert calls[f"{g}/Llama-3.2-1B-Instruct_rank4/eval/cap_epoch_1"] == [
        "--parsable", "eval.slurm"]
    # running fine-tune: evaluations wait for its recorded job id
    assert calls[f"{g}/Llama-3.2-1B-Instruct_rank8/eval/cap_epoch_0"] == [
        "--parsable", "--dependency=afterok:777", "eval.slurm"]
    # failed fine-tune: its evaluations are skipped, nothing is submitted
    assert not any("3B-Instruct_rank4" in cwd for cwd in calls)
    assert "SKIPPED Llama-3.2-3B-Instruct_rank4 cap_epoch_0 finetune-failed" in proc.stdout
    # pending fine-tune (block style): submitted, evaluations chained to it
    rank8 = ids[("Llama-3.2-3B-Instruct_rank8", "finetune")]
    assert calls[f"{g}/Llama-3.2-3B-Instruct_rank8/eval/rev_epoch_1"] == [
        "--parsable", f"--dependency=afterok:{rank8}", "eval.slurm"]
    # control: submitted evaluation skipped, the other (absent from the file) is pending
    assert "SKIPPED Llama-3.2-1B-Instruct_base cap submitted" in proc.stdout
    assert ("Llama-3.2-1B-Instruct_base", "rev") in ids


def test_submit_all_stops_on_unreadable_status(sandbox: Sandbox) -> None:
    group = write(render(run_group("slurm")), sandbox.root / "g")
    (group / "runs_status.yaml").write_text("runs: [unclosed\n")
    proc = sandbox.run(group / "submit_all.sh")
    assert proc.returncode == 2 and "cannot read" in proc.stderr
    assert sandbox.calls("sbatch") == []


def test_submit_all_rejects_unparsable_sbatch_output(sandbox: Sandbox) -> None:
    group = write(render(run_group("slurm")), sandbox.root / "g")
    bad = sandbox.root / "badbin"
    bad.mkdir()
    (bad / "sbatch").write_text("#!/bin/bash\necho 'Submitted batch job 5'\n")
    (bad / "sbatch").chmod(0o755)
    proc = sandbox.run(group / "submit_all.sh",
                       PATH=f"{bad}:{sandbox.env()['PATH']}")
    assert proc.returncode == 1 and "unexpected sbatch output" in proc.stderr
    assert "SUBMITTED" not in proc.stdout


# --------------------------------------------------------------------------- arrays

def test_array_layout_aftercorr_and_element_mapping(sandbox: Sandbox) -> None:
    m = run_group("slurm", layout="array", output_root=str(sandbox.root / "out"),
                  settings={"array_throttle": 2})
    files = render(m)
    group = write(files, sandbox.root / "g")
    assert "#SBATCH --array=0-3%2\n" in files["finetune_array.slurm"].decode()
    proc = sandbox.run(group / "submit_all.sh")
    assert proc.returncode == 0, proc.stderr
    calls = sandbox.calls("sbatch")
    assert all(c["cwd"] == str(group) and c["argv"][0] == "--parsable" for c in calls)
    train = calls[0]
    assert train["argv"] == ["--parsable", "--array=0,1,2,3%2", "finetune_array.slurm"]
    train_id = "1000"
    by_script = {c["argv"][-1]: c["argv"] for c in calls[1:]}
    for t in TASKS:
        for e in EPOCHS:
            assert by_script[f"eval_array_{t}_epoch_{e}.slurm"] == [
                "--parsable", "--array=0,1,2,3%2", f"--dependency=aftercorr:{train_id}",
                f"eval_array_{t}_epoch_{e}.slurm"]
        assert by_script[f"eval_array_{t}_base.slurm"] == [
            "--parsable", "--array=4,5%2", f"eval_array_{t}_base.slurm"]
    ids = submitted(proc.stdout)
    assert ids[("Llama-3.2-3B-Instruct_rank4", "finetune")] == f"{train_id}_2"
    assert (group / "logs").is_dir()

    # element i of the training array trains run i; element i of an eval array evaluates run i
    names = [r.name for r in m.runs]
    index = [line.split("\t") for line in files["array_index.tsv"].decode().splitlines()
             if not line.startswith("#")]
    assert [(int(i), n) for i, n, *_ in index] == list(enumerate(names))
    for name in names[:4]:  # emit writes finetune.yaml into each run folder
        (group / name).mkdir()
        (group / name / "finetune.yaml").write_text("{}\n")
    for i in range(4):
        env = {"PLANC_GROUP_DIR": str(group), "SLURM_ARRAY_TASK_ID": str(i),
               "SLURM_ARRAY_JOB_ID": "55", "PLANC_PROJECT_ROOT": "/proj"}
        proc = sandbox.run(group / "finetune_array.slurm", cwd=group, **env)
        assert proc.returncode == 0, proc.stderr
        tune = sandbox.calls("tune")[-1]
        assert tune["cwd"] == str(group / names[i])
        assert tune["argv"] == ["run", "lora_finetune_single_device", "--config",
                                "finetune.yaml"]
        assert (group / names[i] / f"slurm-55_{i}.out").exists()
        proc = sandbox.run(group / "eval_array_rev_epoch_1.slurm", cwd=group, **env)
        assert proc.returncode == 0, proc.stderr
        inspect = sandbox.calls("inspect")[-1]
        assert f"model_path={sandbox.root}/out/{names[i]}/epoch_1" in inspect["argv"]
        assert inspect["argv"][1] == "/proj/tasks/rev.py@rev"
        assert inspect["cwd"] == str(group / names[i] / "eval" / "rev_epoch_1")
    env = {"PLANC_GROUP_DIR": str(group), "SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_JOB_ID": "56",
           "PLANC_PROJECT_ROOT": "/proj"}
    proc = sandbox.run(group / "eval_array_cap_base.slurm", cwd=group, **env)
    assert proc.returncode == 0, proc.stderr
    assert "model_path=/models/Llama-3.2-3B-Instruct" in sandbox.calls("inspect")[-1]["argv"]
    proc = sandbox.run(group / "eval_array_cap_base.slurm", cwd=group,
                       **{**env, "SLURM_ARRAY_TASK_ID": "0"})
    assert proc.returncode == 2


def test_array_submit_with_partial_status(sandbox: Sandbox) -> None:
    group = write(render(run_group("slurm", layout="array")), sandbox.root / "g")
    (group / "runs_status.yaml").write_text(STATUS_YAML)
    proc = sandbox.run(group / "submit_all.sh")
    assert proc.returncode == 0, proc.stderr
    argvs = [c["argv"] for c in sandbox.calls("sbatch")]
    assert argvs[0] == ["--parsable", "--array=3", "finetune_array.slurm"]
    cap0 = [a for a in argvs if a[-1] == "eval_array_cap_epoch_0.slurm"]
    # run 1 waits for its running job 777, run 3 for its new array element, run 0 is done
    assert ["--parsable", "--array=1", "--dependency=afterok:777",
            "eval_array_cap_epoch_0.slurm"] in cap0
    assert ["--parsable", "--array=3", "--dependency=aftercorr:1000",
            "eval_array_cap_epoch_0.slurm"] in cap0
    assert len(cap0) == 2
    cap1 = [a for a in argvs if a[-1] == "eval_array_cap_epoch_1.slurm"]
    assert ["--parsable", "--array=0", "eval_array_cap_epoch_1.slurm"] in cap1


# --------------------------------------------------------------------------- sweeps

def test_sweep_run_slurm_runs_the_command_verbatim(sandbox: Sandbox) -> None:
    value = HOSTILE.replace("rm -rf /", f"touch {sandbox.canary}")
    project = sandbox.root / "proj"
    project.mkdir()
    m = sweep("slurm", values=(value, "plain"), settings={"project_root": str(project)})
    group = write(render(m), sandbox.root / "g")
    proc = sandbox.run(group / "submit_all.sh")
    assert proc.returncode == 0, proc.stderr
    assert set(submitted(proc.stdout)) == {("lr0.001_v0", "run"), ("lr0.001_v1", "run")}
    run_dir = group / "lr0.001_v0"
    proc = sandbox.run(run_dir / "run.slurm", cwd=run_dir, PLANC_GROUP_DIR=str(group))
    assert proc.returncode == 0, proc.stderr
    (call,) = sandbox.calls("trainer")
    assert call["argv"] == ["--lr", "0.001", "--name", value, "--out", "out/lr0.001_v0"]
    assert call["cwd"] == str(project)
    assert call["env"]["PLANC_RUN_DIR"] == str(run_dir)
    assert "done" in proc.stdout
    assert not sandbox.canary.exists()


def test_sweep_array_runs_element_i(sandbox: Sandbox) -> None:
    project = sandbox.root / "proj"
    project.mkdir()
    m = sweep("slurm", layout="array", values=("zero", "one 1"),
              settings={"project_root": str(project)})
    group = write(render(m), sandbox.root / "g")
    proc = sandbox.run(group / "submit_all.sh")
    assert proc.returncode == 0, proc.stderr
    (call,) = sandbox.calls("sbatch")
    assert call["argv"] == ["--parsable", "--array=0,1", "run_array.slurm"]
    proc = sandbox.run(group / "run_array.slurm", PLANC_GROUP_DIR=str(group),
                       SLURM_ARRAY_TASK_ID="1", SLURM_ARRAY_JOB_ID="9")
    assert proc.returncode == 0, proc.stderr
    (trainer,) = sandbox.calls("trainer")
    assert trainer["argv"][3] == "one 1" and trainer["cwd"] == str(project)
    assert (group / "lr0.001_v1" / "slurm-9_1.out").exists()


# --------------------------------------------------------------------------- local launcher

def gpus_json(*specs: tuple[str, float, int]) -> str:
    return json.dumps({"gpus": [{"uuid": u, "free_gib": f, "procs": p} for u, f, p in specs]})


def intervals(calls: list[dict]) -> dict[str, tuple[float, float, str | None]]:
    """Per run folder: (first start, last end, CUDA_VISIBLE_DEVICES), asserting one value."""
    out: dict[str, tuple[float, float, str | None]] = {}
    for c in calls:
        run = Path(c["cwd"]).name if "/eval/" not in c["cwd"] else Path(c["cwd"]).parents[1].name
        if run in out:
            s, e, cuda = out[run]
            assert cuda == c["cuda"], (run, cuda, c["cuda"])
            out[run] = (min(s, c["start"]), max(e, c["end"]), cuda)
        else:
            out[run] = (c["start"], c["end"], c["cuda"])
    return out


def test_launch_local_pins_one_free_gpu_per_run(sandbox: Sandbox) -> None:
    m = run_group("local_gpu", output_root=str(sandbox.root / "out"),
                  settings={"min_free_gib": 10})
    group = write(render(m), sandbox.root / "g")
    nvml = gpus_json(("GPU-aaa", 70, 0), ("GPU-bbb", 70, 1), ("GPU-ccc", 5, 0),
                     ("GPU-ddd", 70, 0))
    proc = sandbox.run(group / "launch_local.sh", FAKE_NVML=nvml, FAKE_SLEEP="0.25",
                       PLANC_POLL_SECONDS="0.05", FAKE_FAIL="3B-Instruct_rank8")
    assert proc.returncode == 1, proc.stderr  # one run fails on purpose
    lines = proc.stdout.splitlines()
    assert lines[0] == "CAPACITY queued=6 slots=2 running=0 new=2"
    started = [line.split() for line in lines if line.startswith("STARTED")]
    assert len(started) == 6
    assert {s[2] for s in started} == {"GPU-aaa", "GPU-ddd"}  # busy and small GPUs unused
    runs = intervals(sandbox.calls("tune") + sandbox.calls("inspect"))
    assert len(runs) == 6
    assert {r[2] for r in runs.values()} == {"GPU-aaa", "GPU-ddd"}
    items = list(runs.items())
    overlapping = 0
    for i, (a, (s1, e1, g1)) in enumerate(items):
        for b, (s2, e2, g2) in items[i + 1:]:
            if s1 < e2 and s2 < e1:
                overlapping += 1
                assert g1 != g2, (a, b)
    assert overlapping >= 1  # two runs did run side by side
    fails = {line.split()[1]: line.split()[2] for line in lines if line.startswith("FINISHED")}
    assert fails["Llama-3.2-3B-Instruct_rank8"] == "3"
    assert (group / "Llama-3.2-3B-Instruct_rank8" / "exit_code").read_text() == "3\n"
    assert (group / "Llama-3.2-1B-Instruct_rank4" / "exit_code").read_text() == "0\n"
    assert (group / "Llama-3.2-1B-Instruct_rank4" / "eval" / "cap_epoch_1" /
            "exit_code").read_text() == "0\n"
    # the failed fine-tune's evaluations were not run
    assert not any("3B-Instruct_rank8/eval" in c["cwd"] for c in sandbox.calls("inspect"))
    assert "stage finetune exited with 0" in (group / "Llama-3.2-1B-Instruct_rank4" /
                                              "local.log").read_text()


def test_launch_local_multi_gpu_runs_get_their_gpu_count(sandbox: Sandbox) -> None:
    m = run_group("local_gpu", gpus=2, output_root=str(sandbox.root / "out"))
    group = write(render(m), sandbox.root / "g")
    nvml = gpus_json(*[(f"GPU-{i}", 70, 0) for i in range(4)])
    proc = sandbox.run(group / "launch_local.sh", FAKE_NVML=nvml, PLANC_POLL_SECONDS="0.05")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tunes = sandbox.calls("tune")
    assert len(tunes) == 4
    for t in tunes:
        assert len(t["cuda"].split(",")) == 2
        assert t["argv"][:3] == ["run", "--nproc_per_node", "2"]


def test_launch_local_with_no_free_gpu_launches_nothing(sandbox: Sandbox) -> None:
    group = write(render(run_group("local_gpu")), sandbox.root / "g")
    for nvml in (json.dumps({"init_error": True, "gpus": []}), gpus_json(),
                 gpus_json(("GPU-a", 70, 2))):
        proc = sandbox.run(group / "launch_local.sh", FAKE_NVML=nvml)
        assert proc.returncode == 3 and "no free GPU" in proc.stderr
    assert sandbox.calls() == []


def test_launch_local_cpu_only_uses_cpu_slots_and_hides_gpus(sandbox: Sandbox) -> None:
    m = run_group("cpu_only", output_root=str(sandbox.root / "out"),
                  settings={"cpu_slots": 3})
    group = write(render(m), sandbox.root / "g")
    (group / "runs_status.yaml").write_text(STATUS_YAML)
    proc = sandbox.run(group / "launch_local.sh", PLANC_POLL_SECONDS="0.05", FAKE_SLEEP="0.1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "CAPACITY queued=4 slots=3 running=0 new=3" in proc.stdout
    assert {c["cuda"] for c in sandbox.calls()} == {""}
    tunes = {Path(c["cwd"]).name for c in sandbox.calls("tune")}
    assert tunes == {"Llama-3.2-3B-Instruct_rank8"}  # the only pending fine-tune
    evals = {(Path(c["cwd"]).parents[1].name, Path(c["cwd"]).name)
             for c in sandbox.calls("inspect")}
    assert ("Llama-3.2-1B-Instruct_rank4", "cap_epoch_1") in evals
    assert ("Llama-3.2-1B-Instruct_rank4", "cap_epoch_0") not in evals  # completed
    assert ("Llama-3.2-1B-Instruct_base", "cap") not in evals  # submitted elsewhere
    assert "SKIPPED Llama-3.2-3B-Instruct_rank4 finetune-failed" in proc.stdout
    assert "SKIPPED Llama-3.2-1B-Instruct_rank8 finetune-running" in proc.stdout
    assert not any("Instruct_rank8" in c["cwd"] and "1B" in c["cwd"] for c in sandbox.calls())
    assert (group / "Llama-3.2-3B-Instruct_rank8" / "exit_code").read_text() == "0\n"


def test_launch_local_sweep_quotes_values(sandbox: Sandbox) -> None:
    value = HOSTILE.replace("rm -rf /", f"touch {sandbox.canary}")
    project = sandbox.root / "proj"
    project.mkdir()
    m = sweep("local_gpu", values=(value, "b"))
    group = write(render(m), sandbox.root / "g")
    proc = sandbox.run(group / "launch_local.sh", cwd=project, PLANC_GPUS="0,1,2",
                       PLANC_POLL_SECONDS="0.05")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    calls = sorted(sandbox.calls("trainer"), key=lambda c: c["argv"][5])
    assert [c["argv"][3] for c in calls] == [value, "b"]
    assert all(c["cwd"] == str(project) for c in calls)
    assert sorted(c["cuda"] for c in calls) == ["0", "1"]
    assert not sandbox.canary.exists()


# --------------------------------------------------------------------------- gpus_free

def fake_pynvml(gpus: list[dict], init_error: bool = False,
                count_error: bool = False) -> types.ModuleType:
    mod = types.ModuleType("pynvml")
    exec(FAKE_NVML, mod.__dict__)
    mod._cfg = lambda: {"gpus": gpus, "init_error": init_error}  # type: ignore[attr-defined]
    if count_error:
        def boom():
            raise mod.NVMLError("Unknown Error")
        mod.nvmlDeviceGetCount = boom  # type: ignore[attr-defined]
    return mod


def test_gpus_free_without_pynvml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import raises ImportError
    result = gpus_free.detect()
    assert result == {"mode": "cpu_only", "reason": "nvidia-ml-py (pynvml) not installed",
                      "gpus": []}


def test_gpus_free_nvml_init_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml([], init_error=True))
    assert gpus_free.detect() == {
        "mode": "cpu_only", "reason": "NVMLError_LibraryNotFound: NVML Shared Library Not Found",
        "gpus": []}


def test_gpus_free_error_after_init_and_zero_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml([], count_error=True))
    assert gpus_free.detect()["mode"] == "cpu_only"
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml([]))
    assert gpus_free.detect() == {"mode": "cpu_only", "reason": "NVML found no GPU", "gpus": []}


def test_gpus_free_real_library_on_this_machine() -> None:
    """On a GPU-less host the real nvidia-ml-py raises at init; the result is cpu_only."""
    result = gpus_free.detect()
    if result["mode"] == "gpu":
        pytest.skip("this machine has a GPU; the degrade path is covered by fakes")
    assert result["gpus"] == []


def test_gpus_free_selection_and_visible_devices(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    gpus = [{"uuid": "GPU-0aa", "free_gib": 70, "procs": 0},
            {"uuid": "GPU-1bb", "free_gib": 70, "procs": 1},
            {"uuid": "GPU-2cc", "free_gib": 4, "procs": 0},
            {"uuid": "GPU-3dd", "free_gib": 40, "procs": 0}]
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(gpus))
    assert [g["uuid"] for g in gpus_free.free_gpus(8)] == ["GPU-0aa", "GPU-3dd"]
    assert [g["uuid"] for g in gpus_free.free_gpus(0)] == ["GPU-0aa", "GPU-2cc", "GPU-3dd"]
    # CUDA_VISIBLE_DEVICES restricts the candidates: UUID prefixes or physical indices
    assert [g["index"] for g in gpus_free.free_gpus(0, "GPU-3,GPU-1bb")] == [3]
    assert [g["index"] for g in gpus_free.free_gpus(0, "2,1")] == [2]
    assert gpus_free.free_gpus(0, "") == []
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert gpus_free.main(["--min-free-gib", "8"]) == 0
    assert capsys.readouterr().out == "GPU-0aa\nGPU-3dd\n"
    assert gpus_free.main(["--format", "index"]) == 0
    assert capsys.readouterr().out == "0\n2\n3\n"
    assert gpus_free.main(["--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["mode"] == "gpu" and len(payload["gpus"]) == 4
    assert payload["gpus"][1] == {"index": 1, "uuid": "GPU-1bb", "name": "Fake GPU",
                                  "memory_free_gib": 70.0, "memory_total_gib": 80.0,
                                  "process_count": 1, "free": False}


def test_gpus_free_module_entry_point_degrades(sandbox: Sandbox) -> None:
    proc = subprocess.run([sys.executable, "-m", "compiler.gpus_free"],
                          env=sandbox.env(FAKE_NVML=json.dumps({"init_error": True})),
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout == ""
    assert "no GPUs (NVMLError_LibraryNotFound" in proc.stderr


# --------------------------------------------------------------------------- tokens

def test_no_generated_file_contains_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    token = "s3cr3t-T0KEN-value"
    monkeypatch.setenv("RESEARCH_AGENT_TOKEN", token)
    monkeypatch.setenv("RESEARCH_AGENT_USER_AUTH_TOKEN", token)
    for build in MATRICES.values():
        for rel, data in render(build()).items():
            assert token.encode() not in data, rel


def test_submit_api_runs_planc_s_client(sandbox: Sandbox) -> None:
    """submit_api.sh is planc's own client (the round trip with the real server is in
    tests/test_research_agent.py): an unreachable server is a clear error, and nothing is
    recorded, printed or sent with the token in it."""
    token = "s3cr3t-T0KEN-value"
    group = write(render(run_group("local_gpu")), sandbox.root / "g")
    proc = sandbox.run(group / "submit_api.sh", RESEARCH_AGENT_URL="http://127.0.0.1:9",
                       RESEARCH_AGENT_TOKEN=token)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "cannot reach the research-agent server at http://127.0.0.1:9" in proc.stderr
    assert token not in proc.stdout + proc.stderr
    assert sandbox.calls() == []
    assert not (group / "research_agent.json").exists()


def test_submit_api_needs_the_url(sandbox: Sandbox) -> None:
    group = write(render(run_group("slurm")), sandbox.root / "g")
    proc = sandbox.run(group / "submit_api.sh")
    assert proc.returncode != 0 and "RESEARCH_AGENT_URL" in proc.stderr
    assert sandbox.calls() == []


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("change,match", [
    ({"settings": {"layout": "grid"}}, "layout"),
    ({"settings": {"array_throttle": 0}}, "array_throttle"),
    ({"settings": {"out_root": "relative/path"}}, "absolute"),
    ({"activate": "source a\nrm -rf /"}, "single line"),
    ({"env": {"BAD-NAME": "x"}}, "identifier"),
])
def test_bad_settings_raise_value_error(change: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        render(run_group("slurm", **change))


def test_control_run_without_model_path_is_an_error() -> None:
    m = run_group("slurm")
    runs = tuple(Run(name=r.name, kind=r.kind, model=r.model,
                     evaluations=r.evaluations) if r.kind == "control" else r for r in m.runs)
    bad = RunMatrix(**{**m.__dict__, "runs": runs})
    with pytest.raises(ValueError, match="base model path"):
        render(bad)
    ok = RunMatrix(**{**m.__dict__, "runs": runs,
                      "cluster": cluster("slurm", models_dir="/shared/models")})
    text = render(ok)["Llama-3.2-1B-Instruct_base/eval/cap/eval.slurm"].decode()
    assert "model_path=/shared/models/Llama-3.2-1B-Instruct " in text


def test_module_docstring_names_every_artifact() -> None:
    import compiler.scripts as mod
    doc = textwrap.dedent(mod.__doc__ or "")
    for name in ("finetune.slurm", "eval.slurm", "run.slurm", "submit_all.sh",
                 "finetune_array.slurm", "array_index.tsv", "launch_local.sh", "run_local.sh",
                 "api/plan.json", "api/sweep.json", "submit_api.sh", "aftercorr", "afterok"):
        assert name in doc, name


# --------------------------------------------------------------------------- real compiles

def compile_example(tmp: Path, plan: str, cluster_name: str, layout: str) -> Path:
    """``planc compile`` of a shipped example plan; returns the group folder."""
    from tests.conftest import run_planc

    out = tmp / f"{Path(plan).parent.name}-{cluster_name}-{layout}"
    proc = run_planc("compile", "--cluster", cluster_name, "--layout", layout, "--out",
                     str(out), plan)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (group,) = [p for p in out.iterdir() if p.is_dir()]
    return group


@pytest.mark.parametrize("cluster_name,layout", [("della", "per-run"), ("della", "array"),
                                                 ("ci-slurm", "array"), ("local-cpu", "per-run")])
def test_compiled_example_plans_pass_shellcheck(tmp_path: Path, cluster_name: str,
                                                layout: str) -> None:
    shellcheck = shutil.which("shellcheck")
    need_or_skip(shellcheck is not None, "shellcheck is not installed")
    scripts: list[str] = []
    for plan in ("plans/cap_8L_llama32_lora_comparison/runs_plan.md", "plans/lr-sweep/plan.md"):
        group = compile_example(tmp_path, plan, cluster_name, layout)
        found = sorted(str(p) for p in group.rglob("*") if p.suffix in (".sh", ".slurm"))
        assert found
        scripts += found
    proc = subprocess.run([shellcheck, "-S", "style", "-s", "bash", *scripts],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_compiled_run_group_submits_with_afterok(tmp_path: Path, sandbox: Sandbox) -> None:
    group = compile_example(tmp_path, "plans/cap_8L_llama32_lora_comparison/runs_plan.md",
                            "della", "per-run")
    proc = sandbox.run(group / "submit_all.sh", PLANC_SUBMIT_DELAY="0")
    assert proc.returncode == 0, proc.stderr
    ids = submitted(proc.stdout)
    calls = sandbox.calls("sbatch")
    by_id = {str(1000 + i): c for i, c in enumerate(calls)}
    finetunes = {run: job for (run, stage), job in ids.items() if stage == "finetune"}
    assert finetunes and len(ids) == len(calls)
    for (run, stage), job in ids.items():
        argv = by_id[job]["argv"]
        if stage == "finetune":
            assert argv == ["--parsable", "finetune.slurm"]
        elif run in finetunes:
            assert argv == ["--parsable", f"--dependency=afterok:{finetunes[run]}",
                            "eval.slurm"]
        else:  # a control run: the base fine-tune is skipped in runs_status.yaml
            assert run.endswith("_base") and argv == ["--parsable", "eval.slurm"]


def test_compiled_sweep_launches_locally(tmp_path: Path, sandbox: Sandbox) -> None:
    group = compile_example(tmp_path, "plans/lr-sweep/plan.md", "local-cpu", "per-run")
    # every run through the launcher, with a fake python recording the filled commands
    (sandbox.bin / "python").symlink_to(sandbox.bin / "_fake.py")
    proc = sandbox.run(group / "launch_local.sh", cwd=ROOT, PLANC_POLL_SECONDS="0.05")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    calls = sandbox.calls("python")
    runs = sorted(p.name for p in group.iterdir() if (p / "run_local.sh").exists())
    assert len(calls) == len(runs) == 6
    for c in calls:
        assert c["cwd"] == str(ROOT) and c["argv"][0] == "plans/lr-sweep/train.py"
        out = c["argv"][c["argv"].index("--out") + 1]
        assert out == f"{c['env']['PLANC_RUN_DIR']}/output"
        assert Path(out).parent.parent == group
    assert all((group / r / "exit_code").read_text() == "0\n" for r in runs)


def test_compiled_sweep_run_trains_for_real(tmp_path: Path) -> None:
    """One real run of the lr-sweep example: scikit-learn trains, metrics.json appears."""
    pytest.importorskip("sklearn")
    group = compile_example(tmp_path, "plans/lr-sweep/plan.md", "local-cpu", "per-run")
    run = sorted(p for p in group.iterdir() if (p / "run_local.sh").exists())[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANC_")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    proc = subprocess.run([shutil.which("bash") or "/bin/bash", str(run / "run_local.sh")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    metrics = json.loads((run / "output" / "metrics.json").read_text())
    assert 0.5 < metrics["test_accuracy"] <= 1.0
    assert (run / "exit_code").read_text() == "0\n"


# --------------------------------------------------------------------------- real SLURM

def _slurm_up() -> bool:
    if not (shutil.which("sbatch") and shutil.which("scontrol")):
        return False
    try:
        proc = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "is UP" in proc.stdout


def small_group(layout: str, output_root: str) -> RunMatrix:
    """Two fine-tuned runs (one GPU each, fake GRES) and one control, one task, one epoch."""
    full = run_group("slurm", layout=layout, output_root=output_root, account=None, modules=[],
                     settings={"array_throttle": 2})
    keep = ("Llama-3.2-1B-Instruct_rank4", "Llama-3.2-1B-Instruct_rank8",
            "Llama-3.2-1B-Instruct_base")
    runs = []
    for r in full.runs:
        if r.name in keep:
            evs = tuple(e for e in r.evaluations if e.key in ("cap_epoch_0", "cap"))
            runs.append(dataclasses.replace(
                r, evaluations=evs,
                train=Resources(gpus=1, mem="100M", time="00:05:00", partition="gpu"),
                eval=Resources(gpus=0, mem="100M", time="00:05:00", partition="debug")))
    return dataclasses.replace(full, runs=tuple(runs))


def wait_jobs(ids: list[str], timeout: float = 180) -> dict[str, dict[str, str]]:
    """Poll ``scontrol show job -o`` until every job is in a final state; {id: fields}."""
    final = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"}
    deadline = time.monotonic() + timeout
    while True:
        states: dict[str, dict[str, str]] = {}
        for job in ids:
            out = subprocess.run(["scontrol", "show", "job", "-o", job], capture_output=True,
                                 text=True).stdout
            for line in out.splitlines():
                fields = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
                states[f"{fields['ArrayJobId']}_{fields['ArrayTaskId']}"
                       if "ArrayTaskId" in fields else fields["JobId"]] = fields
        if states and all(f["JobState"] in final for f in states.values()):
            return states
        if time.monotonic() > deadline:
            subprocess.run(["scancel", *ids], capture_output=True)
            active = [(k, v["JobState"]) for k, v in states.items()]
            raise AssertionError(f"jobs still active: {active}")
        time.sleep(1.0)


@pytest.mark.slurm
@pytest.mark.parametrize("layout", ["per-run", "array"])
def test_submit_all_on_real_slurm(sandbox: Sandbox, layout: str) -> None:
    """submit_all.sh with the real sbatch: evaluations run after their fine-tune; the failed
    fine-tune's evaluation never runs (afterok/aftercorr + kill_invalid_depend); SLURM's fake
    GRES sets CUDA_VISIBLE_DEVICES for the fine-tunes; logs land in the run folders."""
    need_or_skip(_slurm_up(), "no local SLURM: run `bash scripts/slurm-local.sh start`")
    group = write(render(small_group(layout, str(sandbox.root / "out"))), sandbox.root / "g")
    for run in ("Llama-3.2-1B-Instruct_rank4", "Llama-3.2-1B-Instruct_rank8"):
        (group / run).mkdir(exist_ok=True)
        (group / run / "finetune.yaml").write_text("{}\n")
    fake_sbatch = sandbox.bin / "sbatch"
    fake_sbatch.unlink()  # the real one from here on
    proc = sandbox.run(group / "submit_all.sh", FAKE_FAIL="rank8", PLANC_PROJECT_ROOT="/proj")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ids = submitted(proc.stdout)
    assert set(ids) == {("Llama-3.2-1B-Instruct_rank4", "finetune"),
                        ("Llama-3.2-1B-Instruct_rank4", "cap_epoch_0"),
                        ("Llama-3.2-1B-Instruct_rank8", "finetune"),
                        ("Llama-3.2-1B-Instruct_rank8", "cap_epoch_0"),
                        ("Llama-3.2-1B-Instruct_base", "cap")}
    jobs = sorted({j.split("_")[0] for j in ids.values()})
    states = wait_jobs(jobs)
    st = {key: states[job]["JobState"] for key, job in ids.items()}
    assert st[("Llama-3.2-1B-Instruct_rank4", "finetune")] == "COMPLETED"
    assert st[("Llama-3.2-1B-Instruct_rank4", "cap_epoch_0")] == "COMPLETED"
    assert st[("Llama-3.2-1B-Instruct_rank8", "finetune")] == "FAILED"
    assert states[ids[("Llama-3.2-1B-Instruct_rank8", "finetune")]]["ExitCode"] == "3:0"
    assert st[("Llama-3.2-1B-Instruct_rank8", "cap_epoch_0")] == "CANCELLED"
    assert st[("Llama-3.2-1B-Instruct_base", "cap")] == "COMPLETED"
    tunes = {Path(c["cwd"]).name: c for c in sandbox.calls("tune")}
    assert set(tunes) == {"Llama-3.2-1B-Instruct_rank4", "Llama-3.2-1B-Instruct_rank8"}
    assert all(c["cuda"] in ("0", "1") for c in tunes.values())
    inspects = sandbox.calls("inspect")
    assert sorted(Path(c["cwd"]).parents[1].name for c in inspects) == [
        "Llama-3.2-1B-Instruct_base", "Llama-3.2-1B-Instruct_rank4"]
    ev = next(c for c in inspects if "rank4" in c["cwd"])
    assert ev["start"] >= tunes["Llama-3.2-1B-Instruct_rank4"]["end"]
    job = ids[("Llama-3.2-1B-Instruct_rank4", "finetune")]
    log = group / "Llama-3.2-1B-Instruct_rank4" / f"slurm-{job}.out"
    assert "planc: tune run exited with 0" in log.read_text()


def test_launch_local_interrupt_stops_every_run(sandbox: Sandbox) -> None:
    """SIGTERM (or Ctrl-C) to the launcher stops the runs' whole process groups: the fake
    tools, sleeping 30 s, never finish, and the launcher exits 130."""
    group = write(render(run_group("cpu_only", settings={"cpu_slots": 2})), sandbox.root / "g")
    proc = subprocess.Popen([shutil.which("bash") or "/bin/bash", str(group / "launch_local.sh")],
                            cwd=sandbox.root, env=sandbox.env(FAKE_SLEEP="30",
                                                              PLANC_POLL_SECONDS="0.05"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = []
    assert proc.stdout is not None
    while len(started) < 2:
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        if line.startswith("STARTED"):
            started.append(line.split()[1])
    time.sleep(0.5)  # let the fake tools start
    proc.terminate()
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert sorted(line.split()[1] for line in out.splitlines()
                  if line.startswith("STOPPED")) == sorted(started)
    time.sleep(0.5)
    leftover = subprocess.run(["pgrep", "-f", str(sandbox.bin / "tune")], capture_output=True,
                              text=True).stdout.split()
    assert leftover == []
    assert sandbox.calls() == []  # nothing ran to completion


# --------------------------------------------------------------------------- quoting property

SHELL_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                            blacklist_characters="\x00"), max_size=30)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arg=SHELL_TEXT, value=SHELL_TEXT, path=SHELL_TEXT)
def test_any_value_reaches_the_tools_unchanged(tmp_path_factory: pytest.TempPathFactory,
                                               arg: str, value: str, path: str) -> None:
    """Whatever a task argument, a sweep value or a path holds, the tool receives exactly it."""
    sandbox = Sandbox(tmp_path_factory.mktemp("prop"))
    m = run_group("slurm", task_arg=arg, base_root="/m/" + path, account=None, modules=[],
                  settings={"project_root": "/proj"})
    m = dataclasses.replace(m, runs=(m.runs[-1],))  # one control run: 2 evaluations
    group = write(render(m), sandbox.root / "g")
    ev_dir = group / m.runs[0].name / "eval" / "cap"
    proc = sandbox.run(ev_dir / "eval.slurm", cwd=ev_dir, PLANC_GROUP_DIR=str(group))
    assert proc.returncode == 0, proc.stderr
    (call,) = sandbox.calls("inspect")
    assert call["argv"][call["argv"].index("-T") + 1] == f"data={arg}"
    assert call["argv"][call["argv"].index("-M") + 1] == (
        f"model_path=/m/{path}/{m.runs[0].model}")
    s = sweep("slurm", values=(value,), settings={"project_root": str(sandbox.root)})
    group = write(render(s), sandbox.root / "s")
    run_dir = group / s.runs[0].name
    proc = sandbox.run(run_dir / "run.slurm", cwd=run_dir, PLANC_GROUP_DIR=str(group))
    assert proc.returncode == 0, proc.stderr
    (trainer,) = sandbox.calls("trainer")
    assert trainer["argv"][3] == value


def test_gpus_free_unlisted_processes_count_as_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    mod = fake_pynvml([{"uuid": "GPU-a", "free_gib": 70, "procs": 0},
                       {"uuid": "GPU-b", "free_gib": 70, "procs": 0}])
    listing = mod.nvmlDeviceGetComputeRunningProcesses

    def procs(h):
        if h["uuid"] == "GPU-b":
            raise mod.NVMLError("Not Supported")
        return listing(h)

    mod.nvmlDeviceGetComputeRunningProcesses = procs  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynvml", mod)
    result = gpus_free.detect()
    assert result["mode"] == "gpu"
    assert [(g["uuid"], g["process_count"], g["free"]) for g in result["gpus"]] == [
        ("GPU-a", 0, True), ("GPU-b", None, False)]
