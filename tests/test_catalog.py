"""The model catalog is torchtune's: derived by ``scripts/derive_models.py`` from the pinned
torchtune, found by any spelling of a name, and every fine-tune's ``finetune.yaml`` starts
from torchtune's own shipped config (every key present, the plan's values winning) and
passes ``tune validate``'s check for one model of every family."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.config import Settings
from compiler.expand import Options
from compiler.pipeline import compile_plan
from compiler.registry import base_config, load_registry

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import derive_models  # noqa: E402

HAVE_TORCHTUNE = importlib.util.find_spec("torchtune") is not None
needs_torchtune = pytest.mark.skipif(not HAVE_TORCHTUNE, reason="torchtune not installed")


def _one_per_family() -> dict[str, str]:
    reg, _ = load_registry()
    out: dict[str, str] = {}
    for name, e in reg.models.items():
        if e.single_device is not None and e.component.split(".")[-1] != "lora_mistral":
            out.setdefault(e.family, name)
    return out


FAMILIES = _one_per_family()


@needs_torchtune
def test_the_committed_catalog_is_what_torchtune_061_ships() -> None:
    # flake8's up-to-date test: no hand edits, facts in sync with the installed torchtune
    assert derive_models.write(check=True) == [], (
        "compiler/data is stale: run `python scripts/derive_models.py`")


def test_every_lora_family_of_torchtune_061_is_in_the_catalog() -> None:
    reg, diags = load_registry()
    assert diags == []
    families = {e.family for e in reg.models.values()}
    assert {"llama2", "code_llama2", "llama3", "llama3_1", "llama3_2", "llama3_3", "mistral",
            "gemma", "gemma2", "qwen2", "qwen2_5", "phi3", "phi4"} <= families
    q = reg.get("Qwen2.5-1.5B-Instruct")
    assert q is not None and q.component == "torchtune.models.qwen2_5.lora_qwen2_5_1_5b_instruct"
    assert q.tokenizer_path == "vocab.json" and q.tokenizer_files == {"merges_file": "merges.txt"}
    assert q.single_device is not None and q.single_device.config == (
        "qwen2_5/1.5B_lora_single_device")
    assert q.distributed is not None and q.distributed.recipe == "lora_finetune_distributed"
    seventy = reg.get("Llama-3.1-70B-Instruct")
    assert seventy is not None and seventy.single_device is None
    assert isinstance(seventy.checkpoint_files, dict)  # torchtune's filename_format form
    for e in reg.models.values():  # every config the catalog names ships as data
        for ref in (e.single_device, e.distributed):
            if ref is not None:
                assert base_config(ref.config)["model"]["_component_"]


def test_names_org_slash_name_aliases_and_case() -> None:
    reg, _ = load_registry()
    assert reg.resolve("Qwen/Qwen2.5-1.5B-Instruct") == "Qwen2.5-1.5B-Instruct"
    assert reg.resolve("qwen2.5-1.5b-instruct") == "Qwen2.5-1.5B-Instruct"
    assert reg.resolve("Llama-3.1-8B-Instruct") == "Meta-Llama-3.1-8B-Instruct"
    assert reg.resolve("meta-llama/Llama-3.1-8B-Instruct") == "Meta-Llama-3.1-8B-Instruct"
    assert reg.resolve("mistralai/Mistral-7B-Instruct-v0.3") == "Mistral-7B-Instruct-v0.3"
    assert reg.resolve("Qwen2.5-1.5B") is None
    assert reg.suggest("Qwen2.5-1.5B")[0] == "Qwen2.5-1.5B-Instruct"


def test_project_entries_still_extend_the_catalog(tmp_path: Path) -> None:
    (tmp_path / "models.yaml").write_text(
        "models:\n  my-tiny:\n    component: torchtune.models.llama3_2.lora_llama3_2\n"
        "    checkpoint_files: [model.pt]\n    model_type: LLAMA3_2\n    size: tiny\n")
    reg, diags = load_registry(Settings(root=tmp_path, models="models.yaml"))
    assert diags == [] and reg.get("my-tiny") is not None
    assert reg.get("Qwen2.5-1.5B-Instruct") is not None and reg.get("my-tiny").base_ref(
        "lora_finetune_single_device") is None


PLAN = """\
---
kind: run-group
experiment: {{name: {group}, date: 2025-10-18}}
variables: {{lora_rank: [6]}}
models: [{{name: {model}, path: /models/{leaf}}}]
data: {{training: {{path: /data/words.json, splits: {{train: 80, validation: 10, test: 10}}}}}}
training: {{epochs: 1, batch_size: 4}}
evaluation: {{tasks: [{{name: cap, script: tasks/cap.py}}]}}
compute: {{gpus: {gpus}}}
---
# {group}
"""


def _compile(tmp_path: Path, model: str, gpus: int = 1) -> tuple[Any, Path]:
    leaf = model.rsplit("/", 1)[-1]
    group = "g_" + "".join(c if c.isalnum() else "_" for c in leaf).lower()
    plan = tmp_path / f"{group}.md"
    plan.write_text(PLAN.format(group=group, model=model, leaf=leaf, gpus=gpus), "utf-8")
    res = compile_plan(plan, Settings(root=ROOT), out=tmp_path / "out", options=Options())
    assert res.report is not None, [f"{d.code} {d.message}" for d in res.diagnostics]
    run = res.matrix.fine_tuned[0]
    return res, res.group_dir / run.name / "finetune.yaml"


class _Unique(yaml.SafeLoader):
    pass


def _no_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
    assert len(keys) == len(set(keys)), f"duplicate keys in {keys}"
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_Unique.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: data}


@pytest.mark.parametrize("model", ["Qwen2.5-1.5B-Instruct", "Mistral-7B-Instruct-v0.3",
                                   "Qwen/Qwen2.5-1.5B-Instruct"])
def test_a_new_user_s_models_compile(tmp_path: Path, model: str) -> None:
    res, path = _compile(tmp_path, model)
    cfg = yaml.load(path.read_text("utf-8"), Loader=_Unique)
    entry = load_registry()[0].get(model)
    assert cfg["model"]["_component_"] == entry.component
    assert cfg["model"]["lora_rank"] == 6 and cfg["model"]["lora_alpha"] == 12
    assert cfg["batch_size"] == 4 and cfg["epochs"] == 1  # the plan's values win


def test_an_unknown_model_gets_a_did_you_mean(tmp_path: Path) -> None:
    plan = tmp_path / "g.md"
    plan.write_text(PLAN.format(group="g", model="Qwen2.5-1.5B", leaf="Qwen2.5-1.5B", gpus=1))
    res = compile_plan(plan, Settings(root=ROOT), out=tmp_path / "out", options=Options())
    msgs = [d.message for d in res.diagnostics if d.code == "EX006"]
    assert msgs and "did you mean 'Qwen2.5-1.5B-Instruct'" in msgs[0]


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("gpus", [1, 2])
def test_every_key_torchtune_expects_is_present(tmp_path: Path, family: str, gpus: int
                                                ) -> None:
    model = FAMILIES[family]
    res, path = _compile(tmp_path, model, gpus)
    entry = load_registry()[0].get(model)
    ref = entry.base_ref(res.matrix.fine_tuned[0].finetune.recipe)
    cfg = yaml.load(path.read_text("utf-8"), Loader=_Unique)
    mine, base = _flat(cfg), _flat(base_config(ref.config))
    replaced = {"dataset"}  # planc's dataset component replaces torchtune's alpaca example
    if cfg["metric_logger"]["_component_"] != base_config(ref.config)["metric_logger"][
            "_component_"]:
        replaced.add("metric_logger")
    missing = [k for k in base if k not in mine and k.split(".")[0] not in replaced]
    assert missing == []
    readme = (res.group_dir / "README.md").read_text("utf-8")
    assert f"`{ref.config}`" in readme and "| `model.lora_rank` | `" in readme


@needs_torchtune
def test_compiled_configs_pass_tune_validate_for_every_family(tmp_path: Path) -> None:
    """``tune validate``'s own check (torchtune.config.validate: every top-level component's
    arguments bind to its signature), in one process for all families (the CLI costs ~9 s of
    imports per call)."""
    from omegaconf import OmegaConf
    from torchtune import config as tt_config

    failures = {}
    for family, model in sorted(FAMILIES.items()):
        for gpus in (1, 2):
            (tmp_path / f"{family}{gpus}").mkdir()
            _, path = _compile(tmp_path / f"{family}{gpus}", model, gpus)
            try:
                tt_config.validate(OmegaConf.load(path))
            except Exception as exc:  # noqa: BLE001 - collect every family's failure
                failures[(family, gpus)] = f"{type(exc).__name__}: {exc}"
    assert failures == {}


GOLDEN_FAMILIES = ROOT / "tests" / "golden" / "families"


def _without_banner(text: str) -> str:
    """The config without planc's two banner lines (they name the temporary plan path)."""
    return "".join(line for line in text.splitlines(keepends=True)
                   if "generated by planc" not in line
                   and "change the plan and run `planc compile` again" not in line)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_golden_configs_per_family(tmp_path: Path, family: str) -> None:
    """One model per family: the compiled ``finetune.yaml`` and ``setup_finetune.yaml``
    equal the golden files (``PLANC_UPDATE_GOLDEN=1`` regenerates; review the diff)."""
    import os

    res, finetune = _compile(tmp_path, FAMILIES[family])
    for path in (finetune, finetune.with_name("setup_finetune.yaml")):
        got = _without_banner(path.read_text("utf-8"))
        golden = GOLDEN_FAMILIES / family / path.name
        if os.environ.get("PLANC_UPDATE_GOLDEN") == "1":
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(got, "utf-8")
        assert golden.is_file(), f"no golden file {golden}: PLANC_UPDATE_GOLDEN=1 writes it"
        assert got == golden.read_text("utf-8"), f"{family}/{path.name} differs from golden"
