"""The LoRA pipeline, shrunk, end to end on the real local SLURM:
``planc compile`` → ``planc submit`` → real ``tune run lora_finetune_single_device`` through
the compiled ``finetune.slurm`` → real ``inspect eval`` through the compiled ``eval.slurm``
(``afterok`` on the fine-tune) → ``planc status --sync`` until done → ``planc results``.
A second test compiles the same plan for the ``local-cpu`` cluster and runs it with
``planc run --local`` (the compiled ``run_local.sh``, one stage per job), then harvests.

Nothing is downloaded. The fixture builds a tiny llama3_2 from random weights (2 layers,
``vocab_size=128256``: the llama3 special tokens are ids 128000–128255; toolchain.md §3.2),
saves ``state_dict()`` to ``ckpt/model.pt``, writes a byte-level tiktoken tokenizer (256
lines ``<base64 of byte i> <i>``) and 8 alpaca rows. The project registers the model in its
own ``models.yaml`` (cpu, fp32, DiskLogger). Training runs 2 epochs × 4 steps on CPU.

The compiled evaluations use the offline provider ``planc/upper``
(``compiler/offline_models.py``): it uppercases the last word of the prompt and **ignores
the fine-tuned weights** — the compiled script still passes
``-M model_path=<run>/output/epoch_N``, which the provider accepts and ignores. The local
test then also evaluates the real fine-tuned weights once with ``planc/torchtune``
(greedy decoding from the torchtune checkpoint; a random model's answers are wrong, so only
the log's status and counts are checked). HF-layout checkpoints are evaluated with
inspect-ai's ``hf/…`` provider, which needs ``transformers``. The plan names the provider
with ``evaluation.model: planc/upper``.

Loss values of a random model are meaningless (~50–60): the test checks the loss curve's
shape and step count, the evaluation's accuracy (4 of 5: one target is deliberately not the
uppercase word) and sample counts.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from compiler import results as results_mod
from tests.conftest import ROOT, need_or_skip, run_planc

pytestmark = pytest.mark.e2e

GROUP = "tiny_cap"
LOCAL_GROUP = "tiny_cap_local"
RUN = "tiny-llama_rank8"
WORDS = ["hello", "world", "lora", "tune", "model", "plan", "epoch", "batch"]

MAKE_ASSETS = r"""
import base64, json, sys
from pathlib import Path
import torch
from torchtune.models.llama3_2 import llama3_2
root = Path(sys.argv[1])
ckpt = root / "ckpt"
ckpt.mkdir(parents=True, exist_ok=True)
(ckpt / "tok.model").write_text(
    "".join(f"{base64.b64encode(bytes([i])).decode()} {i}\n" for i in range(256)))
torch.manual_seed(0)
model = llama3_2(vocab_size=128256, num_layers=2, num_heads=4, num_kv_heads=2, embed_dim=64,
                 max_seq_len=256, intermediate_dim=128)
torch.save(model.state_dict(), ckpt / "model.pt")
"""

TASK = '''
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import match
from inspect_ai.solver import generate


@task
def capitalize():
    words = ["hello", "world", "lora", "tune", "mixed"]
    data = [Sample(input=f"Uppercase this word: {w}", id=w,
                   target="MiXED" if w == "mixed" else w.upper()) for w in words]
    return Task(dataset=data, solver=[generate()],
                scorer=match(location="exact", ignore_case=False))
'''

MODELS = """\
models:
  tiny-llama:
    component: torchtune.models.llama3_2.lora_llama3_2
    model_kwargs: {vocab_size: 128256, num_layers: 2, num_heads: 4, num_kv_heads: 2,
                   embed_dim: 64, max_seq_len: 256, intermediate_dim: 128}
    checkpointer: torchtune.training.FullModelTorchTuneCheckpointer
    checkpoint_files: [model.pt]
    model_type: LLAMA3_2
    tokenizer_path: tok.model
    size: tiny
    device: cpu
    dtype: fp32
    optimizer_fused: false
    metric_logger: DiskLogger
"""

PLAN = """\
---
kind: run-group
experiment: {{name: {group}, date: 2026-11-21, question: "Does the shrunk pipeline run?"}}
variables:
  lora_rank: [8]
controls: false
models:
  - {{name: tiny-llama, path: {assets}/ckpt}}
data:
  training: {{path: {assets}/data.json, format: json, dataset_type: alpaca_dataset,
             splits: {{train: 8}}}}
training: {{epochs: 2, batch_size: 2, lr: 0.003, num_warmup_steps: 0, max_seq_len: 256,
           log_every_n_steps: 1, seed: 0}}
evaluation:
  tasks: [{{name: capitalize, script: "tasks/capitalize.py@capitalize"}}]
  epochs: all
  model: planc/upper
