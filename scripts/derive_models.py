"""Derive planc's built-in model catalog from the installed (pinned) torchtune.

    python scripts/derive_models.py            # rewrite compiler/data/models.yaml and
                                                # compiler/data/torchtune/**.yaml
    python scripts/derive_models.py --check    # exit 1 when the committed files differ

What ``tune ls`` lists is torchtune's recipe registry (``torchtune/_recipe_registry.py``)
and the config YAMLs it ships (``recipes/configs/``). For every LoRA config of the two
built-in LoRA recipes (``lora_finetune_single_device``, ``lora_finetune_distributed``;
QLoRA, DoRA, QAT, knowledge-distillation and vision configs are not LoRA fine-tunes of a
text model and are left out) this script reads:

- the HuggingFace name from the config's own ``tune download <org/name>`` comment;
- the model builder (``model._component_``), its LoRA settings, the tokenizer component and
  the tokenizer files (paths under the config's ``checkpoint_dir``), the checkpointer, its
  checkpoint files and ``model_type``, and ``enable_activation_checkpointing``;

and writes one catalog entry per HuggingFace model with its single-device and distributed
recipe and config. The configs themselves are copied verbatim into
``compiler/data/torchtune/`` (the ``tune cp`` file), because compile starts each run's
``finetune.yaml`` from them and lint must never import torch or torchtune.

Two kinds of names are added, both stated below with their source (nothing else is written
by hand): ``Meta-Llama-3*`` repositories were renamed on the Hub to ``Llama-3*`` (the old
names redirect), so each such entry also answers to the new name; and the Mistral Instruct
releases torchtune's Mistral configs do not name (``VARIANTS``).

Reads the torchtune files without importing torchtune (``importlib.util.find_spec`` only
locates the packages), so it runs in a second.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "compiler" / "data"
CONFIG_DIR = "torchtune"  # compiler/data/torchtune/<family>/<config>.yaml
LORA_RECIPES = {"lora_finetune_single_device": "single_device",
                "lora_finetune_distributed": "distributed"}
_LORA_CONFIG = re.compile(r"^(?P<family>[a-z0-9_]+)/(?P<size>[0-9.]+B|mini)_lora"
                          r"(?:_single_device)?$")
_DOWNLOAD = re.compile(r"tune download (\S+)")
_SIZE = re.compile(r"(\d+(?:\.\d+)?)B")

# Mistral Instruct releases that torchtune 0.6.1's Mistral configs (written for
# mistralai/Mistral-7B-v0.1) do not name. Architecture facts from each repository's
# config.json on the Hugging Face Hub (vocab_size, rope_theta, max_position_embeddings) and
# its file list (checkpoint shards); the generic builder torchtune.models.mistral.lora_mistral
# takes them as arguments (torchtune/models/mistral/_component_builders.py).
_MISTRAL_7B = {"num_layers": 32, "num_heads": 32, "num_kv_heads": 8, "embed_dim": 4096,
               "intermediate_dim": 14336, "max_seq_len": 32768, "attn_dropout": 0.0,
               "norm_eps": 1e-5}  # torchtune/models/mistral/_model_builders.py mistral_7b
VARIANTS: dict[str, dict[str, Any]] = {
    "Mistral-7B-Instruct-v0.1": {
        "of": "Mistral-7B-v0.1", "hf_name": "mistralai/Mistral-7B-Instruct-v0.1",
        "checkpoint_files": ["pytorch_model-00001-of-00002.bin",
                             "pytorch_model-00002-of-00002.bin"]},
    "Mistral-7B-Instruct-v0.2": {
        "of": "Mistral-7B-v0.1", "hf_name": "mistralai/Mistral-7B-Instruct-v0.2",
        "component": "torchtune.models.mistral.lora_mistral",
        "model_kwargs": {"vocab_size": 32000, **_MISTRAL_7B, "rope_base": 1000000},
        "checkpoint_files": ["model-00001-of-00003.safetensors",
                             "model-00002-of-00003.safetensors",
                             "model-00003-of-00003.safetensors"]},
    "Mistral-7B-Instruct-v0.3": {
        "of": "Mistral-7B-v0.1", "hf_name": "mistralai/Mistral-7B-Instruct-v0.3",
        "component": "torchtune.models.mistral.lora_mistral",
        "model_kwargs": {"vocab_size": 32768, **_MISTRAL_7B, "rope_base": 1000000},
        "checkpoint_files": ["model-00001-of-00003.safetensors",
                             "model-00002-of-00003.safetensors",
                             "model-00003-of-00003.safetensors"]},
}


class _NoAliases(yaml.SafeDumper):
    """Entries share lists (variants copy their base): write each in full, no anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def torchtune_paths() -> tuple[Path, Path, str]:
    """(torchtune package dir, recipes/configs dir, torchtune version), found without
    importing torchtune (its ``__init__`` imports torch)."""
    tt = importlib.util.find_spec("torchtune")
    rc = importlib.util.find_spec("recipes")
    if tt is None or tt.origin is None or rc is None or rc.origin is None:
        raise SystemExit("torchtune (and its recipes package) is not installed")
    pkg = Path(tt.origin).parent
    version = "unknown"
    vfile = pkg / "version.py"
    if vfile.exists():
        m = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", vfile.read_text("utf-8"))
        version = m.group(1) if m else version
    if version == "unknown":
        from importlib.metadata import version as dist_version

        version = dist_version("torchtune")
    return pkg, Path(rc.origin).parent / "configs", version


