"""Every generated ``finetune.yaml`` passes torchtune 0.6.1's ``tune validate``.

``tune validate`` loads the config with OmegaConf and binds every top-level component's
arguments (toolchain.md §3.1); it does not open files, so the example's model paths need
not exist. One real ``tune validate`` CLI call checks the tiny custom model's config (the
one CI fine-tunes on CPU); the other configs go through the same ``torchtune.config.validate``
function in one process (each CLI call costs ~10 s of imports).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from compiler.config import Settings
from compiler.expand import Options
from compiler.pipeline import compile_plan

from .conftest import ROOT, need_or_skip

PLAN = ROOT / "plans" / "cap_8L_llama32_lora_comparison" / "runs_plan.md"

TINY_MODELS = """\
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

TINY_PLAN = """\
---
kind: run-group
experiment: {name: tiny_group, date: 2026-01-01}
variables: {lora_rank: [4, 8]}
controls: false
models: [{name: tiny-llama, path: /abs/ckpt}]
data:
  training: {path: /abs/data.json, format: records, dataset_type: alpaca_dataset}
training: {epochs: 2, batch_size: 2, gradient_accumulation_steps: 1, max_seq_len: 256,
           lr: 0.003, seed: 0, packed: false}
evaluation: {tasks: [{name: upper, script: tasks/upper.py}]}
compute: {cluster: local-cpu}
---
# tiny_group
"""

VALIDATE = textwrap.dedent("""\
    import sys
    from omegaconf import OmegaConf
    from torchtune import config
    for path in sys.argv[1:]:
        config.validate(OmegaConf.load(path))
        print("OK", path)
""")


def _have_torchtune() -> bool:
    return bool(shutil.which("tune") or importlib.util.find_spec("torchtune"))


def _tune() -> list[str]:
    exe = Path(sys.executable).with_name("tune")
    return [str(exe)] if exe.exists() else ["tune"]


def compile_tiny(tmp: Path) -> Path:
    """Compile the tiny project (custom model entry, local-cpu); returns the group folder."""
    project = tmp / "project"
    project.mkdir()
    (project / "models.yaml").write_text(TINY_MODELS, "utf-8")
    plan = project / "runs_plan.md"
    plan.write_text(TINY_PLAN, "utf-8")
    settings = Settings(root=project, models="models.yaml", clusters=str(ROOT / "clusters"))
    res = compile_plan(plan, settings, out=tmp / "out", options=Options(), lint=False)
    assert res.report is not None, [d.message for d in res.diagnostics]
    return res.group_dir


def test_tiny_model_config_matches_the_cpu_recipe(tmp_path: Path) -> None:
    group = compile_tiny(tmp_path)
    cfg = yaml.safe_load((group / "tiny-llama_rank4" / "finetune.yaml").read_text("utf-8"))
    assert cfg["model"]["_component_"] == "torchtune.models.llama3_2.lora_llama3_2"
    assert cfg["model"]["num_layers"] == 2 and cfg["model"]["vocab_size"] == 128256
    assert (cfg["model"]["lora_rank"], cfg["model"]["lora_alpha"]) == (4, 8)
    assert cfg["checkpointer"]["_component_"] == (
        "torchtune.training.FullModelTorchTuneCheckpointer")
    assert cfg["checkpointer"]["checkpoint_files"] == ["model.pt"]
    assert cfg["tokenizer"]["path"] == "/abs/ckpt/tok.model"
    assert (cfg["device"], cfg["dtype"], cfg["optimizer"]["fused"]) == ("cpu", "fp32", False)
    assert cfg["metric_logger"]["_component_"].endswith("DiskLogger")
    assert cfg["dataset"]["_component_"] == "torchtune.datasets.alpaca_dataset"
    assert cfg["dataset"]["split"] == "train" and "field" not in cfg["dataset"]
    assert cfg["output_dir"] == "output"


def test_every_generated_config_passes_tune_validate(tmp_path: Path) -> None:
    need_or_skip(_have_torchtune(), "torchtune is not installed "
                 "(pip install torch==2.13.0 torchtune==0.6.1 torchao==0.15.0)")
    configs = []
    for opts in ({}, {"cluster": "della"}):
        out = tmp_path / json.dumps(opts, sort_keys=True).replace('"', "").replace(" ", "")
        res = compile_plan(PLAN, Settings(root=ROOT), out=out, options=Options(**opts))
        assert res.report is not None
        configs += sorted(res.group_dir.glob("*/finetune.yaml"))
    tiny = compile_tiny(tmp_path)
    tiny_configs = sorted(tiny.glob("*/finetune.yaml"))
    assert len(configs) == 8 and len(tiny_configs) == 2
    proc = subprocess.run([sys.executable, "-c", VALIDATE, *map(str, configs + tiny_configs)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("OK ") == 10
    cli = subprocess.run([*_tune(), "validate", str(tiny_configs[0])], capture_output=True,
                         text=True, timeout=600)
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert "Config is well-formed!" in cli.stdout


def test_a_broken_config_fails_tune_validate(tmp_path: Path) -> None:
    """The check can fail: a misspelt LoRA argument is reported by torchtune."""
    need_or_skip(_have_torchtune(), "torchtune is not installed")
    group = compile_tiny(tmp_path)
    cfg = group / "tiny-llama_rank4" / "finetune.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("lora_dropout:", "lora_dropot:", 1), "utf-8")
    proc = subprocess.run([sys.executable, "-c", VALIDATE, str(cfg)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode != 0
    assert "lora_dropot" in proc.stderr