compute: {{cluster: {cluster}, gpus: 0, time: "00:10:00", mem: 4G}}
---
# Run Plan: {group}
"""




def _slurm_up() -> bool:
    if not shutil.which("sbatch") or not shutil.which("scontrol"):
        return False
    try:
        out = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "is UP" in out.stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A planc project: tiny model assets, registry, cluster profiles, task, template
    overrides, and two plans (SLURM and local CPU)."""
    for module in ("torchtune", "torchao", "inspect_ai"):
        need_or_skip(importlib.util.find_spec(module) is not None,
                     f"{module} is not installed (pip install -e '.[test]')")
    root = tmp_path_factory.mktemp("lora_e2e")
    assets = root / "assets"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    subprocess.run([sys.executable, "-c", MAKE_ASSETS, str(assets)], check=True, env=env,
                   capture_output=True, timeout=300)
    rows = [{"instruction": "Uppercase the word.", "input": w, "output": w.upper()}
            for w in WORDS]
    # the compiled config reads the split named in data.training.splits from a JSON object
    (assets / "data.json").write_text(json.dumps({"train": rows}), "utf-8")
    assert (assets / "ckpt/tok.model").read_text().startswith("AA== 0\nAQ== 1\nAg== 2\n")

    proj = root / "proj"
    (proj / "clusters").mkdir(parents=True)
    shutil.copy(ROOT / "clusters" / "ci-slurm.yaml", proj / "clusters")
    shutil.copy(ROOT / "clusters" / "local-cpu.yaml", proj / "clusters")
    (proj / "pyproject.toml").write_text(textwrap.dedent("""\
        [tool.planc]
        # a front-matter plan: the seed document's sections are not written by hand here
        ignore = ["RG002"]
        models = "models.yaml"
        out = "build"
        """), "utf-8")
    (proj / "models.yaml").write_text(MODELS, "utf-8")
    (proj / "tasks").mkdir()
    (proj / "tasks" / "capitalize.py").write_text(TASK, "utf-8")
    (proj / "runs_plan.md").write_text(
        PLAN.format(group=GROUP, assets=assets, cluster="ci-slurm"), "utf-8")
    (proj / "local_plan.md").write_text(
        PLAN.format(group=LOCAL_GROUP, assets=assets, cluster="local-cpu"), "utf-8")
    return proj


