"""The plan rules (compiler/rules/plan): registry shape, coverage by fixtures, the shipped
example plan through the real CLI, and behaviour the fixtures do not pin down (options,
mojibake, tracked commands)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compiler.config import Settings
from compiler.document import load
from compiler.lint import lint_document
from compiler.rules import BY_CODE
from compiler.rules.plan import RULES

from .conftest import FIXTURES, ROOT, need_or_skip, run_planc

PLAN_FIXTURES = FIXTURES / "plan"


def _lint(text: str, select: tuple[str, ...] = ("PL",), rules: dict | None = None,
          path: str = "plan.md") -> list[tuple[int, int, str]]:
    settings = Settings(root=Path.cwd(), select=select, rules=rules or {})
    return [(d.line, d.column, d.code) for d in lint_document(load(path, text=text), settings)]


# -- registry -----------------------------------------------------------------------------
def test_codes_are_sequential_unique_and_match_module_names() -> None:
    codes = [r.CODE for r in RULES]
    assert codes == [f"PL{n:03d}" for n in range(1, len(RULES) + 1)]
    for rule in RULES:
        assert rule.__name__.rsplit(".", 1)[-1].startswith(rule.CODE.lower() + "_")
        assert BY_CODE[rule.CODE] is rule


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.CODE)
def test_rule_module_declares_its_contract(rule) -> None:
    assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", rule.NAME)
    assert rule.SEVERITY in ("error", "warning", "info")
    assert rule.KINDS == ("plan",)
    assert isinstance(rule.OPTIONS, dict)
    doc = rule.__doc__ or ""
    assert doc.strip().splitlines()[0].strip(), "first docstring line is the summary"
    assert "Failing::" in doc and "Passing::" in doc
    assert "seed" in doc.lower(), "rules cite the seed (or say why they have none)"


def test_names_are_unique() -> None:
    names = [r.NAME for r in RULES]
    assert len(names) == len(set(names))


def test_every_rule_has_a_bad_fixture() -> None:
    covered: set[str] = set()
    for exp in (PLAN_FIXTURES / "bad").glob("*.expected"):
        for line in exp.read_text("utf-8").splitlines():
            m = re.match(r"^\d+:\d+: (PL\d{3})$", line.strip())
            if m:
                covered.add(m.group(1))
    assert {r.CODE for r in RULES} - covered == set()


# -- the shipped example --------------------------------------------------------------------
def test_shipped_lr_sweep_plan_lints_clean_through_the_cli() -> None:
    proc = run_planc("lint", "plans/lr-sweep/plan.md")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert "1 file(s) checked: 0 error(s), 0 warning(s)" in proc.stderr


def test_shipped_lr_sweep_plan_is_clean_even_with_strict() -> None:
    proc = run_planc("lint", "--strict", "--format", "json", "plans/lr-sweep/plan.md")
    assert proc.returncode == 0 and proc.stdout.strip() == "[]"


# -- behaviour ------------------------------------------------------------------------------
def test_mojibake_plan_is_left_to_cm004() -> None:
    good = (PLAN_FIXTURES / "good" / "seed-style-lora-sweep.md").read_text("utf-8")
    broken = good.encode("utf-8").decode("cp1252", errors="replace")
    codes = {code for _l, _c, code in _lint(broken, select=())}
    assert codes == {"CM004"}


def test_plan_sections_without_front_matter_are_detected_as_plan() -> None:
    doc = load(PLAN_FIXTURES / "good" / "seed-style-lora-sweep.md")
    assert (doc.kind, doc.kind_source) == ("plan", "structure")


_DIRECT = """## 📋 Plan: t

### Approach
1. **Analyse** — `python scripts/analyze_results.py` and `bash setup_env.sh`
"""


def test_direct_execution_allow_scripts_option() -> None:
    assert _lint(_DIRECT, select=("PL015",)) == []
    strict = _lint(_DIRECT, select=("PL015",), rules={"PL015": {"allow_scripts": []}})
    assert strict == [(4, 19, "PL015"), (4, 59, "PL015")]


def test_tracked_runs_body_is_not_direct_execution() -> None:
    text = """## 📋 Plan: t

### Approach
1. **Runs** — create them:
   ```bash
   curl -X POST $SERVER/runs -d '{"command": "source .venv/bin/activate && python train.py"}'
   ```
   ```yaml
   command: python train.py --lr {lr}
   ```
"""
    assert _lint(text, select=("PL015",)) == []


def test_direct_execution_in_a_paragraph_and_an_indented_code_block() -> None:
    text = """## 📋 Plan: t

### Approach
Start with python train.py --lr 1e-4 and wait.

    torchrun --nproc_per_node 8 train.py
"""
    assert _lint(text, select=("PL015",)) == [(4, 12, "PL015"), (6, 5, "PL015")]


def test_objective_sentence_limit_option() -> None:
    text = "## 📋 Plan: t\n\n### Objective\nOne. Two. Three.\n"
    assert _lint(text, select=("PL009",)) == [(4, 1, "PL009")]
    assert _lint(text, select=("PL009",), rules={"PL009": {"max_sentences": 3}}) == []


def test_runs_mismatch_is_quiet_when_the_table_has_ranges() -> None:
    text = """## 📋 Plan: t

