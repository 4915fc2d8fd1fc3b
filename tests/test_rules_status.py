"""``runs_status.yaml`` rules (RS…): the shipped tracker, trackers written by
:mod:`compiler.tracker` (hypothesis), single-field corruptions, and the sibling-plan cases."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import tracker
from compiler.config import Settings
from compiler.document import load, value_position
from compiler.lint import lint_document, lint_paths
from compiler.models.status import BASE_NOTE, STATUSES

from .conftest import ROOT

EXAMPLE_DIR = ROOT / "plans" / "cap_8L_llama32_lora_comparison"
SETTINGS = Settings(root=ROOT)


def _diags(path: Path | str, text: str | None = None) -> list[tuple[int, int, str, str]]:
    doc = load(path, text=text)
    return [(d.line, d.column, d.code, d.message + (f" ({d.fix})" if d.fix else ""))
            for d in lint_document(doc, SETTINGS)]


def test_shipped_status_is_clean_and_matches_the_plan() -> None:
    path = EXAMPLE_DIR / "runs_status.yaml"
    assert lint_paths([path], SETTINGS) == []
    data = yaml.safe_load(path.read_text("utf-8"))
    assert data["schema_version"] == 1
    assert data["run_group"] == "cap_8L_llama32_lora_comparison"
    runs = data["runs"]
    assert list(runs) == [
        "Llama-3.2-1B-Instruct_rank4", "Llama-3.2-1B-Instruct_rank64",
        "Llama-3.2-3B-Instruct_rank4", "Llama-3.2-3B-Instruct_rank64",
        "Llama-3.2-1B-Instruct_base", "Llama-3.2-3B-Instruct_base"]
    for name, rec in runs.items():
        if name.endswith("_base"):
            assert rec["finetune"]["status"] == "skipped"
            assert rec["finetune"]["note"] == BASE_NOTE
        else:
            assert rec["finetune"]["status"] == "pending"
            assert list(rec["evaluations"]) == ["capitalization_8L_epoch_1", "reasoning_epoch_1"]
        assert all(st["status"] == "pending" and st["job_id"] is None
                   for st in rec["evaluations"].values())
    assert list(runs["Llama-3.2-1B-Instruct_base"]["evaluations"]) == ["capitalization_8L"]
    assert list(runs["Llama-3.2-3B-Instruct_base"]["evaluations"]) == [
        "capitalization_8L", "reasoning"]


def test_cross_checks_use_the_plan_beside_the_file(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE_DIR / "runs_plan.md", tmp_path / "runs_plan.md")
    text = (EXAMPLE_DIR / "runs_status.yaml").read_text("utf-8")
    # a run the plan does not have, named like a control: RS006 (extra) only; its evaluation
    # keys are not checked against a matrix row that does not exist
    extra = text + ("  Llama-3.2-8B-Instruct_base:\n    finetune: {status: skipped, job_id: null,"
                    " output: null, last_updated: null}\n    evaluations: {}\n")
    (tmp_path / "runs_status.yaml").write_text(extra)
    got = _diags(tmp_path / "runs_status.yaml")
    assert [(line, code) for line, _c, code, _m in got] == [(113, "RS006")]


def test_without_a_plan_base_runs_are_known_by_name(tmp_path: Path) -> None:
    text = (EXAMPLE_DIR / "runs_status.yaml").read_text("utf-8").replace(
        "      status: skipped  # Base models don't need fine-tuning\n",
        "      status: pending\n", 1)
    got = _diags(tmp_path / "runs_status.yaml", text)
    assert [(code, "base models are not fine-tuned" in msg) for _l, _c, code, msg in got] == [
        ("RS007", True)]


def test_plan_beside_that_is_not_a_run_plan_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "runs_plan.md").write_text("# Notes\n\nnot a run plan\n")
    text = (EXAMPLE_DIR / "runs_status.yaml").read_text("utf-8")
    assert _diags(tmp_path / "runs_status.yaml", text) == []


def test_unquoted_timestamp_says_quote_it() -> None:
    text = ("schema_version: 1\nrun_group: g\nruns:\n  r_base:\n    finetune:\n"
            "      status: skipped\n      last_updated: 2025-10-18 14:03:22\n")
    got = _diags("x/runs_status.yaml", text)
    assert [(line, col, code) for line, col, code, _m in got] == [(7, 21, "RS004")]
    assert 'quote it: last_updated: "2025-10-18 14:03:22"' in got[0][3]


def test_not_a_mapping_and_empty() -> None:
    assert [(line, col, code) for line, col, code, _m in _diags("runs_status.yaml", "- a\n- b\n")
            ] == [(1, 1, "RS001")]
    assert [code for _l, _c, code, _m in _diags("runs_status.yaml", "")] == ["RS001"]


def test_bad_yaml_is_a_load_error_not_a_crash() -> None:
    got = _diags("runs_status.yaml", "runs: [\n")
    assert [code for _l, _c, code, _m in got] == ["CM001"]


# -- trackers written by compiler.tracker ------------------------------------------------
_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9.-]{0,12}", fullmatch=True)
_TS = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 1, 1)).map(
    lambda d: d.strftime("%Y-%m-%d %H:%M:%S"))


@st.composite
def _stage(draw):  # type: ignore[no-untyped-def]
    rec = tracker.stage(draw(st.sampled_from(STATUSES)))
    # a submitted, running or completed stage names its job (RS010)
    if rec["status"] in ("submitted", "running", "completed") or draw(st.booleans()):
        rec["job_id"] = str(draw(st.integers(1, 10**8)))
        rec["output"] = f"/scratch/exp/slurm-{rec['job_id']}.out"
        rec["last_updated"] = draw(_TS)
    return rec


@st.composite
def _tracker(draw):  # type: ignore[no-untyped-def]
    runs = {}
    for name in draw(st.lists(_NAME, min_size=1, max_size=4, unique=True)):
        evals = {f"{t}_epoch_{n}": draw(_stage())
                 for t in draw(st.lists(_NAME, max_size=2, unique=True))
                 for n in range(draw(st.integers(1, 2)))}
        runs[f"{name}_rank4"] = {"finetune": draw(_stage()), "evaluations": evals}
        base = tracker.stage("skipped", BASE_NOTE)
        runs[f"{name}_base"] = {"finetune": base, "evaluations": {"task": draw(_stage())}}
    return {"schema_version": 1, "run_group": "group", "runs": runs}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tracker())
def test_tracker_dump_lints_clean(data: dict) -> None:  # type: ignore[type-arg]
    text = tracker.dump(data, last_updated="2025-10-18 14:03:22")
    assert _diags("g/runs_status.yaml", text) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tracker(), st.data())
def test_one_corrupted_field_gives_one_finding(data: dict,  # type: ignore[type-arg]
                                               pick: st.DataObject) -> None:
    run = pick.draw(st.sampled_from(sorted(r for r in data["runs"] if r.endswith("_rank4"))))
    # (a base run's status has RS007 too; corrupt fine-tuned runs only)
    stage = data["runs"][run]["finetune"]
    field, value, code = pick.draw(st.sampled_from([
        ("status", "done", "RS002"), ("job_id", 4812345.5, "RS003"),
        ("last_updated", "yesterday", "RS004"), ("output", "", "RS005")]))
    stage[field] = value
    text = tracker.dump(data)
    got = _diags("g/runs_status.yaml", text)
    doc = load("g/runs_status.yaml", text=text)
    pos = value_position(doc.yaml_node, ["runs", run, "finetune", field])
    assert pos is not None
    assert [(line, col, c) for line, col, c, _m in got] == [(pos[0] + 1, pos[1] + 1, code)]


_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                    st.sampled_from(["", "pending", "skipped", "2025-10-18 14:03:22"]),
                    st.datetimes(min_value=dt.datetime(2000, 1, 1)))
_KEYS = st.sampled_from(["runs", "finetune", "evaluations", "status", "job_id", "last_updated",
                         "output", "note", "run", "schema_version", "run_group", "a_base",
                         "a_rank4", "t_epoch_0", "t"])
_TREE = st.recursive(_SCALAR, lambda kids: st.one_of(
    st.lists(kids, max_size=3), st.dictionaries(_KEYS, kids, max_size=4)), max_leaves=25)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_KEYS, _TREE, max_size=4))
def test_status_rules_never_crash(data: dict) -> None:  # type: ignore[type-arg]
    text = yaml.safe_dump(data, sort_keys=False)
    for folder in ("nowhere", str(EXAMPLE_DIR)):
        codes = [c for _l, _c, c, _m in _diags(f"{folder}/runs_status.yaml", text)]
        assert "PC999" not in codes


def test_integer_job_ids_from_cruijff_kit_are_accepted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 10 (3): cruijff_kit's update_run_status.py writes ``job_id: 1234567``."""
    from compiler.config import Settings
    from compiler.document import load
    from compiler.lint import lint_document
    from compiler.models.status import RunsStatus

    path = tmp_path / "runs_status.yaml"
    path.write_text("schema_version: 1\nrun_group: g\nruns:\n  r_rank4:\n"
                    "    finetune: {status: submitted, job_id: 1234567, output: null,\n"
                    "               last_updated: '2025-10-18 14:03:22'}\n", "utf-8")
    found = [d.code for d in lint_document(load(path), Settings(root=tmp_path))
             if d.code in ("RS001", "RS003")]
    assert found == []
    model = RunsStatus.model_validate(__import__("yaml").safe_load(path.read_text()))
    assert model.runs["r_rank4"].finetune.job_id == "1234567"
