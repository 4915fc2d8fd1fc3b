"""The seed 004 run-plan parser: exact values from the shipped example and the 3-factor
fixture, memoisation, and hypothesis for the tolerant value parsers (round trips, never
raising on arbitrary text)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.document import load
from compiler.models.rungroup_doc import (
    build_run_plan,
    eval_epochs,
    parse_batch_sizes,
    parse_bool,
    parse_int,
    parse_levels,
    parse_number,
    parse_recipe,
    parse_run_plan,
)

from .conftest import FIXTURES, ROOT

EXAMPLE = ROOT / "plans" / "cap_8L_llama32_lora_comparison" / "runs_plan.md"
THREE = FIXTURES / "rungroup" / "good" / "three_factor.md"


def _plan(path: Path):  # type: ignore[no-untyped-def]
    return parse_run_plan(load(path))


def test_example_overview_and_variables() -> None:
    p = _plan(EXAMPLE)
    assert p.name is not None and p.name.value == "cap_8L_llama32_lora_comparison"
    assert (p.name.line, p.name.column) == (1, 13)
    assert p.total_runs is not None and p.total_runs.value == 6
    assert (p.finetune_count, p.control_count) == (4, 2)
    assert p.overview["created"].value == "2025-10-18 14:03:22"
    assert [(f.name, f.levels) for f in p.variables] == [
        ("Model", ["Llama-3.2-1B-Instruct", "Llama-3.2-3B-Instruct"]),
        ("LoRA Rank", ["4", "64"]),
    ]
    assert [s.title for s in p.sections] == [
        "Overview", "Variables", "All Runs", "Resources", "Evaluations", "Configuration",
        "Directory Structure", "Compute Estimates", "Quick Reference", "Notes"]


def test_example_runs() -> None:
    p = _plan(EXAMPLE)
    assert [(r.name, r.model, r.lora_rank, r.batch_size, r.type) for r in p.runs] == [
        ("Llama-3.2-1B-Instruct_rank4", "Llama-3.2-1B-Instruct", 4, 16, "fine-tuned"),
        ("Llama-3.2-1B-Instruct_rank64", "Llama-3.2-1B-Instruct", 64, 16, "fine-tuned"),
        ("Llama-3.2-3B-Instruct_rank4", "Llama-3.2-3B-Instruct", 4, 8, "fine-tuned"),
        ("Llama-3.2-3B-Instruct_rank64", "Llama-3.2-3B-Instruct", 64, 8, "fine-tuned"),
        ("Llama-3.2-1B-Instruct_base", "Llama-3.2-1B-Instruct", None, None, "control"),
        ("Llama-3.2-3B-Instruct_base", "Llama-3.2-3B-Instruct", None, None, "control"),
    ]
    assert [r.line for r in p.runs] == [18, 19, 20, 21, 22, 23]
    assert p.runs[0].est_time == "~22 min (estimated)"


def test_example_resources_and_evaluations() -> None:
    p = _plan(EXAMPLE)
    assert p.models_location is not None and p.models_location.value == "/scratch/gpfs/lab/models"
    assert {k: v.value for k, v in p.models_used.items()} == {
        "Llama-3.2-1B-Instruct": "/scratch/gpfs/lab/models/Llama-3.2-1B-Instruct",
        "Llama-3.2-3B-Instruct": "/scratch/gpfs/lab/models/Llama-3.2-3B-Instruct",
    }
    assert p.dataset_path is not None and p.dataset_path.value.endswith("words_8L_80P_10000.json")
    assert p.dataset_splits == {"train": 8000, "validation": 1000, "test": 1000}
    assert p.finetuned_epochs is not None
    assert p.finetuned_epochs.value == "last epoch only (epoch_1)"
    assert p.eval_epoch_list == [1]
    assert p.stated_eval_jobs is not None and p.stated_eval_jobs.value == 11
    assert [t.name for t in p.eval_tasks] == ["capitalization_8L", "reasoning"]
    assert p.eval_tasks[1].dataset == "/scratch/gpfs/lab/cruijff_kit/tasks/reasoning/test.json"
    assert p.matrix_tasks == ["capitalization_8L", "reasoning"]
    base_1b = p.matrix_for("Llama-3.2-1B-Instruct_base")
    assert base_1b is not None and base_1b.tasks == {"capitalization_8L": True, "reasoning": False}
    assert all(all(r.tasks.values()) for r in p.matrix if r.run != "Llama-3.2-1B-Instruct_base")


def test_example_configuration() -> None:
    p = _plan(EXAMPLE)
    assert p.config["recipe"].value == "lora_finetune_single_device"
    assert (p.gpus, p.epochs) == (1, 2)
    assert parse_bool(p.config["dataset packing"].value) is False
    assert parse_bool(p.config["validation during training"].value) is False
    assert parse_batch_sizes(p.config["batch sizes"].value) == {"1B": 16, "3B": 8}
    assert [s.value for s in p.system_prompts] == [
        "You are an expert at capitalizing words correctly."]


def test_example_estimates() -> None:
    est = _plan(EXAMPLE).estimates
    assert not est.backed and est.hedged and est.claims == []
    m1, m3 = est.models
    assert (m1.model, m1.samples, m1.batch_size, m1.its) == ("Llama-3.2-1B-Instruct", 8000, 16, 0.8)
    assert m1.steps is not None and m1.steps.value == 500
    assert m1.epoch_minutes is not None and m1.epoch_minutes.value == 11
    assert m1.run_minutes is not None and m1.run_minutes.value == 22
    assert (m1.run_epochs, m1.run_count) == (2, 2)
    assert m3.gpu_hours is not None and m3.gpu_hours.value == 1.53
    assert est.total_gpu_hours is not None and est.total_gpu_hours.value == 2.3
    assert [(c.model, c.runs, c.epochs, c.size_gib, c.total_gib) for c in est.ckpt_lines] == [
        ("Llama-3.2-1B-Instruct", 2, 2, 2.4, 9.6), ("Llama-3.2-3B-Instruct", 2, 2, 6.1, 24.4)]
    assert est.ckpt_total is not None and est.ckpt_total.value == 34.0
    assert est.margin_gib == 5.1
    assert est.disk_total is not None and est.disk_total.value == 39.2
    assert abs((est.eval_logs_gib or 0) - 110 / 1024) < 1e-9
    assert set(est.summary) == {"gpu hours", "wall-clock (sequential)",
                                "wall-clock (parallel, 4 gpus)", "disk space"}


def test_three_factor_fixture() -> None:
    p = _plan(THREE)
    assert [f.name for f in p.variables] == ["Model", "Word Length", "LoRA Rank"]
    assert len(p.finetuned) == 8 and len(p.controls) == 2
    assert p.runs[0].cells["word length"] == "5L"
    assert p.gpus == 2 and p.epochs == 1 and p.eval_epoch_list == [0]
    assert p.estimates.backed
    assert [s.value for s in p.system_prompts] == [""]


def test_parse_is_memoised() -> None:
    doc = load(EXAMPLE)
    assert parse_run_plan(doc) is parse_run_plan(doc)


def test_missing_sections_give_empty_model() -> None:
    doc = load("x.md", text="# Run Plan: empty\n\nNothing here.\n")
    p = parse_run_plan(doc)
    assert p.name is not None and p.name.value == "empty"
    assert p.runs == [] and p.variables == [] and p.total_runs is None and p.config == {}


# -- value parsers ---------------------------------------------------------------------
@given(st.integers(min_value=0, max_value=10**9))
def test_parse_number_thousands(n: int) -> None:
    assert parse_number(f"~{n:,} samples") == n
    assert parse_int(f"{n:,}") == n


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False).map(lambda x: round(x, 3)))
def test_parse_number_decimals(x: float) -> None:
    assert parse_number(f"{x} GiB") == float(f"{x}")


def test_parse_int_rejects_fractions() -> None:
    assert parse_int("2.5") is None
    assert parse_int("-") is None
    assert parse_int("16 (1B)") == 16


_LEVEL = st.text(alphabet=st.sampled_from("abcXYZ0123456789-._"), min_size=1, max_size=12)


@given(st.lists(_LEVEL, min_size=1, max_size=6))
def test_parse_levels_round_trip(levels: list[str]) -> None:
    assert parse_levels(", ".join(levels)) == levels
    assert parse_levels(", ".join(f"`{lv}`" for lv in levels)) == levels


def test_parse_levels_keeps_thousands() -> None:
    assert parse_levels("1,000, 2,000") == ["1,000", "2,000"]


@given(st.dictionaries(st.sampled_from(["1B", "3B", "7B", "8B", "70B"]),
                       st.integers(min_value=1, max_value=512), min_size=1))
def test_parse_batch_sizes_round_trip(sizes: dict[str, int]) -> None:
    text = ", ".join(f"{v} ({k})" for k, v in sizes.items()) + " (adjusted for packing)"
    assert parse_batch_sizes(text) == sizes


def test_parse_batch_sizes_single() -> None:
    assert parse_batch_sizes("16") == {"": 16}
    assert parse_batch_sizes("8 (unpacked, 80 GB GPU defaults)") == {"": 8}


@given(st.sampled_from(["lora_finetune_single_device", "lora_finetune_distributed_v1",
                        "my.module"]),
       st.booleans(), st.booleans(), st.sampled_from(["", " (1 GPU)", ", with validation"]))
def test_parse_recipe(name: str, py: bool, ticks: bool, note: str) -> None:
    text = name + (".py" if py else "")
    text = f"`{text}`" if ticks else text
    assert parse_recipe(text + note) == name


@given(st.sampled_from([("True", True), ("yes", True), ("Yes", True), ("False", False),
                        ("no", False), ("No", False), ("off", False)]),
       st.sampled_from(["", " - explanation", " (simpler, faster)", "**"]))
def test_parse_bool(word: tuple[str, bool], tail: str) -> None:
    assert parse_bool(word[0] + tail) is word[1]


def test_parse_bool_unknown() -> None:
    assert parse_bool("maybe") is None
    assert parse_bool("") is None


@given(st.integers(min_value=1, max_value=20))
def test_eval_epochs_words(epochs: int) -> None:
    assert list(eval_epochs("all epochs", epochs) or []) == list(range(epochs))
    assert eval_epochs("last epoch only", epochs) == [epochs - 1]
    assert eval_epochs("first epoch only", epochs) == [0]
    assert eval_epochs("best epoch by validation loss", epochs) is None


@given(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=5))
def test_eval_epochs_explicit(ns: list[int]) -> None:
    text = ", ".join(f"epoch_{n}" for n in ns)
    assert eval_epochs(text, None) == sorted(set(ns))


@given(st.text(max_size=80))
def test_value_parsers_never_raise(text: str) -> None:
    parse_number(text)
    parse_int(text)
    parse_levels(text)
    parse_batch_sizes(text)
    parse_recipe(text)
    parse_bool(text)
    eval_epochs(text, 3)


_MD = st.lists(st.sampled_from([
    "# Run Plan: x", "## Overview", "## All Runs", "## Compute Estimates",
    "### Training Time Estimates",
    "### Disk Space Estimates", "## Evaluations", "## Configuration", "## Resources",
    "- **Total Runs**: 3 (2 fine-tuned + 1 controls)", "- **Epochs**: two", "| Run Name | Model |",
    "|---|---|", "| a | b |", "| Run Name | t1 | Notes |", "| Factor | Levels |", "| x | ✓ | n |",
    "**M models:**", "- Steps per epoch: 8,000/0 = 5 steps", "- Time per epoch: ~x minutes",
    "- **2 epochs × 2 runs**: ~", "- **Models Used**:", "  - m: `/p`", "- **Splits**: train ()",
    "- a: 2 runs × 2 epochs × 2.4 GiB = 9.6 GiB", "- **System prompt**: \"", "", "```", "text",
]), max_size=30).map("\n".join)


@settings(max_examples=150, deadline=None)
@given(_MD)
def test_build_never_raises_on_fragments(text: str) -> None:
    build_run_plan(load("x.md", text=text, kind="run-group"))


def test_seed004_template_lines_are_read_with_their_wording() -> None:
    """The template's "~{total_min} minutes total", "**Sequential**", per-GPU batch breakdown
    and "Total training compute" lines (issue 10, item 6)."""
    from compiler.models.rungroup_doc import parse_run_plan

    plan = parse_run_plan(load(FIXTURES / "rungroup" / "good" / "seed004_template_total.md"))
    est = plan.estimates
    one, three = est.models
    assert (one.model, one.batch_size, one.batch_per_gpu, one.batch_gpus) == (
        "Llama-3.2-1B-Instruct", 8.0, 4.0, 2)
    assert (one.run_epochs, one.run_count, one.run_basis) == (2, 2, "total")
    assert one.run_minutes is not None and one.run_minutes.value == 40
    assert one.seq_runs == 2 and one.seq_per_run is not None and one.seq_per_run.value == 20
    assert one.seq_minutes is not None and one.seq_minutes.value == 40
    assert (three.run_basis, three.seq_runs, three.batch_per_gpu) == ("total", None, 2.0)
    assert est.parallel_minutes is not None and est.parallel_minutes.value == 50
    assert est.sequential_minutes is not None and est.sequential_minutes.value == 140
    assert est.total_gpu_hours is not None and est.total_gpu_hours.value == 4.67
    assert est.backed


def test_shipped_example_reads_per_run() -> None:
    from compiler.models.rungroup_doc import parse_run_plan

    plan = parse_run_plan(load(ROOT / "plans/cap_8L_llama32_lora_comparison/runs_plan.md"))
    assert [m.run_basis for m in plan.estimates.models] == ["per run", "per run"]
