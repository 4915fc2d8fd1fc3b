"""The model registry: shipped entries, project entries that win, bad entries located."""

from __future__ import annotations

from pathlib import Path

from compiler.config import Settings
from compiler.registry import load_registry, parse_registry, size_class


def test_builtin_models_have_the_torchtune_061_pieces() -> None:
    reg, diags = load_registry()
    assert diags == []
    one, three, eight = (reg.get(n) for n in ("Llama-3.2-1B-Instruct", "Llama-3.2-3B-Instruct",
                                              "Llama-3.1-8B-Instruct"))
    assert one.component == "torchtune.models.llama3_2.lora_llama3_2_1b"
    assert three.component == "torchtune.models.llama3_2.lora_llama3_2_3b"
    assert eight.component == "torchtune.models.llama3_1.lora_llama3_1_8b"
    assert one.checkpoint_files == ["model.safetensors"]
    assert three.checkpoint_files == ["model-00001-of-00002.safetensors",
                                      "model-00002-of-00002.safetensors"]
    assert len(eight.checkpoint_files) == 4
    assert (one.model_type, three.model_type, eight.model_type) == ("LLAMA3_2", "LLAMA3_2",
                                                                    "LLAMA3")
    assert one.tokenizer_path == "original/tokenizer.model"
    assert [m.size for m in (one, three, eight)] == ["1B", "3B", "8B"]
    assert one.min_gpu_memory_gib < three.min_gpu_memory_gib < eight.min_gpu_memory_gib


def test_project_entries_win_and_add(tmp_path: Path) -> None:
    (tmp_path / "models.yaml").write_text(
        "models:\n"
        "  Llama-3.2-1B-Instruct:\n"
        "    component: torchtune.models.llama3_2.lora_llama3_2_1b\n"
        "    checkpoint_files: [consolidated.pth]\n"
        "    checkpointer: torchtune.training.FullModelMetaCheckpointer\n"
        "    model_type: LLAMA3_2\n"
        "    size: 1B\n"
        "  tiny:\n"
        "    component: torchtune.models.llama3_2.lora_llama3_2\n"
        "    model_kwargs: {num_layers: 2}\n"
        "    checkpoint_files: [model.pt]\n"
        "    model_type: LLAMA3_2\n"
        "    size: tiny\n", "utf-8")
    reg, diags = load_registry(Settings(root=tmp_path, models="models.yaml"))
    assert diags == []
    assert reg.get("Llama-3.2-1B-Instruct").checkpoint_files == ["consolidated.pth"]
    assert reg.sources["Llama-3.2-1B-Instruct"] == "models.yaml"
    assert reg.get("tiny").model_kwargs == {"num_layers": 2}
    assert reg.sources["Llama-3.2-3B-Instruct"] == "builtin"


def test_bad_entries_are_diagnostics_with_positions() -> None:
    entries, diags = parse_registry(
        "models:\n"
        "  good:\n"
        "    component: a.b\n"
        "    checkpoint_files: [m.pt]\n"
        "    model_type: LLAMA3_2\n"
        "    size: 1B\n"
        "  bad:\n"
        "    component: a.b\n"
        "    checkpoint_files: [m.pt]\n"
        "    model_type: LLAMA3_2\n"
        "    size: 2B\n"
        "    colour: red\n", "models.yaml")
    assert list(entries) == ["good"]
    assert sorted((d.code, d.line, d.column) for d in diags) == [
        ("MR001", 11, 5), ("MR001", 12, 5)]
    _, diags = parse_registry("models: [1, 2]\n", "m.yaml")
    assert diags[0].line == 1 and "mapping" in diags[0].message
    _, diags = parse_registry("models: {a: [\n", "m.yaml")
    assert diags[0].code == "MR001"


def test_a_missing_project_registry_is_a_diagnostic(tmp_path: Path) -> None:
    reg, diags = load_registry(Settings(root=tmp_path, models="nope.yaml"))
    assert [d.code for d in diags] == ["MR001"] and "nope.yaml" == diags[0].path
    assert reg.get("Llama-3.2-1B-Instruct") is not None


def test_size_class_from_names() -> None:
    assert size_class("Qwen2.5-0.5B") == "1B"
    assert size_class("Llama-3.2-3B-Instruct") == "3B"
    assert size_class("Mistral-7B") == "7B"
    assert size_class("Llama-3.1-8B") == "8B"
    assert size_class("Llama-3.1-70B") == "70B"
