"""No plan field is silently dropped (issue 9): every field of the run-group front-matter
model, set to a non-default value, changes the compiled output of every target, or the
compile reports it as unused by that target (info ``EX014``).

The field list is enumerated from the pydantic models, so a new field fails here until it
reaches an output or is reported. Outputs are compared with the source hash normalised
(every generated file names the plan's sha256, which any edit changes).
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from compiler.config import Settings
from compiler.document import load
from compiler.emit import emit
from compiler.models.rungroup import RunGroupFrontMatter
from compiler.registry import load_registry
from compiler.render import environment
from compiler.spec import build

from .conftest import ROOT

SETTINGS = Settings(root=ROOT)
BASE: dict[str, Any] = {
    "kind": "run-group",
    "experiment": {"name": "grp", "date": "2025-10-18"},
    "variables": {"model": ["Llama-3.2-1B-Instruct", "Llama-3.2-3B-Instruct"],
                  "lora_rank": [4, 8]},
    "controls": True,
    "models": [{"name": "Llama-3.2-1B-Instruct", "path": "/m/Llama-3.2-1B-Instruct"},
               {"name": "Llama-3.2-3B-Instruct", "path": "/m/Llama-3.2-3B-Instruct"}],
    "data": {"training": {"path": "/d/words.json",
                          "splits": {"train": 800, "validation": 100, "test": 100}}},
    "training": {"epochs": 2, "batch_size": 16},
    "evaluation": {"tasks": [{"name": "cap", "script": "tasks/cap/eval.py"}]},
}
# one non-default value per field (dotted path into the front-matter)
MUTATIONS: dict[str, Any] = {
    "title": "T", "id": "idx", "description": "desc", "author": "me", "created": "2025-01-02",
    "updated": "2025-01-03", "tags": ["a"], "status": "approved",
    "experiment.name": "grp2", "experiment.question": "Q?", "experiment.date": "2025-10-19",
    "experiment.project": "proj", "experiment.hypothesis": "H", "experiment.purpose": "P",
    "variables": {"model": ["Llama-3.2-1B-Instruct", "Llama-3.2-3B-Instruct"],
                  "lora_rank": [4, 16]},
    "design": "zip", "controls": False,
    "models": [{"name": "Llama-3.2-1B-Instruct", "path": "/other/Llama-3.2-1B-Instruct"},
               {"name": "Llama-3.2-3B-Instruct", "path": "/m/Llama-3.2-3B-Instruct"}],
    "data.training.path": "/d/other.json", "data.training.format": "records",
    "data.training.dataset_label": "lbl", "data.training.dataset_type": "chat_dataset",
    "data.training.splits.train": 1600, "data.training.splits.validation": "val",
    "data.training.splits.test": 200,
    "training.recipe": "lora_finetune_distributed", "training.epochs": 3,
    "training.batch_size": 8, "training.gradient_accumulation_steps": 2,
    "training.packed": True, "training.validation": True,
    "training.run_val_every_n_steps": 10, "training.system_prompt": "Be brief.",
    "training.lora_rank": 16, "training.lora_dropout": 0.05, "training.lr": 3e-4,
    "training.weight_decay": 0.1, "training.num_warmup_steps": 0, "training.seed": 7,
    "training.max_seq_len": 512, "training.log_every_n_steps": 1,
    "training.wandb_project": "myproj",
    "evaluation.tasks": [{"name": "cap", "script": "tasks/cap/other.py"}],
    "evaluation.epochs": "all",
    "evaluation.matrix": [{"run": "Llama-3.2-1B-Instruct_base", "tasks": []}],
    "evaluation.max_connections": 4, "evaluation.seed": 5, "evaluation.model": "hf/x",
    "evaluation.model_args": {"device": "cpu"},
    "compute.cluster": "della", "compute.cluster_type": "local_gpu",
    "compute.partition": "gpu", "compute.time": "03:00:00", "compute.mem": "32G",
    "compute.cpus": 4, "compute.gpus": 2, "compute.gpu_type": "a100",
    "compute.output_dir": "/scratch/o",
    "compute.eval.partition": "gpu-short", "compute.eval.time": "00:20:00",
    "compute.eval.mem": "8G", "compute.eval.cpus": 2, "compute.eval.gpus": 0,
    "exclude": [{"levels": {"lora_rank": 8}, "reason": "r"}],
    "runs": [{"name": "only", "model": "Llama-3.2-1B-Instruct", "lora_rank": 4,
              "batch_size": 4}],
    "repeats": 2, "layout": "array", "array_throttle": 2,
}
# a field that cannot take another value without changing what the document is
NOT_MUTABLE = {"kind"}
# fields about results, read by the site and `planc results` (compiler.outcome), not by
# compile: test_result_fields_reach_the_outcome holds them to that consumer
RESULT_FIELDS = {"primary_metric": "loss", "direction": "min",
                 "criteria": [{"metric": "loss", "every": "<= 0.5"}]}
TARGETS = {"slurm": {}, "local_gpu": {"cluster_type": "local_gpu"},
           "cpu_only": {"cluster_type": "cpu_only"}}


def _leaves(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted paths of every field; nested models are walked, lists and mappings of models
    are one field (their whole value is mutated)."""
    out: list[str] = []
    for name, f in model.model_fields.items():
        ann = f.annotation
        path = f"{prefix}{name}"
        sub = next((a for a in (ann, *getattr(ann, "__args__", ()))
                    if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if sub is not None and name not in ("models", "tasks", "matrix", "exclude", "runs"):
            out += _leaves(sub, path + ".")
        else:
            out.append(path)
    return out


def _comparable(files: dict[str, bytes]) -> dict[str, bytes]:
    """The files with the tracker plan payload's ``raw_markdown`` left out: it carries the
    plan text itself, so any edit of the plan would count as "reaching an output"."""
    import json

    out = dict(files)
    for key, data in files.items():
        if key.endswith("plan.json") and key.startswith("api/"):
            body = json.loads(data)
            target = body.get("body", body) if isinstance(body, dict) else body
            if isinstance(target, dict):
                target.pop("raw_markdown", None)
            out[key] = json.dumps(body, sort_keys=True).encode()
    return out


def _changed(base: dict[str, bytes], files: dict[str, bytes]) -> set[str]:
    """The generated files that differ from ``base`` (the manifest aside: it hashes all)."""
    return {k for k in set(files) | set(base) if files.get(k) != base.get(k)} - {"manifest.json"}


# a sweep plan's flat compute keys are reported under their run-group names
_REPORTED_AS = {"gpus": "compute.gpus", "cpus": "compute.cpus", "time": "compute.time",
                "mem": "compute.mem", "gpu_type": "compute.gpu_type"}


def _is_silent(path: str, base: dict[str, bytes], files: dict[str, bytes],
               diags: list[Any]) -> bool:
    """Whether setting ``path`` changed no output and was not reported unused (EX014)."""
    key = _REPORTED_AS.get(path, path)
    reported = any(d.code == "EX014" and d.message.startswith(key) for d in diags)
    return not _changed(base, files) and not reported


def _set(fm: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for p in parents:
        fm = fm.setdefault(p, {})
    fm[last] = value


def _render(tmp: Path, fm: dict[str, Any]) -> tuple[dict[str, bytes], list[Any]]:
    plan = tmp / "runs_plan.md"
    plan.write_text("---\n" + yaml.safe_dump(fm, sort_keys=False) + "---\n# grp\n", "utf-8")
    built = build(load(plan), SETTINGS)
    assert built.matrix is not None, [d.message for d in built.errors]
    registry, _ = load_registry(SETTINGS)
    matrix = dataclasses.replace(built.matrix, source_sha256="0" * 64)
    return _comparable(emit(matrix, environment(None), registry)), list(built.diagnostics)


def test_every_field_has_a_mutation() -> None:
    fields = set(_leaves(RunGroupFrontMatter)) - NOT_MUTABLE - set(RESULT_FIELDS)
    assert fields == set(MUTATIONS), (sorted(fields - set(MUTATIONS)),
                                      sorted(set(MUTATIONS) - fields))


@pytest.mark.parametrize("target", TARGETS)
def test_every_field_reaches_an_output_or_is_reported(tmp_path: Path, target: str) -> None:
    base_fm = copy.deepcopy(BASE)
    if TARGETS[target]:
        base_fm["compute"] = dict(TARGETS[target])
    base, _ = _render(tmp_path, base_fm)
    silent = []
    for path, value in MUTATIONS.items():
        if path == "compute.cluster_type" and target != "slurm":
            value = "slurm" if target != "slurm" else value
        if path == "compute.cluster" and target != "slurm":
            continue  # a SLURM profile for a local plan is a contradiction (EX010)
        fm = copy.deepcopy(base_fm)
        _set(fm, path, value)
        if _is_silent(path, base, *_render(tmp_path, fm)):
            silent.append(path)
    assert silent == [], f"{target}: fields that change nothing and are not reported: {silent}"


def test_training_fields_reach_both_configs(tmp_path: Path) -> None:
    fm = copy.deepcopy(BASE)
    fm["training"].update(lora_dropout=0.05, num_warmup_steps=0, log_every_n_steps=1,
                          wandb_project="myproj")
    files, _ = _render(tmp_path, fm)
    for name in ("finetune.yaml", "setup_finetune.yaml"):
        text = files[f"Llama-3.2-1B-Instruct_rank4/{name}"].decode()
        cfg = yaml.safe_load(text)
        assert cfg["lora_dropout" if name.startswith("setup") else "model"] is not None
        assert cfg["my_wandb_project"] == "myproj"
        assert cfg["log_every_n_steps"] == 1
        if name == "finetune.yaml":
            assert cfg["model"]["lora_dropout"] == 0.05
            assert cfg["lr_scheduler"]["num_warmup_steps"] == 0
        else:
            assert cfg["lora_dropout"] == 0.05 and cfg["num_warmup_steps"] == 0


def test_seed_form_front_matter_layout_is_used(tmp_path: Path) -> None:
    text = (ROOT / "plans/cap_8L_llama32_lora_comparison/runs_plan.md").read_text("utf-8")
    plan = tmp_path / "runs_plan.md"
    plan.write_text("---\nlayout: array\narray_throttle: 3\n---\n" + text, "utf-8")
    built = build(load(plan), SETTINGS)
    assert built.matrix is not None, [d.message for d in built.errors]
    assert built.matrix.settings.layout == "array"
    assert built.matrix.settings.array_throttle == 3


# -- sweeps (plans with a command template) ---------------------------------------------------
_SWEEP_TEXT = (ROOT / "plans/lr-sweep/plan.md").read_text("utf-8")
_SWEEP_BODY = _SWEEP_TEXT.split("---\n", 2)[2]
SWEEP_BASE: dict[str, Any] = {
    "kind": "plan", "title": "LR sweep", "name": "sw",
    "command": "python train.py --alpha {alpha} --seed {seed} --out {out}",
    "sweep": {"grid": {"alpha": [0.0001, 0.001, 0.01], "seed": [0, 1]}},
}
SWEEP_MUTATIONS: dict[str, Any] = {
    "title": "T2", "id": "idx", "description": "desc", "author": "me",
    "created": "2025-01-02", "updated": "2025-01-03", "tags": ["a"], "status": "approved",
    "command": "python other.py --alpha {alpha} --seed {seed} --out {out}",
    "sweep.grid": {"alpha": [0.0001, 0.001], "seed": [0, 1]},
    "sweep.zip": {"alpha": [0.0001, 0.001], "seed": [0, 1]},
    "sweep.runs": [{"alpha": 0.5, "seed": 3}],
    "sweep.exclude": [{"levels": {"alpha": 0.001}, "reason": "diverges"}],
    "sweep.seeds": [5, 6], "sweep.repeats": 3,
    "cluster": "della", "cluster_type": "local_gpu", "environment": "conda",
    "workdir": "/proj", "name": "sw2", "time": "02:00:00", "gpus": 2, "cpus": 3,
    "gpu_type": "h100", "mem": "9G", "layout": "array", "array_throttle": 2,
}
SWEEP_TARGETS = {"slurm": {"cluster_type": "slurm"}, "local_gpu": {"cluster_type": "local_gpu"},
                 "cpu_only": {}}


def _render_sweep(tmp: Path, fm: dict[str, Any]) -> tuple[dict[str, bytes], list[Any]]:
    plan = tmp / "plan.md"
    plan.write_text("---\n" + yaml.safe_dump(fm, sort_keys=False) + "---\n" + _SWEEP_BODY,
                    "utf-8")
    built = build(load(plan), SETTINGS)
    assert built.matrix is not None, [d.message for d in built.errors]
    matrix = dataclasses.replace(built.matrix, source_sha256="0" * 64)
    return _comparable(emit(matrix, environment(None))), list(built.diagnostics)


def test_every_sweep_field_has_a_mutation() -> None:
    from compiler.models.frontmatter import PlanFrontMatter

    fields = set(_leaves(PlanFrontMatter)) - NOT_MUTABLE - set(RESULT_FIELDS)
    assert fields == set(SWEEP_MUTATIONS), (sorted(fields - set(SWEEP_MUTATIONS)),
                                            sorted(set(SWEEP_MUTATIONS) - fields))


@pytest.mark.parametrize("target", SWEEP_TARGETS)
def test_every_sweep_field_reaches_an_output_or_is_reported(tmp_path: Path,
                                                            target: str) -> None:
    base_fm = {**copy.deepcopy(SWEEP_BASE), **SWEEP_TARGETS[target]}
    base, _ = _render_sweep(tmp_path, base_fm)
    silent = []
    for path, value in SWEEP_MUTATIONS.items():
        if path == "cluster_type":
            value = "cpu_only" if target != "cpu_only" else value
        if path == "cluster" and target != "slurm":
            continue  # a SLURM profile for a local plan is a contradiction (EX010)
        fm = copy.deepcopy(base_fm)
        if path == "sweep.zip":
            fm["sweep"].pop("grid")
        if path == "sweep.seeds" or path == "sweep.repeats":
            fm["sweep"]["grid"].pop("seed")
        _set(fm, path, value)
        if _is_silent(path, base, *_render_sweep(tmp_path, fm)):
            silent.append(path)
    assert silent == [], f"{target}: fields that change nothing and are not reported: {silent}"


def test_result_fields_reach_the_outcome(tmp_path: Path) -> None:
    from compiler.outcome import read_intent

    plan = tmp_path / "plan.md"
    plan.write_text("---\n" + yaml.safe_dump(SWEEP_BASE) + "---\n" + _SWEEP_BODY, "utf-8")
    base = read_intent(load(plan))
    for key, value in RESULT_FIELDS.items():
        plan.write_text("---\n" + yaml.safe_dump({**SWEEP_BASE, key: value}) + "---\n"
                        + _SWEEP_BODY, "utf-8")
        assert read_intent(load(plan)) != base, key
