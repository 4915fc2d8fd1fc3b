"""The model registry: model name → the torchtune pieces a LoRA fine-tune config needs.

Built-in entries ship in ``compiler/data/models.yaml`` (Llama-3.2-1B-Instruct,
Llama-3.2-3B-Instruct, Llama-3.1-8B-Instruct; torchtune 0.6.1 component paths, checkpoint
shards and ``model_type`` from ``../shared/reference/formats.md`` §7). A project adds or
overrides entries with ``[tool.planc] models = "models.yaml"`` (same schema; project
entries win). Entries may describe a tiny custom model for CPU tests::

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

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .diagnostics import Diagnostic, Severity
from .document import compose_yaml, node_position

SizeClass = Literal["tiny", "1B", "3B", "7B", "8B", "70B"]


class ModelEntry(BaseModel):
    """One registry entry (see the module docstring for an example)."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    hf_name: str | None = None
    component: str
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    lora_attn_modules: list[str] = Field(default_factory=lambda: ["q_proj", "v_proj",
                                                                  "output_proj"])
    apply_lora_to_mlp: bool = True
    checkpointer: str = "torchtune.training.FullModelHFCheckpointer"
    checkpoint_files: list[str]
    model_type: str
    tokenizer: str = "torchtune.models.llama3.llama3_tokenizer"
    tokenizer_path: str = "original/tokenizer.model"
    size: SizeClass
    min_gpu_memory_gib: float = 0.0
    activation_checkpointing: bool = False
    device: str = "cuda"
    dtype: str = "bf16"
    optimizer_fused: bool = True
    metric_logger: Literal["WandBLogger", "DiskLogger"] = "WandBLogger"
    loss: str = "torchtune.modules.loss.CEWithChunkedOutputLoss"


@dataclass
class Registry:
    """Model name → :class:`ModelEntry`; ``sources`` says where each entry came from."""

    models: dict[str, ModelEntry] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> ModelEntry | None:
        return self.models.get(name)


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


def load_registry(settings: Any = None) -> tuple[Registry, list[Diagnostic]]:
    """Built-in entries, then the project's ``[tool.planc] models`` file (its entries win).

    A missing project file is a diagnostic (``MR001``) at line 1 of that path.
    """
    reg = Registry()
    builtin, diags = parse_registry(builtin_text(), "compiler/data/models.yaml")
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
