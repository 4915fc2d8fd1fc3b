"""Run-group rules (RG…): the shipped example through the real CLI, the registry's metadata,
the arithmetic evaluator, option handling, seed tables, and the cost of the rule set."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.config import Settings
from compiler.document import load
from compiler.lint import lint_document
from compiler.rules import RULES
from compiler.rules.base import Context
from compiler.rules.rungroup import RULES as RG_RULES
from compiler.rules.rungroup.rg005_run_names import expected_name
from compiler.rules.rungroup.rg007_recipe import expected
from compiler.rules.rungroup.rg010_packed_batch_size import max_packed_batch
from compiler.rules.rungroup.rg015_arithmetic import evaluate, iter_statements
from compiler.rules.status import RULES as RS_RULES

from .conftest import FIXTURES, ROOT, run_planc

EXAMPLE_DIR = "plans/cap_8L_llama32_lora_comparison"
EXAMPLE = ROOT / EXAMPLE_DIR / "runs_plan.md"


def test_shipped_example_lints_clean_through_cli() -> None:
    proc = run_planc("lint", "--no-cache", "--format", "json", EXAMPLE_DIR)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # only the info saying which built-in cluster profile the plan compiles for
    assert [(d["code"], d["severity"]) for d in json.loads(proc.stdout)] == [("EX013", "info")]


def test_shipped_example_text_output_has_no_diagnostics() -> None:
    proc = run_planc("lint", "--no-cache", EXAMPLE_DIR)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = re.findall(r":\d+:\d+: ([A-Z]{2}\d{3}) \[(\w+)\]", proc.stdout)
    assert found == [("EX013", "info")], proc.stdout


def test_shipped_example_has_no_front_matter_and_is_a_run_group() -> None:
    doc = load(EXAMPLE)
    assert doc.front_matter is None
    assert doc.kind == "run-group" and doc.kind_source == "structure"


def test_registry_metadata() -> None:
    codes = [r.CODE for r in RG_RULES] + [r.CODE for r in RS_RULES]
    assert len(codes) == len(set(codes))
    assert [c for c in codes if c.startswith("RG")] == [f"RG{n:03d}" for n in range(1, 19)]
    assert [c for c in codes if c.startswith("RS")] == [f"RS{n:03d}" for n in range(1, 11)]
    for rule in (*RG_RULES, *RS_RULES):
        assert rule in RULES
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.NAME), rule.NAME
        assert rule.SEVERITY in ("error", "warning", "info")
        assert rule.KINDS == (("run-group",) if rule.CODE.startswith("RG") else ("status",))
        assert isinstance(rule.OPTIONS, dict)
        doc = rule.__doc__ or ""
        assert "Failing::" in doc and "Passing::" in doc, rule.CODE
        assert doc.strip().splitlines()[0].strip(), rule.CODE


def test_every_rule_has_a_bad_fixture() -> None:
    names = [p.name for p in (FIXTURES / "rungroup" / "bad").iterdir()]
    names += [p.name for p in (FIXTURES / "status" / "bad").iterdir()]
    for rule in (*RG_RULES, *RS_RULES):
        assert any(n.startswith(rule.CODE.lower()) for n in names), rule.CODE


# -- arithmetic ------------------------------------------------------------------------
def test_evaluate_examples() -> None:
    assert evaluate("8,000/16") == 500
    assert evaluate(" 2 runs × 2 epochs × 2.4 GiB ") == 2 * 2 * 2.4
    assert evaluate("(9.6 + 24.4 + 0.2) × 0.15") == (9.6 + 24.4 + 0.2) * 0.15
    assert evaluate("~10 MB per evaluation × 11 evals") == 110
    assert evaluate("1 run × 1 task × 1 eval + 1 run × 2 tasks × 1 eval") == 3
    assert evaluate("batch_size") is None
    assert evaluate("45") is None
    assert evaluate("2-3x faster") is None
    assert evaluate("4 / 0") is None


@given(st.integers(1, 10**6), st.integers(1, 100), st.integers(1, 1000))
def test_evaluate_products(a: int, b: int, c: int) -> None:
    assert evaluate(f"{a:,} runs × {b} epochs × {c} GiB") == a * b * c
    assert evaluate(f"{a:,} ÷ {b}") == a / b


def test_iter_statements_positions() -> None:
    text = "- Steps per epoch: 8,000/16 = 400 steps; 2 × 3 = 6"
    out = list(iter_statements(text))
    assert [(left, computed, stated) for _off, left, computed, stated in out] == [
        ("8,000/16", 500, "400"), ("2 × 3", 6, "6")]
    assert text[out[0][0]:].startswith("400")


# -- seed tables -----------------------------------------------------------------------
def test_recipe_table_formats_8() -> None:
    assert expected(1, False) == {"lora_finetune_single_device"}
    assert expected(1, True) == {"lora_finetune_single_device_val"}
    assert expected(4, False) == {"lora_finetune_distributed_v1", "lora_finetune_distributed"}
    assert expected(4, True) == set()


def test_packed_batch_defaults_seed_004() -> None:
    assert [max_packed_batch(s, 80) for s in (1, 3, 8)] == [8, 4, 2]
    assert [max_packed_batch(s, 40) for s in (1, 3, 8)] == [4, 2, 1]
    assert [max_packed_batch(s, 32) for s in (1, 3, 8)] == [1, 1, 1]


def test_expected_name() -> None:
    assert expected_name("Llama-3.2-1B-Instruct", ["5L"], 4) == "Llama-3.2-1B-Instruct_5L_rank4"
    assert expected_name("Llama-3.2-1B-Instruct", [], 64) == "Llama-3.2-1B-Instruct_rank64"
    assert expected_name("Llama-3.2-1B-Instruct", [], None) == "Llama-3.2-1B-Instruct_base"


# -- options ---------------------------------------------------------------------------
def _codes(path, **rules) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    settings = Settings(root=FIXTURES, rules=rules)
    return [(d.line, d.code) for d in lint_document(load(path), settings)
            if d.code.startswith("RG")]


def test_tolerance_option_changes_rg016() -> None:
    bad = FIXTURES / "rungroup" / "bad" / "rg016_estimates.md"
    assert (115, "RG016") in _codes(bad)
    assert (115, "RG016") not in _codes(bad, RG016={"tolerance": 3.0})


def test_gpu_memory_option_changes_rg010() -> None:
    bad = FIXTURES / "rungroup" / "bad" / "rg010_packing.md"
    assert sum(c == "RG010" for _l, c in _codes(bad)) == 4
    # on 32 GB GPUs even the 3-factor fixture's packed batch sizes (4 and 2) are too large
    three = FIXTURES / "rungroup" / "good" / "three_factor.md"
    assert sum(c == "RG010" for _l, c in _codes(three, RG010={"gpu_memory_gb": 32})) == 8


def test_backed_estimates_may_cite_actual_logs() -> None:
    three = FIXTURES / "rungroup" / "good" / "three_factor.md"
    text = three.read_text("utf-8")
    assert "based on actual SLURM logs" in text
    unbacked = text.replace("Based on actual prior runs from `/scratch/gpfs/lab/experiments/"
                            "cap_5L_llama32_2025-09-30`:", "Timing from memory:")
    unbacked = unbacked.replace("from prior runs", "remembered")
    doc = load("x.md", text=unbacked)
    found = [d for d in lint_document(doc, Settings(root=FIXTURES)) if d.code == "RG017"]
    # still hedged ("Estimated: ~10 MB per evaluation"), but the Note's claim is unbacked
    assert [(doc.line_text(d.line)[:30], d.column) for d in found] == [
        ("**Note**: Estimates based on a", 1)]
    clean = [d.code for d in lint_document(load(three), Settings(root=FIXTURES))
             if d.code != "EX013"]
    assert clean == []


# -- cost ------------------------------------------------------------------------------
def test_rule_set_is_cheap_compared_with_parsing() -> None:
    """All RG rules together (model parse included) cost well under markdown-it parsing.

    The target is < 30% (PREAMBLE); the assertion leaves headroom for a noisy machine."""
    text = EXAMPLE.read_text("utf-8")

    def best(fn, n: int = 15) -> float:  # type: ignore[no-untyped-def]
        times = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    parse = best(lambda: load("x.md", text=text))

    def rules() -> None:
        doc = load("x.md", text=text)
        t = time.perf_counter()
        for rule in RG_RULES:
            list(rule.check(Context(doc=doc, options=dict(rule.OPTIONS))))
        rules.elapsed = time.perf_counter() - t  # type: ignore[attr-defined]

    samples = []
    for _ in range(15):
        rules()
        samples.append(rules.elapsed)  # type: ignore[attr-defined]
    ratio = min(samples) / parse
    assert ratio < 0.6, f"rules cost {ratio:.0%} of parse time"


def test_front_matter_form_is_not_held_to_the_seed_template() -> None:
    text = "---\nkind: run-group\n---\n\nA run group described in front-matter.\n"
    doc = load("x.md", text=text)
    assert doc.kind == "run-group"
    # not held to the seed's sections (RG001-RG017); the compile check says what is missing
    assert [d.code for d in lint_document(doc, Settings(root=FIXTURES))
            if d.code.startswith("RG") and d.code != "RG900"] == []
    bare = load("y.md", text="# Run Plan: g\n", kind="run-group")
    assert "RG002" in [d.code for d in lint_document(bare, Settings(root=FIXTURES))]


_FRAGMENTS = st.lists(st.sampled_from([
    "# Run Plan: x", "# Run Plan:", "## Overview", "## Variables", "## All Runs", "## Resources",
    "## Evaluations", "### Evaluation Matrix", "## Configuration", "## Compute Estimates",
    "### Training Time Estimates", "### Disk Space Estimates", "### Summary",
    "- **Total Runs**: 3 (2 fine-tuned + 1 controls)", "- **Total Runs**: many",
    "| Factor | Levels |", "|---|---|", "| Model | a, b |", "| LoRA Rank | 4 |",
    "| Run Name | Model | LoRA Rank | Batch Size | Type | Est. Time |",
    "| a_rank4 | a | 4 | 16 | Fine-tuned | 1 min |", "| a_base | a | - | - | Control | - |",
    "| Run Name | t | Notes |", "| a_rank4 | ✓ | x |", "| Task Name | Script | Dataset |",
    "| t | `s.py` | d |", "- **Recipe**: `lora_finetune_distributed_val`", "- **GPUs per job**: 0",
    "- **Epochs**: 0", "- **Dataset packing**: True", "- **LoRA alpha**: 8 (rank 0)",
    "- **Validation during training**: yes", "- **System prompt**: \"a\"",
    "- **Total: 0 evaluations**", "  - Fine-tuned models: epoch_99", "**a models:**",
    "- Prior run data: 0 samples, batch_size=0, speed=0 it/s", "- Steps per epoch: 1/0 = 0",
    "- Time per epoch: ~0 minutes", "- **0 epochs × 0 runs**: ~0 minutes", "- **GPU hours**: 0",
    "- a: 0 runs × 0 epochs × 0 GiB = 0 GiB", "**Total disk space needed**: ~0 GiB",
    "| Resource | Training | Evaluations | Total |", "| **Disk Space** | 0 GiB | 0 GiB | 1 GiB |",
    "- Training: 1 minutes", "- Evaluations: 1 minutes", "- **Total**: ~9 hours", "", "text",
]), max_size=40).map("\n".join)


@settings(max_examples=200, deadline=None)
@given(_FRAGMENTS)
def test_rules_never_crash_on_fragments(text: str) -> None:
    doc = load("x.md", text=text, kind="run-group")
    codes = [d.code for d in lint_document(doc, Settings(root=FIXTURES))]
    assert "PC999" not in codes


def test_run_names_may_label_factor_levels(tmp_path: Path) -> None:
    """Issue 10 (7): seed 004 names write factors as labels (``lr1e-4``, ``wl5L``)."""
    from compiler.rules.rungroup.rg005_run_names import level_in_part

    assert level_in_part("lr1e-4", "1e-4") and level_in_part("bs16", "16")
    assert level_in_part("5L", "5L") and level_in_part("5L", "5")
    assert not level_in_part("lr3e-4", "1e-4") and not level_in_part("16x", "6")
    three = FIXTURES / "rungroup" / "good" / "three_factor.md"
    text = three.read_text("utf-8").replace("_5L_", "_wl5L_").replace("_9L_", "_wl9L_")
    labelled = tmp_path / "runs_plan.md"
    labelled.write_text(text, "utf-8")
    found = [d for d in lint_document(load(labelled), Settings(root=FIXTURES))
             if d.code == "RG005"]
    assert found == []
    wrong = tmp_path / "wrong" / "runs_plan.md"
    wrong.parent.mkdir()
    wrong.write_text(text.replace("Llama-3.2-1B-Instruct_wl5L_rank4 |",
                                  "Llama-3.2-1B-Instruct_wl9L_rank4 |", 1), "utf-8")
    messages = [d.message for d in lint_document(load(wrong), Settings(root=FIXTURES))
                if d.code == "RG005"]
    assert any("should be named 'Llama-3.2-1B-Instruct_5L_rank4'" in m for m in messages)


def test_negative_levels_keep_names_apart() -> None:
    """Issue 10 (7): seeds 1 and -1 must not both become ``…_seed1``."""
    from compiler.expand import sweep_run_name

    assert sweep_run_name({"seed": 1}) != sweep_run_name({"seed": -1})
    assert sweep_run_name({"seed": -1}) == "seed-1"
