"""cruijff_kit's ``experiment_summary.yaml`` (issue 10): kind routing by name and shape,
the ES rules on the real fixture and on single planted contradictions (hypothesis), the
same schema as markdown front-matter, and compile through ``spec.build``."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.config import Settings
from compiler.document import load
from compiler.expand import Options
from compiler.lint import discover, lint_document
from compiler.pipeline import compile_plan
from compiler.spec import build

from .conftest import FIXTURES, ROOT

SETTINGS = Settings(root=ROOT)
REAL = FIXTURES / "esum" / "experiment_summary.yaml"


def _diags(path: Path | str, text: str | None = None) -> list[tuple[int, int, str, str]]:
    return [(d.line, d.column, d.code, d.severity.value)
            for d in lint_document(load(path, text=text), SETTINGS)]


def _line_of(text: str, needle: str, nth: int = 1) -> int:
    hits = [n for n, line in enumerate(text.split("\n"), 1) if needle in line]
    return hits[nth - 1]


# -- routing ---------------------------------------------------------------------------------
def test_the_real_fixture_is_an_experiment_summary_with_no_error_or_warning() -> None:
    doc = load(REAL)
    assert doc.kind == "experiment-summary"
    # EX013: the info every run group without a cluster profile gets (generic-slurm)
    assert _diags(REAL) == [(1, 1, "EX013", "info")]


def test_kind_by_shape_when_the_name_says_nothing(tmp_path: Path) -> None:
    other = tmp_path / "design.yaml"
    other.write_text(REAL.read_text("utf-8"), "utf-8")
    assert load(other).kind == "experiment-summary"
    tracker = tmp_path / "tracker.yaml"
    tracker.write_text("run_group: g\nruns:\n  r1:\n    finetune: {status: pending}\n", "utf-8")
    assert load(tracker).kind == "status"


def test_other_yaml_is_one_cm007_not_a_tracker_cascade(tmp_path: Path) -> None:
    other = tmp_path / "config.yaml"
    other.write_text("learning_rate: 0.1\nlayers: [1, 2]\n", "utf-8")
    assert _diags(other) == [(1, 1, "CM007", "warning")]


def test_a_named_file_keeps_its_kind_even_when_broken(tmp_path: Path) -> None:
    status = tmp_path / "runs_status.yaml"
    status.write_text("foo: 1\n", "utf-8")
    assert load(status).kind == "status"
    esum = tmp_path / "experiment_summary.yaml"
    esum.write_text("foo: 1\n", "utf-8")
    codes = {c for _l, _c, c, _s in _diags(esum)}
    assert load(esum).kind == "experiment-summary" and "ES001" in codes and "RS001" not in codes


def test_discover_finds_experiment_summaries_in_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    for name in ("a/experiment_summary.yaml", "a/experiment_summary_v2.yml", "a/other.yaml"):
        (tmp_path / name).write_text("x: 1\n", "utf-8")
    assert [p.name for p in discover([tmp_path])] == ["experiment_summary.yaml",
                                                      "experiment_summary_v2.yml"]


# -- planted contradictions in the real fixture ---------------------------------------------
_REAL_TEXT = REAL.read_text("utf-8")
PLANTED = [
    # (old, new, code, line, column)
    ('dataset_label: "words_5L_80P_10"', 'dataset_label: "words_8L_80P_10"', "ES005", 40, 5),
    ('    model: "Llama-3.2-1B-Instruct"\n    parameters:\n      lora_rank: 8',
     '    model: "Llama-3.2-3B-Instruct"\n    parameters:\n      lora_rank: 8', "ES003", 60, 5),
    ('- run: "Llama-3.2-1B-Instruct_rank8"', '- run: "Llama-3.2-1B-Instruct_rank16"',
     "ES003", 82, 7),
    ('- name: "Llama-3.2-1B-Instruct_rank8"', '- name: "Llama-3.2-1B-Instruct_rank4"',
     "ES004", 58, 5),
    ("lora_rank: 8\n\nevaluation", "lora_rank: 16\n\nevaluation", "ES007", 62, 7),
    ("      epochs: [0]\n\n    - run", "      epochs: [0, 1]\n\n    - run", "ES006", 80, 19),
    ("  epochs: 1\n", "  epochs: 0\n", "ES001", 27, 3),
    ("      lora_rank: 8\n\nevaluation", "      lora_rank: 8\n      lora_alpha: 8\n\nevaluation",
     "ES008", 63, 7),
    ('  wandb_project: "cruijff_kit_tests"', '  wandb_projcet: "cruijff_kit_tests"',
     "ES002", 49, 3),
]


def test_each_planted_contradiction_is_reported_at_its_key() -> None:
    for old, new, code, line, col in PLANTED:
        assert _REAL_TEXT.count(old) == 1, old
        text = _REAL_TEXT.replace(old, new)
        found = [(ln, c, cd) for ln, c, cd, _s in _diags("experiment_summary.yaml", text)]
        assert (line, col, code) in found, (code, found)


def test_the_fixture_as_front_matter_lints_at_file_lines(tmp_path: Path) -> None:
    md = tmp_path / "plan.md"
    md.write_text("---\n" + _REAL_TEXT + "---\n\n# Notes\n\nWhy we run it.\n", "utf-8")
    assert load(md).kind == "experiment-summary"
    assert _diags(md) == [(2, 1, "EX013", "info")]
    md.write_text("---\nkind: run-group\ntitle: t\n" + _REAL_TEXT.replace(
        'dataset_label: "words_5L_80P_10"', 'dataset_label: "x"') + "---\n", "utf-8")
    # 40 in the YAML file; here 3 lines of front-matter come before it
    assert (43, 5, "ES005", "error") in _diags(md)
    assert not [d for d in _diags(md) if d[2].startswith(("CM002", "CM003"))]


# -- compile -----------------------------------------------------------------------------------
def test_the_real_fixture_compiles_like_a_run_group(tmp_path: Path) -> None:
    res = compile_plan(REAL, SETTINGS, out=tmp_path, options=Options())
    assert res.report is not None, res.diagnostics
    group = tmp_path / "workflow_test_2026-03-16"
    for run, rank in (("Llama-3.2-1B-Instruct_rank4", 4), ("Llama-3.2-1B-Instruct_rank8", 8)):
        setup = yaml.safe_load((group / run / "setup_finetune.yaml").read_text("utf-8"))
        assert setup["lora_rank"] == rank
        assert setup["batch_size"] == 4 and setup["epochs"] == 1
        assert setup["my_wandb_project"] == "cruijff_kit_tests"
        assert setup["dataset_label"] == "words_5L_80P_10"
        assert setup["dataset_type"] == "chat_completion"
        assert setup["system_prompt"] == "You are a helpful assistant."
        assert setup["seed"] == 14  # cruijff_kit's default training seed
        assert setup["output_dir_base"] == (
            "__SCRATCH__/ck-projects/capitalization/workflow_test_2026-03-16/")
        ev = yaml.safe_load((group / run / "eval" / "capitalization_epoch_0" / "eval.yaml")
                            .read_text("utf-8"))
        assert ev["data_path"] == "__REPO__/tests/fixtures/data/words_5L_80P_10.json"
        assert ev["epoch"] == 0
    infos = {(d.code, d.line) for d in build(load(REAL), SETTINGS).diagnostics}
    # what planc's outputs do not carry, said where it is stated
    assert {("EX014", 25), ("EX014", 67), ("EX014", 78), ("EX014", 83)} <= infos


def test_a_varied_model_is_checked_against_the_run_model() -> None:
    text = _REAL_TEXT.replace("  lora_rank: [4, 8]\n",
                              '  lora_rank: [4, 8]\n  model: ["Llama-3.2-1B-Instruct"]\n')
    assert _diags("experiment_summary.yaml", text) == [(1, 1, "EX013", "info")]
    text = text.replace('model: ["Llama-3.2-1B-Instruct"]', 'model: ["Qwen2.5-0.5B-Instruct"]')
    assert [d for d in _diags("experiment_summary.yaml", text) if d[2] == "ES007"] == [
        (55, 5, "ES007", "error"), (61, 5, "ES007", "error")]


# -- eval-only runs (cruijff_kit 0.3.4: a pre-existing checkpoint evaluated as-is) -----------
CKPT = "/scratch/ck/earlier/rank8/artifacts/epoch_0"
#: the real fixture plus a control run and an eval-only run (design template's examples)
MIXED = (FIXTURES / "esum" / "experiment_summary_mixed.yaml").read_text("utf-8")


def _compile_mixed(tmp_path: Path, cluster: str | None) -> Path:
    """Compile MIXED for ``cluster`` (a profile written under tmp_path) → the group folder."""
    (tmp_path / "clusters").mkdir(exist_ok=True)
    for name, ctype, gpus in (("t-gpu", "local_gpu", 1), ("t-cpu", "cpu_only", 0)):
        (tmp_path / "clusters" / f"{name}.yaml").write_text(
            f"name: {name}\ntype: {ctype}\ndefaults: {{gpus: {gpus}}}\n", "utf-8")
    plan = tmp_path / "experiment_summary.yaml"
    plan.write_text(MIXED, "utf-8")
    settings = Settings(root=ROOT, clusters=str(tmp_path / "clusters"))
    out = tmp_path / f"out-{cluster}"
    res = compile_plan(plan, settings, out=out, options=Options(cluster=cluster))
    assert res.report is not None, res.diagnostics
    return out / "workflow_test_2026-03-16"


def test_a_summary_mixing_fine_tuned_control_and_eval_only_runs_lints_clean() -> None:
    assert _diags("experiment_summary.yaml", MIXED) == [(1, 1, "EX013", "info")]


def test_an_eval_only_run_evaluates_its_checkpoint_in_every_target(tmp_path: Path) -> None:
    from compiler.models.status import BASE_NOTE, EVAL_ONLY_NOTE

    for cluster, script in ((None, "eval/capitalization/eval.slurm"),
                            ("t-gpu", "run_local.sh"), ("t-cpu", "run_local.sh")):
        group = _compile_mixed(tmp_path, cluster)
        run = group / "existing_ckpt_eval"
        # no fine-tune stage: no training configs, only the evaluation
        assert not (run / "setup_finetune.yaml").exists()
        assert not (run / "finetune.yaml").exists()
        ev = yaml.safe_load((run / "eval" / "capitalization" / "eval.yaml").read_text("utf-8"))
        # cruijff_kit's eval.yaml for an eval-only run (tests/fixtures/eval_only/eval.golden.yaml)
        assert ev["model_path"] == CKPT
        assert ev["is_finetuned"] is True
        assert ev["model_hf_name"] == "hf/existing_ckpt_eval"
        assert ev["source_model"] == "Llama-3.2-1B-Instruct"
        assert ev["epoch"] is None and ev["epoch_select"] == "checkpoint"
        words = (run / script).read_text("utf-8")
        assert f"-M model_path={CKPT} " in words, cluster
        assert "--metadata is_finetuned=true" in words
        assert "--model hf/existing_ckpt_eval" in words
        base = group / "Llama-3.2-1B-Instruct_base"
        bev = yaml.safe_load((base / "eval" / "capitalization" / "eval.yaml").read_text("utf-8"))
        assert bev["model_path"] == "__SCRATCH__/pretrained-llms/Llama-3.2-1B-Instruct"
        assert bev["is_finetuned"] is False and bev["epoch_select"] == "base"
        status = yaml.safe_load((group / "runs_status.yaml").read_text("utf-8"))["runs"]
        assert status["existing_ckpt_eval"]["finetune"]["status"] == "skipped"
        assert status["existing_ckpt_eval"]["finetune"]["note"] == EVAL_ONLY_NOTE
        assert status["Llama-3.2-1B-Instruct_base"]["finetune"]["note"] == BASE_NOTE
        assert list(status["existing_ckpt_eval"]["evaluations"]) == ["capitalization"]
        # the research-agent plan payload names the checkpoint the run evaluates
        plan = json.loads((group / "api" / "plan.json").read_text("utf-8"))
        runs = {r["name"]: r for r in plan["sections"]["runs"]}
        assert runs["existing_ckpt_eval"]["checkpoint_path"] == CKPT
        assert "checkpoint_path" not in runs["Llama-3.2-1B-Instruct_base"]
        # planc results' summary tells the eval-only run from the base-model control
        from compiler.summary import render_summary

        summary = render_summary({}, yaml.safe_load((group / "runs_status.yaml")
                                                    .read_text("utf-8")))
        assert "| existing_ckpt_eval | eval-only | – skipped |" in summary
        assert "| Llama-3.2-1B-Instruct_base | control | – skipped |" in summary
        readme = (group / "README.md").read_text("utf-8")
        assert "| `existing_ckpt_eval` | Eval-only | Llama-3.2-1B-Instruct |" in readme


def test_an_eval_only_run_has_no_training_estimate(tmp_path: Path) -> None:
    plan = tmp_path / "experiment_summary.yaml"
    plan.write_text(MIXED, "utf-8")
    matrix = build(load(plan), SETTINGS).matrix
    assert matrix is not None
    runs = {r.name: r for r in matrix.runs}
    ckpt = runs["existing_ckpt_eval"]
    assert ckpt.kind == "control" and ckpt.eval_only and ckpt.checkpoint_path == CKPT
    assert ckpt.finetune is None
    assert ckpt.estimate.train_seconds == 0 and ckpt.estimate.eval_seconds > 0
    assert not runs["Llama-3.2-1B-Instruct_base"].eval_only
    # another parameter of an eval-only run is said to be unused, where it is written
    text = MIXED.replace(f'      checkpoint_path: "{CKPT}"\n',
                         f'      checkpoint_path: "{CKPT}"\n      prompt: "Say {{input}}"\n')
    line = _line_of(text, 'prompt: "Say {input}"')
    infos = [(d.line, d.column, d.message) for d in build(
        load("experiment_summary.yaml", text=text), SETTINGS).diagnostics if d.code == "EX014"]
    assert (line, 7, "runs[3].parameters.prompt is not used: eval-only run "
            "'existing_ckpt_eval' evaluates its checkpoint with the group's settings") in infos


def test_an_eval_only_run_in_an_array_layout_loads_its_checkpoint(tmp_path: Path) -> None:
    plan = tmp_path / "experiment_summary.yaml"
    plan.write_text(MIXED, "utf-8")
    res = compile_plan(plan, SETTINGS, out=tmp_path / "out", options=Options(layout="array"))
    assert res.report is not None, res.diagnostics
    arr = (tmp_path / "out" / "workflow_test_2026-03-16" / "eval_array_capitalization_base.slurm"
           ).read_text("utf-8")
    assert "# (control and eval-only runs: base models or pre-existing checkpoints" in arr
    assert f"--model hf/existing_ckpt_eval -M model_path={CKPT} " in arr
    # the control run beside it still loads its base model
    assert ('--model hf/Llama-3.2-1B-Instruct -M model_path="$RUN_DIR"/__SCRATCH__/'
            'pretrained-llms/Llama-3.2-1B-Instruct ') in arr


def _eval_only_without(params: str) -> str:
    """The real fixture with its rank-8 run made eval-only with ``params`` (YAML lines)."""
    return _REAL_TEXT.replace('type: "fine-tuned"\n    model: "Llama-3.2-1B-Instruct"\n'
                              '    parameters:\n      lora_rank: 8',
                              'type: "eval-only"\n    model: "Llama-3.2-1B-Instruct"\n'
                              + params)


def test_an_eval_only_run_without_a_checkpoint_path_is_a_located_error() -> None:
    text = _eval_only_without("    parameters:\n      lora_rank: 8")
    found = _diags("experiment_summary.yaml", text)
    # at the run's type; and its matrix epochs must be null (design template): ES006
    assert found == [(59, 5, "ES009", "error"), (85, 7, "ES006", "error")]
    # compile says the same where it is, once (lint does not repeat it as RG900)
    diags = build(load("experiment_summary.yaml", text=text), SETTINGS).diagnostics
    errors = [(d.line, d.column, d.code, d.message) for d in diags if d.severity.value == "error"]
    assert errors == [(59, 5, "RG900", "experiment_summary runs.1.parameters.checkpoint_path: "
                       "eval-only run 'Llama-3.2-1B-Instruct_rank8': parameters.checkpoint_path "
                       "is missing or empty: an eval-only run evaluates a pre-existing "
                       "checkpoint, named by its absolute directory")]
    for params, where in (('    parameters:\n      checkpoint_path: ""', (62, 7)),
                          ("    parameters:\n      checkpoint_path: rank8/epoch_0", (62, 7)),
                          ("    parameters: {}", (59, 5))):
        bad = _eval_only_without(params).replace('    - run: "Llama-3.2-1B-Instruct_rank8"\n'
                                                 '      vis_label: "rank8"\n'
                                                 '      tasks: ["capitalization"]\n'
                                                 '      epochs: [0]',
                                                 '    - run: "Llama-3.2-1B-Instruct_rank8"\n'
                                                 '      vis_label: "rank8"\n'
                                                 '      tasks: ["capitalization"]\n'
                                                 '      epochs: null')
        assert [d for d in _diags("experiment_summary.yaml", bad) if d[3] == "error"] == [
            (*where, "ES009", "error")], params


# -- hypothesis: a consistent generated summary, then one planted contradiction -------------
MODELS = ["Llama-3.2-1B-Instruct", "Llama-3.2-3B-Instruct", "Qwen2.5-0.5B-Instruct"]


@st.composite
def summaries(draw: st.DrawFn) -> dict[str, Any]:
    models = draw(st.lists(st.sampled_from(MODELS), min_size=1, max_size=2, unique=True))
    ranks = draw(st.lists(st.sampled_from([4, 8, 16, 32]), min_size=1, max_size=3, unique=True))
    lrs = draw(st.lists(st.sampled_from([1e-5, 5e-5, 1e-4]), min_size=1, max_size=2,
                        unique=True))
    epochs = draw(st.integers(1, 3))
    label = draw(st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True))
    variables: dict[str, list[Any]] = {"lora_rank": ranks}
    if len(lrs) > 1:
        variables["lr"] = lrs
    runs, matrix = [], []
    for m, r, lr in itertools.product(models, ranks, lrs):
        params: dict[str, Any] = {"lora_rank": r}
        name = f"{m}_rank{r}"
        if len(lrs) > 1:
            params["lr"] = lr
            name = f"{m}_lr{lr:g}_rank{r}"
        runs.append({"name": name, "type": "fine-tuned", "model": m, "parameters": params})
        eps = draw(st.lists(st.integers(0, epochs - 1), min_size=1, unique=True))
        matrix.append({"run": name, "vis_label": name, "tasks": ["task_a"],
                       "epochs": sorted(eps)})
    if draw(st.booleans()):
        runs.append({"name": f"{models[0]}_base", "type": "control", "model": models[0],
                     "parameters": {}})
        matrix.append({"run": f"{models[0]}_base", "tasks": ["task_a"], "epochs": None})
    # eval-only runs: pre-existing checkpoints of a base model, evaluated as-is
    for k in range(draw(st.integers(0, 2))):
        m = draw(st.sampled_from(models))
        name = f"ckpt{k}_{m}"
        ckpt = draw(st.sampled_from(["artifacts/epoch_0", "epoch_1", "out"]))
        runs.append({"name": name, "type": "eval-only", "model": m,
                     "parameters": {"checkpoint_path": f"/scratch/earlier/{name}/{ckpt}"}})
        matrix.append({"run": name, "tasks": ["task_a"], "epochs": None})
    return {
        "experiment": {"name": "gen_exp", "project": "capitalization", "question": "Does it?",
                       "date": "2026-03-16", "dir": "/scratch/ck-projects/cap/gen_exp"},
        "tools": {"preparation": "torchtune", "evaluation": "inspect-ai"},
        "variables": variables,
        "controls": {"system_prompt": "", "dataset_type": "chat_completion",
                     "epochs": epochs, "batch_size": draw(st.sampled_from([1, 4, 8])),
                     "validation_during_training": draw(st.booleans())},
        "models": {"base": [{"name": m, "path": f"/models/{m}", "size_gb": 2.5}
                            for m in models]},
        "data": {"training": {"path": f"/data/{label}.json", "dataset_label": label,
                              "format": "json", "size_kb": 10,
                              "splits": {"train": 80, "validation": 10, "test": 10}}},
        "output": {"wandb_project": "gen"},
        "runs": runs,
        "evaluation": {"scorers": [{"name": "match"}],
                       "tasks": [{"name": "task_a", "script": "/t/task.py",
                                  "dataset": "same", "description": "d"}],
                       "matrix": matrix},
    }


def _plant(data: dict[str, Any], which: str) -> tuple[str, str, int]:
    """Plant one contradiction; return (its code, a unique needle on its line, nth hit)."""
    if which == "label":
        data["data"]["training"]["dataset_label"] = "planted_label"
        return "ES005", "planted_label", 1
    if which == "model":
        data["runs"][0]["model"] = "Planted-Model"
        return "ES003", "Planted-Model", 1
    if which == "matrix_run":
        data["evaluation"]["matrix"][0]["run"] = "planted_run"
        return "ES003", "planted_run", 1
    if which == "duplicate":
        data["runs"].append(dict(data["runs"][0]))
        return "ES004", f"name: {data['runs'][0]['name']}", 2
    if which == "epoch":
        data["evaluation"]["matrix"][0]["epochs"] = [99]
        return "ES006", "- 99", 1
    if which == "checkpoint":  # an eval-only run whose checkpoint path is not absolute
        data["runs"].append({"name": "planted_ckpt", "type": "eval-only",
                             "model": data["runs"][0]["model"],
                             "parameters": {"checkpoint_path": "planted/epoch_0"}})
        data["evaluation"]["matrix"].append({"run": "planted_ckpt", "tasks": ["task_a"],
                                             "epochs": None})
        return "ES009", "checkpoint_path: planted/epoch_0", 1
    data["runs"][0]["parameters"]["lora_rank"] = 999
    return "ES007", "lora_rank: 999", 1


@given(summaries(), st.sampled_from(["label", "model", "matrix_run", "duplicate", "epoch",
                                     "level", "checkpoint"]))
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_generated_summaries_lint_clean_compile_and_catch_a_plant(
        tmp_path: Path, data: dict[str, Any], which: str) -> None:
    path = tmp_path / "experiment_summary.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    doc = load(path)
    found = _diags(path)
    assert [d for d in found if d[3] != "info"] == [], found
    assert {d[2] for d in found} <= {"EX013"}
    matrix = build(doc, SETTINGS).matrix
    assert matrix is not None  # lint exit 0 ⇒ compile succeeds
    # every eval-only run compiles to a run that evaluates its own checkpoint
    ckpts = {r["name"]: r["parameters"]["checkpoint_path"] for r in data["runs"]
             if r["type"] == "eval-only"}
    assert {r.name: r.checkpoint_path for r in matrix.runs if r.eval_only} == ckpts
    code, needle, nth = _plant(data, which)
    text = yaml.safe_dump(data, sort_keys=False)
    line = _line_of(text, needle, nth)
    errors = [(ln, cd) for ln, _c, cd, sev in _diags(path, text) if sev == "error"]
    assert (line, code) in errors, (which, line, errors)
    # the same document as markdown front-matter: the same finding, one line further down
    md = tmp_path / "plan.md"
    errors = [(ln, cd) for ln, _c, cd, sev in _diags(md, "---\n" + text + "---\n# Notes\n")
              if sev == "error"]
    assert (line + 1, code) in errors, (which, line + 1, errors)


def test_planc_expand_names_the_eval_only_run_and_its_checkpoint(
        tmp_path: Path, capsys: Any) -> None:
    from compiler import cli

    plan = tmp_path / "experiment_summary.yaml"
    plan.write_text(MIXED, "utf-8")
    assert cli.main(["expand", str(plan)]) == 0
    rows = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()
            if line and not line.startswith(("RUN", " ")) and len(line.split()) > 2}
    assert rows["existing_ckpt_eval"] == "eval-only"
    assert rows["Llama-3.2-1B-Instruct_base"] == "control"
    assert cli.main(["expand", "--format", "json", str(plan)]) == 0
    runs = {r["name"]: r for r in json.loads(capsys.readouterr().out)["runs"]}
    assert runs["existing_ckpt_eval"]["checkpoint_path"] == CKPT
    assert runs["existing_ckpt_eval"]["kind"] == "control"  # the tracker's type: no fine-tune


def test_the_eval_only_eval_yaml_agrees_with_cruijff_kits_golden(tmp_path: Path) -> None:
    """cruijff_kit's eval.yaml for an eval-only run (a real scaffold run, #478) and planc's
    agree on every key that says which model is evaluated and how it is labelled."""
    golden = yaml.safe_load((FIXTURES / "real" / "cruijff_kit" / "tests" / "fixtures"
                             / "eval_only" / "eval.golden.yaml").read_text("utf-8"))
    group = _compile_mixed(tmp_path, None)
    ours = yaml.safe_load((group / "existing_ckpt_eval" / "eval" / "capitalization"
                           / "eval.yaml").read_text("utf-8"))
    assert golden["model_path"] == "{CHECKPOINT_DIR}" and ours["model_path"] == CKPT
    for key in ("is_finetuned", "model_hf_name", "source_model", "task_name",
                "system_prompt", "use_chat_template"):
        assert ours[key] == golden[key], key


def test_a_runs_own_parameters_outside_variables_are_applied_or_reported(
        tmp_path: Path) -> None:
    """No silent drop: a fine-tuned run's ``parameters`` key that is no factor is applied to
    that run's training when planc's configs have it (``lr``), else an EX014 info at its key
    (``prompt``); a control run's parameters are reported (it is not trained)."""
    text = _REAL_TEXT.replace(
        "    parameters:\n      lora_rank: 8\n",
        '    parameters:\n      lora_rank: 8\n      lr: 0.0003\n      prompt: "Shout: {input}"\n')
    assert "lr: 0.0003" in text
    plan = tmp_path / "experiment_summary.yaml"
    plan.write_text(text, "utf-8")
    res = compile_plan(plan, SETTINGS, out=tmp_path / "out", options=Options())
    assert res.report is not None, res.diagnostics
    group = tmp_path / "out" / "workflow_test_2026-03-16"

    def setup(run: str) -> dict[str, Any]:
        return yaml.safe_load((group / run / "setup_finetune.yaml").read_text("utf-8"))

    assert setup("Llama-3.2-1B-Instruct_rank8")["lr"] == 0.0003
    assert setup("Llama-3.2-1B-Instruct_rank4")["lr"] != 0.0003
    cfg = yaml.safe_load((group / "Llama-3.2-1B-Instruct_rank8" / "finetune.yaml")
                         .read_text("utf-8"))
    assert cfg["optimizer"]["lr"] == 0.0003
    infos = [(d.code, d.line, d.message) for d in build(load(plan), SETTINGS).diagnostics
             if "parameters" in d.message]
    assert infos == [("EX014", _line_of(text, "prompt: \"Shout"),
                      "runs[1].parameters.prompt is not used: planc's compiled configs have "
                      "no such setting")]