### Parameters to Sweep
| Parameter | Values | Rationale |
|---|---|---|
| lr | 1e-5 to 1e-3 | range |

### Estimated Effort
- **Runs**: 5
- **Time**: 1 h
- **Resources**: 1 GPU
"""
    assert _lint(text, select=("PL022",)) == []


def test_sections_accept_emoji_less_workflow_and_colon_titles() -> None:
    text = (PLAN_FIXTURES / "good" / "seed-style-lora-sweep.md").read_text("utf-8")
    text = text.replace("### 💡 Workflow Improvements", "### Workflow Improvements:")
    assert _lint(text) == []


def test_misordered_sections_report_the_fewest_moves() -> None:
    text = (PLAN_FIXTURES / "good" / "cpu-no-sweep.md").read_text("utf-8")
    blocks = text.split("\n### ")
    head, rest = blocks[0], blocks[1:]
    rest = [rest[-1], *rest[:-1]]  # Workflow Improvements moved to the front
    moved = head + "".join("\n### " + b for b in rest)
    diags = _lint(moved, select=("PL005",))
    assert len(diags) == 1 and diags[0][2] == "PL005"
    assert load("x.md", text=moved).lines[diags[0][0] - 1].endswith("Workflow Improvements")


def test_direct_execution_negation_survives_abbreviations_and_preface_is_ignored() -> None:
    text = """Preface by the agent: I would normally run python train.py myself.

## 📋 Plan: t

### Approach
1. **Runs** — never run experiments directly (e.g. `python train.py`, `bash run.sh`).
2. **Quote** — each run's command: `source .venv/bin/activate && python train.py --lr 1e-4`
3. **Bad** — then python train.py. After that, e.g. `bash run.sh` again.
"""
    assert _lint(text, select=("PL015",)) == [(8, 19, "PL015"), (8, 54, "PL015")]


def test_metric_label_with_metric_word_and_risk_without_arrow() -> None:
    text = """## 📋 Plan: t

### Metrics
- **Primary metric**: accuracy — graded

### Risks & Mitigations
- **Risk**: OOM. **Mitigation**: smaller batch
"""
    diags = lint_document(load("p.md", text=text),
                          Settings(root=Path.cwd(), select=("PL018", "PL020")))
    assert [(d.line, d.code, d.message) for d in diags] == [
        (7, "PL020", "risk and mitigation are not separated by '→'")]


def test_shipped_training_script_meets_the_plans_success_criteria(tmp_path: Path) -> None:
    """One real run of plans/lr-sweep/train.py (CPU, a few seconds): metrics.json appears
    with the plan's metrics, and accuracy clears the plan's 0.90 criterion."""
    import importlib.util
    import json
    import subprocess
    import sys

    need_or_skip(importlib.util.find_spec("sklearn") is not None,
                 "scikit-learn is not installed (pip install -e '.[test]')")
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, str(ROOT / "plans/lr-sweep/train.py"), "--alpha",
                           "0.01", "--seed", "0", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "metrics.json").read_text("utf-8"))
    assert metrics["test_accuracy"] >= 0.90
    assert {"macro_f1", "n_iter", "converged", "alpha", "seed"} <= set(metrics)
    assert (metrics["alpha"], metrics["seed"], metrics["n_test"]) == (0.01, 0, 450)
    bad = subprocess.run([sys.executable, str(ROOT / "plans/lr-sweep/train.py"), "--alpha",
                          "0", "--seed", "0", "--out", str(out)], capture_output=True, text=True)
    assert bad.returncode == 2 and "--alpha must be > 0" in bad.stderr


def test_pl022_counts_the_expanded_runs_of_a_command_plan(tmp_path: Path) -> None:
    """Issue 10 (8): exclusions and zip count, as compile writes them; an error."""
    from compiler.config import Settings
    from compiler.document import load
    from compiler.lint import lint_document

    text = (ROOT / "plans/lr-sweep/plan.md").read_text("utf-8")
    body = text.split("---\n", 2)[2]
    fm = ("---\nkind: plan\nname: g\ncommand: python t.py --alpha {alpha} --seed {seed}\n"
          "sweep:\n  grid: {alpha: [0.0001, 0.001, 0.01], seed: [0, 1]}\n"
          "  exclude: [{levels: {alpha: 0.001}, reason: diverges}]\n---\n")
    plan = tmp_path / "plan.md"
    plan.write_text(fm + body, "utf-8")
    found = [(d.code, d.severity.value, d.message) for d in
             lint_document(load(plan), Settings(root=ROOT)) if d.code == "PL022"]
    assert found == [("PL022", "error", "Runs is 6 but planc's expansion of the sweep = 4 runs")]
    plan.write_text(fm + body.replace("- **Runs**: 6 (3 alpha levels × 2 seeds)",
                                      "- **Runs**: 4 (3 alpha levels × 2 seeds, less 2)"),
                    "utf-8")
    assert not [d for d in lint_document(load(plan), Settings(root=ROOT)) if d.code == "PL022"]
