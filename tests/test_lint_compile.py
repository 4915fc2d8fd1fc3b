"""Lint = compile: ``planc lint`` exit 0 ⇒ ``planc compile`` succeeds, and compile never
reports an error lint did not (issue 9). Both run :func:`compiler.spec.build`; hypothesis
generates and mutates plans (sweeps and run groups) to hold them to it."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.config import Settings
from compiler.document import load
from compiler.expand import Options
from compiler.lint import lint_document
from compiler.pipeline import compile_plan

from .conftest import ROOT

SETTINGS = Settings(root=ROOT)
# The shipped sweep plan's body (a complete seed 000 plan); front-matter sweeps must agree
# with its Parameters to Sweep table (PL027), so levels come from that table.
_SWEEP_BODY = (ROOT / "plans/lr-sweep/plan.md").read_text("utf-8").split("---\n", 2)[2]
_TABLE = {"alpha": [1e-4, 1e-3, 1e-2], "seed": [0, 1]}
_RARE = st.integers(0, 4).map(lambda x: x == 0)  # a mutation in about one draw of five


@st.composite
def sweep_plans(draw: st.DrawFn) -> dict:
    """A front-matter sweep over the shipped plan, sometimes mutated: zip of unequal lists,
    an exclusion with or without a reason, unknown placeholders, a target and a layout."""
    design = "zip" if draw(_RARE) else "grid"
    sweep: dict = {design: dict(_TABLE)}
    if draw(_RARE):
        ex: dict = {"levels": {"alpha": 1e-3}}
        if draw(st.booleans()):
            ex["reason"] = "diverges"
        sweep["exclude"] = [ex]
    extra = draw(st.lists(st.sampled_from(["out", "run", "plan_dir"]), max_size=2)) \
        if draw(_RARE) else ["out"]
    command = "python t.py --alpha {alpha} --seed {seed} " + " ".join(
        f"--{p} {{{p}}}" for p in extra)
    fm: dict = {"kind": "plan", "name": "g", "command": command, "sweep": sweep}
    if draw(st.booleans()):
        fm["cluster_type"] = draw(st.sampled_from(["slurm", "local_gpu", "cpu_only"]))
    if draw(st.booleans()):
        fm["layout"] = "array"
    return fm


@st.composite
def run_groups(draw: st.DrawFn) -> dict:
    pool = ["Llama-3.2-1B-Instruct", "Llama-3.2-3B-Instruct"]
    if draw(_RARE):
        pool.append("Mistral-Nonexistent-7B")
    models = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
    epochs = draw(st.integers(1, 3))
    fm: dict = {
        "kind": "run-group", "experiment": {"name": "grp", "date": "2025-10-18"},
        "variables": {"model": models,
                      "lora_rank": draw(st.lists(st.integers(1, 64), min_size=1, max_size=2,
                                                 unique=True))},
        "design": "zip" if draw(_RARE) else "grid",
        "controls": draw(st.booleans()),
        "models": [{"name": m, "path": f"/m/{m}"} for m in models if not draw(_RARE)],
        "data": {"training": {"path": "/d/w.json",
                              "splits": {"train": 800, "validation": 100, "test": 100}}},
        "training": {"epochs": epochs,
                     "batch_size": {"Llama-3.2-1B-Instruct": 8} if draw(_RARE)
                     else draw(st.integers(1, 16))},
        "evaluation": {"tasks": [{"name": "cap", "script": "tasks/cap.py"}],
                       "epochs": draw(st.lists(st.integers(0, 3), min_size=1, max_size=2))
                       if draw(_RARE) else draw(st.sampled_from(["last", "all", "best"]))},
    }
    if draw(st.booleans()):
        fm["compute"] = {"gpus": draw(st.integers(0, 3)),
                         "partition": "a b" if draw(_RARE) else "gpu"}
    if draw(_RARE):
        fm["training"]["validation"] = True
    if draw(_RARE):
        fm["evaluation"]["matrix"] = [{"run": "x", "tasks": [draw(st.sampled_from(
            ["cap", "nosuch"]))]}]
    if draw(_RARE):
        fm["exclude"] = [{"levels": {"model": models[0]}, **(
            {"reason": "too slow"} if draw(st.booleans()) else {})}]
    return fm


def _check(tmp: Path, fm: dict, body: str = "# g\n") -> None:
    plan = tmp / "plan.md"
    plan.write_text("---\n" + yaml.safe_dump(fm, sort_keys=False) + "---\n" + body, "utf-8")
    lint_errors = [d for d in lint_document(load(plan), SETTINGS)
                   if d.severity.value == "error"]
    res = compile_plan(plan, SETTINGS, out=tmp / "out", options=Options(), check=True,
                       lint=False)
    compile_errors = [d for d in res.diagnostics if d.severity.value == "error"]
    if not lint_errors:  # lint exit 0 ⇒ compile succeeds
        assert res.report is not None and not compile_errors, compile_errors
    else:  # compile never reports an error lint did not
        lint_codes = {(d.code, d.line) for d in lint_errors}
        assert {(d.code, d.line) for d in compile_errors} <= lint_codes, (
            compile_errors, lint_errors)


@given(sweep_plans())
@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_sweep_plans_lint_as_they_compile(tmp_path: Path, fm: dict) -> None:
    _check(tmp_path, fm, _SWEEP_BODY)


@given(run_groups())
@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_run_groups_lint_as_they_compile(tmp_path: Path, fm: dict) -> None:
    _check(tmp_path, fm)


def test_an_unknown_placeholder_is_a_lint_error_at_the_command(tmp_path: Path) -> None:
    plan = tmp_path / "plan.md"
    plan.write_text("---\nkind: plan\nname: g\ncommand: python t.py --d {plan_dir}\n"
                    "sweep: {grid: {lr: [1, 2]}}\n---\n# g\n", "utf-8")
    found = [(d.code, d.line, d.severity.value) for d in lint_document(load(plan), SETTINGS)
             if d.code.startswith("EX")]
    assert found == [("EX005", 4, "error")]
