"""The model registry: model name → the torchtune pieces a LoRA fine-tune config needs.

The built-in catalog ``compiler/data/models.yaml`` is DERIVED from the pinned torchtune
(0.6.1) by ``scripts/derive_models.py``: every model torchtune ships LoRA recipe configs for
(Llama 2/3/3.1/3.2/3.3, Code Llama 2, Mistral, Gemma, Gemma 2, Qwen 2, Qwen 2.5, Phi-3,
Phi-4), with its single-device and distributed recipe and config; the configs themselves are
data under ``compiler/data/torchtune/`` (read by :func:`base_config`, never by importing
torchtune). ``tests/test_catalog.py`` checks both against the installed torchtune.

Names: a model is found by its name (``Qwen2.5-1.5B-Instruct``), its HuggingFace name
(``Qwen/Qwen2.5-1.5B-Instruct``), an alias the catalog states (``Llama-3.1-8B-Instruct`` for
torchtune's ``Meta-Llama-3.1-8B-Instruct``), or any of those in another letter case;
:meth:`Registry.suggest` gives the "did you mean" for an unknown one.

A project adds or overrides entries with ``[tool.planc] models = "models.yaml"`` (same
schema; project entries win). Entries may describe a tiny custom model for CPU tests::

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

Bad entries become diagnostics located in the YAML file (never exceptions).
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .diagnostics import Diagnostic, Severity
from .document import compose_yaml, node_position

SizeClass = Literal["tiny", "1B", "3B", "7B", "8B", "70B"]


class RecipeRef(BaseModel):
    """A torchtune recipe and the shipped config it runs with (``tune ls`` pairs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    recipe: str
    config: str


class ModelEntry(BaseModel):
    """One registry entry (see the module docstring for an example)."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    family: str = ""
    hf_name: str | None = None
    aliases: list[str] = Field(default_factory=list)
    component: str
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    lora_attn_modules: list[str] = Field(default_factory=lambda: ["q_proj", "v_proj",
                                                                  "output_proj"])
    apply_lora_to_mlp: bool = True
    checkpointer: str = "torchtune.training.FullModelHFCheckpointer"
    checkpoint_files: list[str] | dict[str, str]
    model_type: str
    tokenizer: str = "torchtune.models.llama3.llama3_tokenizer"
    tokenizer_path: str | None = "original/tokenizer.model"
    tokenizer_files: dict[str, str] = Field(default_factory=dict)
    size: SizeClass
    params_b: float | None = None
    min_gpu_memory_gib: float = 0.0
    activation_checkpointing: bool = False
    device: str = "cuda"
    dtype: str = "bf16"
    optimizer_fused: bool = True
    metric_logger: Literal["WandBLogger", "DiskLogger"] = "WandBLogger"
    loss: str = "torchtune.modules.loss.CEWithChunkedOutputLoss"
    single_device: RecipeRef | None = None
    distributed: RecipeRef | None = None

    def base_ref(self, recipe: str) -> RecipeRef | None:
        """The torchtune recipe config a run with ``recipe`` starts from: the distributed
        one for distributed recipes, else the single-device one (either when only one
        exists); ``None`` for entries without torchtune configs (project models)."""
        first, second = ((self.distributed, self.single_device) if "distributed" in recipe
                         else (self.single_device, self.distributed))
        return first or second


@dataclass
class Registry:
    """Model name → :class:`ModelEntry`; ``sources`` says where each entry came from."""

    models: dict[str, ModelEntry] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    _index: dict[str, str] | None = field(default=None, repr=False)

    def _names(self) -> dict[str, str]:
        """Every accepted spelling (lower-cased) → the entry's key. Keys win over aliases and
        HuggingFace names, so a project entry named like a builtin alias is the one found."""
        if self._index is None:
            idx: dict[str, str] = {}
            for key, e in self.models.items():
                for spelling in (*e.aliases, *([e.hf_name] if e.hf_name else [])):
                    idx.setdefault(spelling.lower(), key)
                    idx.setdefault(spelling.rsplit("/", 1)[-1].lower(), key)
            for key in self.models:
                idx[key.lower()] = key
            self._index = idx
        return self._index

    def resolve(self, name: str) -> str | None:
        """The entry key for ``name`` (``org/name``, ``name``, an alias, any case), or None."""
        if name in self.models:
            return name
        idx = self._names()
        low = name.lower()
        return idx.get(low) or idx.get(low.rsplit("/", 1)[-1])

    def get(self, name: str) -> ModelEntry | None:
        key = self.resolve(name)
        return self.models[key] if key is not None else None

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """The closest catalog names to an unknown ``name`` ("did you mean")."""
        low = name.lower().rsplit("/", 1)[-1]
        keys = {k.lower(): k for k in self.models}
        keys.update({a.lower(): a for e in self.models.values() for a in e.aliases})
        hits = difflib.get_close_matches(low, list(keys), n=n, cutoff=0.5)
        return [keys[h] for h in hits]


def parse_registry(text: str, path: str) -> tuple[dict[str, ModelEntry], list[Diagnostic]]:
    """Parse a registry YAML text (``models: {name: entry}``).

    Returns the valid entries and a diagnostic (code ``MR001`` "model-registry") for every
    bad one, at its YAML position.
    """
    diags: list[Diagnostic] = []

    def bad(loc: tuple[Any, ...], msg: str) -> None:
        line0, col0, _ = node_position(node, loc)
        diags.append(Diagnostic(path, line0 + 1, col0 + 1, "MR001", Severity.ERROR, msg,
                                "model-registry"))

    try:
        node, data = compose_yaml(text)
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + 1) if mark else 1
        return {}, [Diagnostic(path, line, 1, "MR001", Severity.ERROR,
                               f"invalid YAML: {exc}", "model-registry")]
    if data is None:
        return {}, []
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != "torchtune_version"}
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        node = node
        return {}, [Diagnostic(path, 1, 1, "MR001", Severity.ERROR,
                               "a model registry is a mapping 'models: {<name>: {...}}'",
                               "model-registry")]
    out: dict[str, ModelEntry] = {}
    for name, raw in data["models"].items():
        if not isinstance(raw, dict):
            bad(("models", name), f"model {name!r}: expected a mapping of fields")
            continue
        try:
            entry = ModelEntry.model_validate({**raw, "name": str(name)})
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = ("models", name, *err["loc"])
                dotted = ".".join(str(s) for s in err["loc"])
                bad(loc, f"model {name!r}: {dotted}: {err['msg']}")
            continue
        out[str(name)] = entry
    return out, diags


def builtin_text() -> str:
    """The text of the shipped ``compiler/data/models.yaml``."""
    return (resources.files("compiler") / "data" / "models.yaml").read_text("utf-8")


@functools.lru_cache(maxsize=1)
def _builtin() -> tuple[dict[str, ModelEntry], list[Diagnostic]]:
    # the catalog is constant data: parse it once per process (lint reads it per plan)
    return parse_registry(builtin_text(), "compiler/data/models.yaml")


@functools.lru_cache(maxsize=64)
def base_config(config: str) -> dict[str, Any]:
    """torchtune's shipped config ``config`` (``llama3_2/1B_lora_single_device``) as data:
    the verbatim copy under ``compiler/data/torchtune/`` (what ``tune cp`` writes). Callers
    must not mutate the mapping (it is cached)."""
    text = (resources.files("compiler") / "data" / "torchtune" / f"{config}.yaml"
            ).read_text("utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader


def load_registry(settings: Any = None) -> tuple[Registry, list[Diagnostic]]:
    """Built-in entries, then the project's ``[tool.planc] models`` file (its entries win).

    A missing project file is a diagnostic (``MR001``) at line 1 of that path.
    """
    reg = Registry()
    builtin, bdiags = _builtin()
    diags = list(bdiags)
    for n, e in builtin.items():
        reg.models[n] = e
        reg.sources[n] = "builtin"
    models_file = getattr(settings, "models", None) if settings is not None else None
    if models_file:
        root = Path(getattr(settings, "root", Path.cwd()))
        path = Path(models_file)
        path = path if path.is_absolute() else root / path
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            diags.append(Diagnostic(str(models_file), 1, 1, "MR001", Severity.ERROR,
                                    f"cannot read the project model registry: {exc.strerror}",
                                    "model-registry"))
            return reg, diags
        project, pdiags = parse_registry(text, str(models_file))
        diags.extend(pdiags)
        for n, e in project.items():
            reg.models[n] = e
            reg.sources[n] = str(models_file)
    return reg, diags


def size_class(name: str, registry: Registry | None = None) -> str:
    """The size class (``tiny``/``1B``/``3B``/``7B``/``8B``/``70B``) of a model, from the
    registry or, for unknown names, from a ``<N>B`` in the name (default ``1B``)."""
    if registry is not None and (e := registry.get(name)) is not None:
        return e.size
    import re

    m = re.search(r"(\d+(?:\.\d+)?)B", name)
    if not m:
        return "1B"
    b = float(m.group(1))
    if b < 2:
        return "1B"
    if b < 5:
        return "3B"
    if b < 7.5:
        return "7B"
    if b < 30:
        return "8B"
    return "70B"
