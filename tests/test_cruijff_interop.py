"""The interop contract with cruijff_kit's real tools, checked on compiled files.

Each convention below is what one cruijff_kit tool reads, cited by file and commit of
niznik-dev/cruijff_kit (read from the repository, not guessed):

- ``tools/torchtune/setup_finetune.py`` @8bbf51b (Oct 2025, the format planc writes):
  ``input_dir = input_dir_base + input_formatting + ("/" if input_formatting else "")`` and
  ``output_dir = output_dir_base + "ck-out-" + run + "/"`` — so ``input_formatting`` is
  ``''`` (the data sits in ``input_dir_base``) and both bases end in ``/``.
- ``src/tools/torchtune/setup_finetune.py`` @72a4ace ``validate_dataset_type``: the current
  vocabulary is ``chat_completion`` / ``text_completion`` (``instruct_dataset`` is legacy).
- ``src/tools/inspect/setup_inspect.py`` @72a4ace ``render_template``: ``-T data_path``,
  ``-T config_path`` (the eval.yaml), ``-M do_sample=false``, ``--metadata epoch /
  is_finetuned / source_model``, ``--seed`` (``DEFAULT_SEED = 14``,
  ``src/tools/experiment/propagate.py``), ``--log-dir``.
- ``tools/torchtune/templates/finetune_template.slurm`` @8bbf51b: ``cp finetune.slurm
  setup_finetune.yaml <OUTPUT_DIR>/`` (its evaluation and summary tools read them there),
  submitted as ``cd <run> && sbatch finetune.slurm``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import yaml

from compiler.config import Settings
from compiler.expand import Options
from compiler.pipeline import compile_plan

from .conftest import ROOT

PLAN = ROOT / "plans" / "cap_8L_llama32_lora_comparison" / "runs_plan.md"


def _group(tmp_path: Path) -> Path:
    res = compile_plan(PLAN, Settings(root=ROOT), out=tmp_path, options=Options())
    assert res.report is not None
    return res.group_dir


def _ck_input_dir(setup: dict) -> str:
    # cruijff_kit@8bbf51b tools/torchtune/setup_finetune.py, key "input_dir_base"
    fmt = setup["input_formatting"]
    return setup["input_dir_base"] + fmt + ("/" if fmt else "")


def _ck_output_dir(setup: dict, run: str) -> str:
    return setup["output_dir_base"] + "ck-out-" + run + "/"  # same file, "output_dir_base"


def test_setup_finetune_yaml_reads_right_in_cruijff_kit(tmp_path: Path) -> None:
    group = _group(tmp_path)
    for setup_path in sorted(group.glob("*/setup_finetune.yaml")):
        run = setup_path.parent.name
        setup = yaml.safe_load(setup_path.read_text("utf-8"))
        ft = yaml.safe_load((setup_path.parent / "finetune.yaml").read_text("utf-8"))
        assert setup["input_formatting"] == ""
        assert setup["input_dir_base"].endswith("/") and setup["output_dir_base"].endswith("/")
        # cruijff_kit's data path is the one planc's finetune.yaml trains on
        data = _ck_input_dir(setup) + setup["dataset_label"] + setup["dataset_ext"]
        assert data == ft["dataset"]["data_files"]
        assert "//" not in _ck_output_dir(setup, run) and _ck_output_dir(setup, run).endswith(
            f"ck-out-{run}/")
        assert setup["dataset_type"] in ("chat_completion", "text_completion")
        assert run.startswith(setup["torchtune_model_name"] + "_")


def test_evaluations_pass_what_setup_inspect_passes(tmp_path: Path) -> None:
    group = _group(tmp_path)
    scripts = sorted(group.glob("*/eval/*/eval.slurm"))
    assert scripts
    for script in scripts:
        cfg = yaml.safe_load((script.parent / "eval.yaml").read_text("utf-8"))
        line = next(ln for ln in script.read_text("utf-8").splitlines()
                    if " eval-set " in ln)
        words = shlex.split(line.split(" || ")[0])
        assert words[:2] == ["inspect", "eval-set"]

        def values(flag: str, words: list[str] = words) -> list[str]:
            return [words[i + 1] for i, w in enumerate(words) if w == flag]

        targs = dict(v.split("=", 1) for v in values("-T"))
        margs = dict(v.split("=", 1) for v in values("-M"))
        meta = dict(v.split("=", 1) for v in values("--metadata"))
        assert targs["data_path"] == cfg["data_path"]
        assert targs["config_path"] == "$EVAL_DIR/eval.yaml"  # shlex keeps the variable
        assert margs["do_sample"] == "false"
        assert meta["is_finetuned"] == str(cfg["is_finetuned"]).lower()
        assert meta["source_model"] == cfg["source_model"]
        if cfg["epoch"] is not None:
            assert meta["epoch"] == str(cfg["epoch"])
        assert values("--seed") == ["14"] and values("--log-dir") == ["$EVAL_DIR/logs"]


def test_cd_run_and_sbatch_finds_the_group_and_copies_the_scripts(tmp_path: Path) -> None:
    """``cd <run> && sbatch finetune.slurm`` without PLANC_GROUP_DIR: the script finds its
    group (from $SLURM_SUBMIT_DIR) and copies finetune.slurm and setup_finetune.yaml into
    the run's output folder. Run with bash, ``tune`` replaced by a stub."""
    group = _group(tmp_path)
    run = group / "Llama-3.2-1B-Instruct_rank4"
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "tune").write_text("#!/bin/sh\necho tune \"$@\"\n")
    (stub / "tune").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANC_", "SLURM_"))}
    env.update(PATH=f"{stub}:{env.get('PATH', '')}", SLURM_SUBMIT_DIR=str(run))
    # sbatch runs a spooled copy: the script's own folder says nothing
    spooled = tmp_path / "spool" / "slurm_script"
    spooled.parent.mkdir()
    spooled.write_bytes((run / "finetune.slurm").read_bytes())
    proc = subprocess.run(["bash", str(spooled)], cwd=run, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "tune run lora_finetune_single_device --config finetune.yaml" in proc.stdout
    out = run / "output"
    assert (out / "finetune.slurm").read_bytes() == (run / "finetune.slurm").read_bytes()
    assert (out / "setup_finetune.yaml").is_file()