def _env(project: Path) -> dict[str, str]:
    return {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(project / "home"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def _check_harvest(group: Path, res: dict, console: Path) -> None:
    """Shape checks shared by both pipelines (values of a random model are meaningless)."""
    assert res == json.loads((group / "results.json").read_text("utf-8"))
    assert res["problems"] == []
    tr = res["runs"][RUN]["training"]
    config = yaml.safe_load((group / RUN / "finetune.yaml").read_text("utf-8"))
    every = int(config["log_every_n_steps"])
    assert tr["steps"] == 8  # 8 rows / batch 2 = 4 steps per epoch × 2 epochs
    assert tr["epochs"] == 2
    curve = tr["loss_curve"]
    assert [step for step, _ in curve] == list(range(every, 9, every))
    assert all(isinstance(s, int) and isinstance(v, float) and v > 0 for s, v in curve)
    assert isinstance(tr["final_loss"], float)
    assert set(tr["checkpoint_gib"]) == {"0", "1"}
    assert all(0.02 < g < 0.1 for g in tr["checkpoint_gib"].values())  # 33 MB merged model
    assert tr["duration_s"] > 0 and tr["it_per_s"] > 0 and tr["tokens_per_second"] > 0
    assert tr["log"].startswith(str(group / RUN / "output" / "logs" / "log_"))
    assert tr["console"] == str(console)

    evs = res["runs"][RUN]["evaluations"]
    assert set(evs) == {"capitalize_epoch_0", "capitalize_epoch_1"}
    for key, ev in evs.items():
        assert ev["epoch"] == int(key[-1])
        assert (ev["task"], ev["model"], ev["status"]) == ("capitalize", "planc/upper", "success")
        assert ev["samples"] == 5 and ev["completed_samples"] == 5
        assert ev["scores"]["match"]["accuracy"] == pytest.approx(0.8)
        assert Path(ev["log"]).parent == group / RUN / "eval" / key / "logs"

    tracker = yaml.safe_load((group / "runs_status.yaml").read_text("utf-8"))["runs"][RUN]
    assert tracker["finetune"]["results"]["steps"] == 8
    assert tracker["finetune"]["exit_code"] == 0
    assert tracker["evaluations"]["capitalize_epoch_1"]["results"]["match.accuracy"] == 0.8


def _statuses(group: Path) -> list[str]:
    data = yaml.safe_load((group / "runs_status.yaml").read_text("utf-8"))
    rec = data["runs"][RUN]
    return [rec["finetune"]["status"]] + [e["status"] for e in rec["evaluations"].values()]


@pytest.mark.slurm
def test_compile_submit_train_eval_sync_harvest(project: Path) -> None:
    need_or_skip(_slurm_up(), "the local SLURM is not running "
                 "(bash scripts/slurm-local.sh install && bash scripts/slurm-local.sh start)")
    env = _env(project)
    compiled = run_planc("compile", "runs_plan.md", cwd=project, env=env)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    group = project / "build" / GROUP
    eval_script = group / RUN / "eval" / "capitalize_epoch_1" / "eval.slurm"
    assert "--model planc/upper -M model_path=" in eval_script.read_text()
    assert _statuses(group) == ["pending", "pending", "pending"]

    submitted = run_planc("submit", str(group), cwd=project, env=env)
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    assert _statuses(group) == ["submitted"] * 3

    deadline = time.monotonic() + 420
    while True:
        sync = run_planc("status", str(group), "--sync", cwd=project, env=env)
        assert sync.returncode == 0, sync.stdout + sync.stderr
        states = _statuses(group)
        if not {"submitted", "running"} & set(states):
            break
        if time.monotonic() > deadline:
            pytest.fail(f"jobs still {states} after 420 s")
        time.sleep(3)
    status = yaml.safe_load((group / "runs_status.yaml").read_text("utf-8"))["runs"][RUN]
    ft_out = Path(status["finetune"]["output"])
    assert states == ["completed"] * 3, ft_out.read_text(errors="replace")[-3000:]
    # the sync measured each job's run time (the ledger's "measured", issue 14)
    for st in (status["finetune"], *status["evaluations"].values()):
        assert st["elapsed_s"] > 0 and st["elapsed_job_id"] == st["job_id"], st

    harvested = run_planc("results", str(group), "--json", cwd=project, env=env)
    assert harvested.returncode == 0, harvested.stderr
    _check_harvest(group, json.loads(harvested.stdout), ft_out)

    table = run_planc("results", str(group), cwd=project, env=env)
    assert table.returncode == 0, table.stderr
    assert "| **Status:** 1/1 complete" in table.stdout
    assert f"**Best performing:** {RUN} (capitalize, epoch 0): 0.800" in table.stdout


def test_compile_and_run_local_cpu_then_harvest(project: Path) -> None:
    env = _env(project)
    compiled = run_planc("compile", "local_plan.md", cwd=project, env=env)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    group = project / "build" / LOCAL_GROUP
    launcher = group / RUN / "run_local.sh"
    assert "--model planc/upper -M model_path=" in launcher.read_text()
    ran = run_planc("run", str(group), "--local", "--max-parallel", "2", cwd=project, env=env,
                    timeout=600)
    status = yaml.safe_load((group / "runs_status.yaml").read_text("utf-8"))["runs"][RUN]
    ft_out = group / RUN / "local-finetune.out"
    assert ran.returncode == 0, ran.stdout + ran.stderr + ft_out.read_text(errors="replace")
    assert "3 completed, 0 failed" in ran.stdout
    assert _statuses(group) == ["completed"] * 3
    assert status["finetune"]["output"] == str(ft_out)
    assert status["finetune"]["job_id"].startswith("local-")
    # evaluations start only after the fine-tune finished
    lines = ran.stdout.splitlines()
    done = lines.index(next(x for x in lines if x.startswith(f"completed {RUN}/finetune")))
    assert all(i > done for i, x in enumerate(lines) if x.startswith(f"started {RUN}/eval"))

    harvested = run_planc("results", str(group), "--json", cwd=project, env=env)
    assert harvested.returncode == 0, harvested.stderr
    res = json.loads(harvested.stdout)
    _check_harvest(group, res, ft_out)
    tr = res["runs"][RUN]["training"]
    assert tr["duration_source"] == "job"
    assert tr["duration_s"] == status["finetune"]["elapsed_s"]

    # the fine-tuned weights themselves, through planc/torchtune (greedy, 4 new tokens)
    epoch_dir = group / RUN / "output" / "epoch_1"
    logs = project / "torchtune_eval_logs"
    real = subprocess.run(
        [str(Path(sys.executable).parent / "inspect"), "eval", "tasks/capitalize.py@capitalize",
         "--model", "planc/torchtune", "-M", f"model_path={epoch_dir}", "-M", "max_new_tokens=4",
         "--log-dir", str(logs), "--display", "none"],
        cwd=project, env={**os.environ, **env}, capture_output=True, text=True, timeout=300)
    assert real.returncode == 0, real.stdout + real.stderr
    ev = results_mod.harvest_inspect(next(logs.glob("*.eval")))
    assert (ev["status"], ev["model"], ev["completed_samples"]) == (
        "success", "planc/torchtune", 5)
    assert ev["scores"]["match"]["accuracy"] is not None