def recipe_registry(pkg: Path) -> list[Any]:
    """torchtune's ``_ALL_RECIPES`` (a dataclass module with no imports beyond typing)."""
    spec = importlib.util.spec_from_file_location("_tt_recipe_registry",
                                                  pkg / "_recipe_registry.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return list(mod._ALL_RECIPES)


def _size_b(cfg_size: str, hf: str) -> float:
    if cfg_size == "mini":  # Phi-3-mini: 3.8B parameters (microsoft/Phi-3-mini-4k-instruct)
        return 3.8
    m = _SIZE.search(hf) or _SIZE.search(cfg_size)
    return float(m.group(1)) if m else 1.0


def _size_class(b: float) -> str:
    return "1B" if b < 2 else "3B" if b < 5 else "7B" if b < 7.5 else "8B" if b < 30 else "70B"


def _min_gpu_gib(b: float) -> int:
    # bf16 weights + LoRA + activations: about 4 GiB per billion parameters, in steps of 8
    return max(8, -(-int(round(b * 4)) // 8) * 8)


def _entry(cfg: dict[str, Any], text: str, size: str) -> tuple[str, dict[str, Any]]:
    m = _DOWNLOAD.search(text)
    if not m:
        raise ValueError("no `tune download` line")
    hf = m.group(1)
    ck = cfg["checkpointer"]
    ckdir = str(ck["checkpoint_dir"]).rstrip("/")
    tok = dict(cfg["tokenizer"])
    files = {k: str(v)[len(ckdir) + 1:] for k, v in tok.items()
             if isinstance(v, str) and v.startswith(ckdir + "/")}
    model = cfg["model"]
    b = _size_b(size, hf)
    entry: dict[str, Any] = {
        "hf_name": hf,
        "component": model["_component_"],
        "lora_attn_modules": list(model.get("lora_attn_modules") or []),
        "apply_lora_to_mlp": bool(model.get("apply_lora_to_mlp", False)),
        "checkpointer": ck["_component_"],
        "checkpoint_files": ck["checkpoint_files"],
        "model_type": ck["model_type"],
        "tokenizer": tok["_component_"],
        "tokenizer_path": files.pop("path", None),
    }
    if files:
        entry["tokenizer_files"] = files
    entry.update(size=_size_class(b), params_b=b, min_gpu_memory_gib=_min_gpu_gib(b),
                 activation_checkpointing=bool(cfg.get("enable_activation_checkpointing")))
    return hf.split("/", 1)[1], entry


def derive() -> tuple[str, dict[str, str]]:
    """(models.yaml text, {relpath under compiler/data: config text})."""
    pkg, configs, version = torchtune_paths()
    models: dict[str, dict[str, Any]] = {}
    copies: dict[str, str] = {}
    for recipe in recipe_registry(pkg):
        kind = LORA_RECIPES.get(recipe.name)
        if kind is None:
            continue
        for config in recipe.configs:
            m = _LORA_CONFIG.match(config.name)
            if not m or m.group("family").endswith("_vision"):  # image-text models
                continue
            text = (configs / config.file_path).read_text("utf-8")
            cfg = yaml.safe_load(text)
            name, entry = _entry(cfg, text, m.group("size"))
            rel = f"{CONFIG_DIR}/{config.file_path}"
            copies[rel] = text
            have = models.setdefault(name, {"family": m.group("family"), **entry})
            if kind == "single_device":  # the single-device config states the memory plan
                have["activation_checkpointing"] = entry["activation_checkpointing"]
            have[kind] = {"recipe": recipe.name, "config": config.name}
    for name, v in VARIANTS.items():
        base = dict(models[v["of"]])
        base.update({k: val for k, val in v.items() if k != "of"})
        models[name] = base
    for name, entry in models.items():
        entry.setdefault("single_device", None)
        entry.setdefault("distributed", None)
        aliases = [name[len("Meta-"):]] if name.startswith("Meta-Llama-3") else []
        entry["aliases"] = aliases
    order = ["family", "hf_name", "aliases", "component", "model_kwargs", "lora_attn_modules",
             "apply_lora_to_mlp", "checkpointer", "checkpoint_files", "model_type",
             "tokenizer", "tokenizer_path", "tokenizer_files", "size", "params_b",
             "min_gpu_memory_gib", "activation_checkpointing", "single_device",
             "distributed"]
    out = {n: {k: models[n][k] for k in order if k in models[n]}
           for n in sorted(models, key=lambda n: (models[n]["family"], n))}
    head = (
        "# planc's built-in model catalog, DERIVED from torchtune "
        f"{version} by scripts/derive_models.py\n"
        "# (do not edit: run `python scripts/derive_models.py`; tests/test_catalog.py checks\n"
        "# that this file equals what the script derives from the installed torchtune).\n"
        "# Source: torchtune/_recipe_registry.py (the recipes and configs `tune ls` lists)\n"
        "# and each LoRA config's YAML, copied verbatim under compiler/data/torchtune/.\n"
        "# A project's `[tool.planc] models` file uses the same schema; its entries win.\n")
    body = yaml.dump({"torchtune_version": version, "models": out}, Dumper=_NoAliases,
                     sort_keys=False, width=4096, default_flow_style=None)
    return head + body, copies


def write(check: bool = False) -> list[str]:
    """Write (or with ``check`` compare) the derived files; returns the paths that differ."""
    text, copies = derive()
    want = {"models.yaml": text, **copies}
    stale: list[str] = []
    have_configs = {str(p.relative_to(DATA)) for p in (DATA / CONFIG_DIR).rglob("*.yaml")}
    for rel in sorted(have_configs - set(want)):
        stale.append(rel)
        if not check:
            (DATA / rel).unlink()
    for rel, body in want.items():
        path = DATA / rel
        if not path.exists() or path.read_text("utf-8") != body:
            stale.append(rel)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(body, "utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--check", action="store_true", help="compare, do not write")
    args = ap.parse_args(argv)
    stale = write(check=args.check)
    for rel in stale:
        print(f"{'stale' if args.check else 'wrote'}: compiler/data/{rel}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
