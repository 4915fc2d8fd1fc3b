"""Estimates: seed 004's formulas and worked examples, history parsing, totals."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import estimate as est


def test_seed_time_example() -> None:
    # seed 004: 10,000 × 0.8 ÷ 4 = 2,000 steps; ÷ 4.34 it/s ≈ 460 s per epoch; 2 epochs
    seconds, steps = est.train_seconds(8000, 4, 1, 2, 4.34, 0)
    assert steps == 2000
    assert seconds == pytest.approx(2 * 2000 / 4.34)
    assert round(seconds / 2) == 461
    # gradient accumulation divides the optimizer steps
    assert est.steps_per_epoch(8000, 4, 2) == 1000


def test_seed_eval_example() -> None:
    # seed 004: 10 it/s training, 1000 test samples, batch 16 → 62.5 s ≈ 1 minute
    assert est.eval_job_seconds(1000, 16, 10.0, 999) == pytest.approx(
        (1000 / 16) / 25 + 60)
    assert est.eval_job_seconds(None, 16, 10.0, 150.0) == 150.0


def test_seed_disk_example() -> None:
    # seed 004: 2 runs × 2 epochs × 2.4 + 2 × 2 × 6.1 + 20 evals × 0.01, + 15 %
    total = (est.disk_gib(4, 2.4, 0) + est.disk_gib(4, 6.1, 0) + est.disk_gib(0, 0, 20))
    assert total == pytest.approx((9.6 + 24.4 + 0.2) * 1.15)
    assert round(total, 1) == 39.3


def test_no_data_guesses_per_epoch() -> None:
    seconds, steps = est.train_seconds(None, 4, 1, 2, 10.0, 2700.0)
    assert (seconds, steps) == (5400.0, None)


def test_time_limit_has_margin_and_floor() -> None:
    assert est.job_time_limit(10) == 300
    assert est.job_time_limit(1000) == 1500
    assert est.job_time_limit(1001) == 1800


def test_batch_defaults_table() -> None:
    assert est.max_batch_size("1B", 80, False) == 16
    assert est.max_batch_size("3B", 80, True) == 4
    assert est.max_batch_size("8B", 40, False) == 2
    assert est.max_batch_size("1B", 24, True) == 1
    assert est.max_batch_size("tiny", 80, True) is None


CPU_CONFIG = """\
output_dir: {out}
model:
  _component_: torchtune.models.llama3_2.lora_llama3_2
  vocab_size: 128256
  num_layers: 2
  lora_rank: 4
tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  max_seq_len: 256
dataset:
  _component_: torchtune.datasets.alpaca_dataset
  source: json
  data_files: {data}
  packed: False
device: cpu
dtype: fp32
enable_activation_checkpointing: False
"""

# torchtune 0.6.1 lora_finetune_single_device lines (tqdm bars split on \r, its
# "Checkpoint saved in X seconds." and the "Model/Adapter checkpoint of size" lines)
# between planc's start/end lines (compiler/templates/slurm/finetune.slurm.j2)
CPU_LOG = (
    "planc: job start 1000 job=7 partition=debug gpus= gpu=\n"
    "INFO:torchtune.utils._logging:Running LoRAFinetuneRecipeSingleDevice with resolved "
    "config:\n"
    "1|1|Loss: 60.1:  25%|██▌ | 1/4 [00:02<00:06,  2.00s/it]\r"
    "1|4|Loss: 59.0: 100%|██████████| 4/4 [00:08<00:00,  2.00s/it]\n"
    "INFO:torchtune.utils._logging:Starting checkpoint save...\n"
    "INFO:torchtune.utils._logging:Model checkpoint of size 0.06 GiB saved to "
    "/o/run/epoch_0/model-00001-of-00001.bin\n"
    "INFO:torchtune.utils._logging:Adapter checkpoint of size 0.01 GiB saved to "
    "/o/run/epoch_0/adapter_model.pt\n"
    "INFO:torchtune.utils._logging:Checkpoint saved in 1.50 seconds.\n"
    "2|8|Loss: 58.0: 100%|██████████| 4/4 [00:12<00:00,  3.00s/it]\n"
    "INFO:torchtune.utils._logging:Checkpoint saved in 2.50 seconds.\n"
    "planc: tune run exited with 0\nplanc: job end 1040\n"
)


def _cpu_run(folder: Path, rows: int = 8) -> Path:
    import json

    folder.mkdir(parents=True)
    data = folder / "train.json"
    data.write_text(json.dumps([{"instruction": "Uppercase", "input": "x" * 36,
                                 "output": "X" * 36}] * rows), "utf-8")
    (folder / "finetune.yaml").write_text(
        CPU_CONFIG.format(out=folder / "output", data=data), "utf-8")
    (folder / "slurm-7.out").write_text(CPU_LOG, "utf-8")
    (folder / "output" / "logs").mkdir(parents=True)
    (folder / "output" / "logs" / "log_1.txt").write_text(
        "Step 1 | loss:60.1 lr:0.0 tokens_per_second_per_gpu:10.0 \n"
        "Step 2 | loss:59.0 lr:0.0 tokens_per_second_per_gpu:30.0 \n", "utf-8")
    return folder


def test_parse_log_reads_torchtune_lines() -> None:
    from compiler.history import parse_log

    p = parse_log(CPU_LOG)
    assert p["recipe"] == "lora_finetune_single_device"
    assert p["loop_s"] == 20.0 and p["epochs"] == 2  # tqdm elapsed 8 s + 12 s
    assert (p["save_s"], p["saves"]) == (4.0, 2)
    assert p["wall_s"] == 40.0
    assert p["ckpt_gib"] == pytest.approx(0.07)
    assert p["env"]["partition"] == "debug"


def test_observation_is_keyed_by_what_the_run_recorded(tmp_path: Path) -> None:
    from compiler.history import count_tokens, read_history

    # the folder is named after a 1B run: the key still says what ran (2 layers, CPU)
    run = _cpu_run(tmp_path / "grp" / "Llama-3.2-1B-Instruct_rank4")
    hist = read_history(tmp_path)
    (o,) = hist.observations
    assert o.key.model == "lora_llama3_2(num_layers=2, vocab_size=128256)"
    assert (o.key.hardware, o.key.recipe, o.key.world_size) == (
        "cpu", "lora_finetune_single_device", 1)
    assert (o.key.dtype, o.key.activation_checkpointing, o.key.max_seq_len) == (
        "fp32", False, 256)
    per_epoch, samples = count_tokens(run / "train.json", 256)
    # 9 + 36 + 36 bytes ("Uppercase" + input + output) ÷ 4 → 21 tokens + 8 special
    assert (per_epoch, samples) == (8 * 29, 8)
    assert o.tokens == 2 * per_epoch
    assert o.tokens_per_s_gpu == pytest.approx(2 * per_epoch / 20.0)
    assert o.startup_s == 40.0 - 20.0 - 4.0
    assert o.logged_tps == 30.0  # the first step (warm-up) is left out
    cal = hist.calibration(o.key)
    assert cal is not None and cal.n == 1 and cal.save_each_s == 2.0
    # packing fills whole packs of max_seq_len
    assert count_tokens(run / "train.json", 100, packed=True) == (300, 8)
    # a key differing in any part has no calibration
    import dataclasses

    for field, value in [("hardware", "A100"), ("max_seq_len", 512), ("world_size", 2),
                         ("dtype", "bf16"), ("recipe", "lora_finetune_distributed")]:
        assert hist.calibration(dataclasses.replace(o.key, **{field: value})) is None


def test_token_based_estimate_uses_the_median(tmp_path: Path) -> None:
    from compiler.history import read_history

    _cpu_run(tmp_path / "a")
    _cpu_run(tmp_path / "b", rows=16)
    _cpu_run(tmp_path / "c", rows=32)
    hist = read_history(tmp_path)
    key = hist.observations[0].key
    tps = sorted(o.tokens_per_s_gpu for o in hist.observations)[1]
    speeds = est.speeds_for("tiny", hist, None, key, tokens_per_epoch=1000)
    e = est.estimate_run(speeds, fine_tuned=True, train_samples=None, test_samples=None,
                         batch_size=2, grad_accum=1, epochs=3, evaluations=0, gpus=0,
                         eval_gpus=0)
    assert e.basis == "history" and e.tokens_per_epoch == 1000
    assert e.train_seconds == pytest.approx(round(3000 / tps + 16.0 + 3 * 2.0, 1))
    assert e.calibration.startswith("3 prior run(s): lora_llama3_2(")
    none = est.speeds_for("tiny", hist, 0.5, dataclasses_replace(key, hardware="H100"))
    assert none.basis == "plan" and none.calibration is None


def dataclasses_replace(obj, **kw):  # noqa: ANN001, ANN201 — test helper
    import dataclasses

    return dataclasses.replace(obj, **kw)


def test_cpu_history_under_a_1b_folder_changes_no_1b_estimate(tmp_path: Path) -> None:
    """Issue 14's regression: a 2-layer CPU test run stored under
    ``Llama-3.2-1B-Instruct_rank4`` set the 1B disk estimate to 0.1 GiB and shortened
    ``#SBATCH --time`` from 02:15:00 to 01:10:00."""
    from compiler.config import Settings
    from compiler.document import load
    from compiler.expand import Options
    from compiler.history import read_history
    from compiler.spec import expand_document

    from .conftest import ROOT, run_planc

    _cpu_run(tmp_path / "hist" / "Llama-3.2-1B-Instruct_rank4")
    hist = read_history(tmp_path / "hist")
    assert len(hist.observations) == 1
    plan = ROOT / "plans" / "cap_8L_llama32_lora_comparison" / "runs_plan.md"
    doc = load(plan)
    plain, _ = expand_document(doc, Settings(root=ROOT), Options())
    doc = load(plan)
    learned, _ = expand_document(doc, Settings(root=ROOT), Options(history=hist))
    for a, b in zip(plain.runs, learned.runs, strict=True):
        assert a.estimate == b.estimate, a.name
        assert a.train.time == b.train.time and a.eval.time == b.eval.time
        assert b.estimate.calibration == "no calibration"
    one = next(r for r in learned.fine_tuned if r.name == "Llama-3.2-1B-Instruct_rank4")
    assert one.estimate.disk_gib > 1.0
    # and through the CLI: the compiled script keeps its limit
    outs = []
    for extra in ([], ["--history", str(tmp_path / "hist")]):
        out = tmp_path / f"out{len(extra)}"
        proc = run_planc("compile", "--out", str(out), *extra, str(plan))
        assert proc.returncode == 0, proc.stderr
        outs.append((out / plain.group / one.name / "finetune.slurm").read_text("utf-8"))
    times = [next(ln for ln in o.splitlines() if ln.startswith("#SBATCH --time=")) for o in outs]
    assert times[0] == times[1]
    # the issue's exact figures: the plan without its stated speeds (seed 004's 45 min per
    # 1B epoch × 2 epochs × 1.5) keeps 02:15:00 with that history, not 01:10:00
    text = plan.read_text("utf-8").replace(", speed=0.8 it/s", "").replace(
        ", speed=0.75 it/s", "")
    seedplan = tmp_path / "seedplan" / "runs_plan.md"
    seedplan.parent.mkdir()
    seedplan.write_text(text, "utf-8")
    for extra in ([], ["--history", str(tmp_path / "hist")]):
        out = tmp_path / f"seed{len(extra)}"
        proc = run_planc("compile", "--out", str(out), *extra, str(seedplan), cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
        script = (out / plain.group / one.name / "finetune.slurm").read_text("utf-8")
        assert "#SBATCH --time=02:15:00" in script.splitlines()


def test_mape() -> None:
    from compiler.history import mape

    assert mape([(110, 100), (80, 100), (100, 100)]) == pytest.approx(10.0)
    assert mape([(1, 0)]) is None


def test_estimate_ledger_mape_per_stage_kind_and_key() -> None:
    from compiler.results import estimate_ledger, render_ledger

    ev_a = "evaluation · lora_llama3_2_1b · A100 · cap"
    no_cal = "no calibration · seed 004 default"
    status = {"runs": {
        "a": {"finetune": {"status": "completed", "estimate_s": 110.0, "elapsed_s": 100.0},
              "evaluations": {"t_epoch_0": {"estimate_s": 60.0, "elapsed_s": 50.0,
                                            "estimate_key": ev_a},
                              "u_epoch_0": {"estimate_s": 90.0, "elapsed_s": 100.0,
                                            "estimate_key": no_cal}}},
        "b": {"finetune": {"status": "completed", "estimate_s": 70.0, "elapsed_s": 100.0},
              "evaluations": {"t_epoch_0": {"estimate_s": 40.0, "elapsed_s": 50.0,
                                            "estimate_key": ev_a},
                              "u_epoch_0": {"estimate_s": 130.0, "elapsed_s": 100.0,
                                            "estimate_key": no_cal}}},
        "c": {"finetune": {"status": "completed", "estimate_s": 50.0, "elapsed_s": 100.0,
                           "estimate_key": "k|1"},
              "evaluations": {"t_epoch_0": {"estimate_s": 40.0, "elapsed_s": 50.0}}},
        "d": {"finetune": {"status": "pending", "estimate_s": 70.0}}}}
    rows = estimate_ledger(status)
    assert rows == [
        {"stage": "evaluation", "key": ev_a, "n": 2, "mape": pytest.approx(20.0)},
        {"stage": "evaluation", "key": no_cal, "n": 2, "mape": pytest.approx(20.0)},
        {"stage": "evaluation", "key": "—", "n": 1, "mape": pytest.approx(20.0)},
        {"stage": "finetune", "key": "k|1", "n": 1, "mape": pytest.approx(50.0)},
        {"stage": "finetune", "key": "—", "n": 2, "mape": pytest.approx(20.0)}]
    text = render_ledger(rows)
    assert "| stage | key | pairs | MAPE |" in text
    assert f"| evaluation | {ev_a} | 2 | 20.0 % |" in text
    assert "| finetune | k\\|1 | 1 | 50.0 % |" in text  # a | in a key stays in its cell


def test_evaluation_stages_record_the_key_their_estimate_came_from(tmp_path: Path) -> None:
    """Issue 14's ledger per key for evaluations: compile writes each evaluation stage's
    ``estimate_key`` — the prior inspect-ai logs (model · hardware · task) it was learned
    from, else which formula and speed gave it."""
    import yaml

    from compiler import history as hist

    proj = _tiny_project(tmp_path)
    group = _compile_tiny(proj, tmp_path / "plain", "per-run")
    runs = yaml.safe_load((group / "runs_status.yaml").read_text("utf-8"))["runs"]
    ev = runs["tiny-llama_rank4"]["evaluations"]
    assert list(ev) == ["capitalize_epoch_1"]
    # the plan states neither a speed nor a test split: seed 004's per-size eval time
    assert ev["capitalize_epoch_1"]["estimate_key"] == "no calibration · seed 004 default"
    assert ev["capitalize_epoch_1"]["estimate_s"] == est.SIZE_DEFAULTS["tiny"]["eval_job_s"]
    assert runs["tiny-llama_rank4"]["finetune"]["estimate_key"].startswith("lora_llama3_2(")

    # with prior evaluations of this model's task on this hardware: their median and key
    model = "lora_llama3_2(" + runs["tiny-llama_rank4"]["finetune"]["estimate_key"].split(
        "(", 1)[1].split(")", 1)[0] + ")"
    h = hist.History(evals=[hist.EvalObservation("x", "capitalize", "cpu", s, model)
                            for s in (30.0, 40.0, 90.0)]
                     + [hist.EvalObservation("y", "capitalize", "cpu", 500.0, "other()"),
                        hist.EvalObservation("z", "capitalize", "A100", 500.0, model)])
    from compiler.config import load_settings
    from compiler.expand import Options
    from compiler.pipeline import compile_plan

    settings, _ = load_settings(proj)
    res = compile_plan(proj / "learn.md", settings, out=tmp_path / "learned",
                       options=Options(history=h))
    runs = yaml.safe_load((res.group_dir / "runs_status.yaml").read_text("utf-8"))["runs"]
    stage = runs["tiny-llama_rank8"]["evaluations"]["capitalize_epoch_1"]
    assert stage["estimate_s"] == 40.0
    assert stage["estimate_key"] == hist.eval_label(model, "cpu", "capitalize") == (
        f"evaluation · {model} · cpu · capitalize")

    # a stated speed and test split: the seed formula, keyed by where the speed came from
    e = est.estimate_run(est.speeds_for("tiny", None, 2.0), fine_tuned=False,
                         train_samples=None, test_samples=50, batch_size=5, grad_accum=1,
                         epochs=1, evaluations=1, gpus=0, eval_gpus=0)
    assert e.eval_key == "no calibration · stated it/s × 2.5"
    assert e.eval_job_seconds == round(10 / 5.0 + 60.0, 1)
    assert est.estimate_run(est.speeds_for("tiny", None, 2.0), fine_tuned=False,
                            train_samples=None, test_samples=50, batch_size=5, grad_accum=1,
                            epochs=1, evaluations=0, gpus=0, eval_gpus=0).eval_key == ""


def test_learning_from_1000_folders_is_under_2_s() -> None:
    import importlib.util
    import sys

    from .conftest import ROOT

    spec = importlib.util.spec_from_file_location("estimate_bench",
                                                  ROOT / "bench" / "estimate_bench.py")
    bench = importlib.util.module_from_spec(spec)
    sys.modules["estimate_bench"] = bench
    spec.loader.exec_module(bench)
    s = bench.speed(1000, 1)
    assert s["learn_s"] < 2.0, s
    # array groups whose logs sit at the group level: every run still learned (the bench
    # asserts 1,000 observations), as fast
    a = bench.speed(1000, 1, array=True)
    assert a["learn_s"] < 2.0, a


def test_eval_time_comes_from_prior_inspect_logs(tmp_path: Path) -> None:
    """Evaluation time is the median duration of prior inspect-ai logs of the task on the
    same hardware (``read_eval_log(header_only=True)``: stats.started_at → completed_at)."""
    import importlib.util
    import sys

    from .conftest import ROOT

    pytest.importorskip("inspect_ai")
    spec = importlib.util.spec_from_file_location("harvest_bench",
                                                  ROOT / "bench" / "harvest_bench.py")
    hb = importlib.util.module_from_spec(spec)
    sys.modules["harvest_bench"] = hb
    spec.loader.exec_module(hb)
    log = hb.real_log(tmp_path, "eval")
    run = _cpu_run(tmp_path / "hist" / "r1")
    logs = run / "eval" / "capitalize_epoch_0" / "logs"
    logs.mkdir(parents=True)
    log.rename(logs / log.name)
    from inspect_ai.log import read_eval_log

    from compiler.history import read_history

    header = read_eval_log(str(logs / log.name), header_only=True)
    from datetime import datetime

    took = (datetime.fromisoformat(header.stats.completed_at)
            - datetime.fromisoformat(header.stats.started_at)).total_seconds()
    hist = read_history(tmp_path / "hist")
    (ev,) = hist.evals
    assert (ev.task, ev.hardware, ev.seconds) == ("capitalize", "cpu", took)
    assert ev.model == hist.observations[0].key.model  # from the run's own finetune.yaml
    assert hist.eval_seconds("capitalize", "cpu", ev.model) == took
    assert hist.eval_seconds("capitalize", "cpu", "lora_llama3_2_1b") is None
    assert hist.eval_seconds("capitalize", "cpu") == took
    assert hist.eval_seconds("capitalize", "A100") is None
    speeds = est.speeds_for("tiny", hist, 1.0, None)
    e = est.estimate_run(speeds, fine_tuned=False, train_samples=None, test_samples=5,
                         batch_size=1, grad_accum=1, epochs=1, evaluations=2, gpus=0,
                         eval_gpus=0, eval_job_s=hist.eval_seconds("capitalize", "cpu"))
    assert e.eval_job_seconds == round(took, 1) and e.eval_seconds == round(2 * took, 1)


def test_site_plan_page_shows_the_estimate_error_per_key(tmp_path: Path) -> None:
    import shutil

    import yaml

    from compiler import site
    from compiler.config import Settings

    from .conftest import ROOT, run_planc

    plans = tmp_path / "plans"
    shutil.copytree(ROOT / "plans" / "cap_8L_llama32_lora_comparison",
                    plans / "cap_8L_llama32_lora_comparison")
    build = tmp_path / "build"
    plan = plans / "cap_8L_llama32_lora_comparison" / "runs_plan.md"
    assert run_planc("compile", "--out", str(build), str(plan), cwd=ROOT).returncode == 0
    (group,) = [p for p in build.iterdir() if p.is_dir()]
    status_file = group / "runs_status.yaml"
    data = yaml.safe_load(status_file.read_text("utf-8"))
    ft = data["runs"]["Llama-3.2-1B-Instruct_rank4"]["finetune"]
    ft.update(status="completed", elapsed_s=ft["estimate_s"] * 1.25)
    status_file.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    views = site.collect(Settings(root=ROOT), plans, build)
    view = next(v for v in views if v.group == group.name)
    assert view.ledger == [{"stage": "finetune", "key": ft["estimate_key"], "n": 1,
                            "mape": pytest.approx(20.0)}]
    pages = site.render_pages(views, ())
    page = next(t for k, t in pages.items() if k.endswith("/index.md") and "Estimate error" in t)
    assert f"| finetune | {ft['estimate_key']} | 1 | 20.0 % |" in page


def _tiny_project(root: Path) -> Path:
    """A planc project compiling bench/estimate_bench.py's tiny CPU plan (2-layer llama3_2,
    32 alpaca rows, LoRA ranks 4 and 8) for the CI SLURM profile, without model weights
    (compiling reads none)."""
    import importlib.util
    import json
    import sys

    from .conftest import ROOT

    spec = importlib.util.spec_from_file_location("estimate_bench",
                                                  ROOT / "bench" / "estimate_bench.py")
    bench = importlib.util.module_from_spec(spec)
    sys.modules["estimate_bench"] = bench
    spec.loader.exec_module(bench)
    assets = root / "assets"
    (assets / "ckpt").mkdir(parents=True)
    (assets / "data32.json").write_text(json.dumps({"train": bench._rows(32)}), "utf-8")
    proj = root / "proj"
    (proj / "clusters").mkdir(parents=True)
    (proj / "clusters" / "ci-slurm.yaml").write_text(
        (ROOT / "clusters" / "ci-slurm.yaml").read_text("utf-8"), "utf-8")
    (proj / "pyproject.toml").write_text(
        '[tool.planc]\nignore = ["RG002"]\nmodels = "models.yaml"\n', "utf-8")
    (proj / "models.yaml").write_text(bench.MODELS, "utf-8")
    (proj / "tasks").mkdir()
    (proj / "tasks" / "capitalize.py").write_text(bench.TASK, "utf-8")
    (proj / "learn.md").write_text(bench.PLAN.format(
        group="learn", ranks="[4, 8]", assets=assets, data=assets / "data32.json", rows=32),
        "utf-8")
    return proj


def _compile_tiny(proj: Path, out: Path, layout: str) -> Path:
    from compiler.config import load_settings
    from compiler.expand import Options
    from compiler.pipeline import compile_plan

    settings, _diags = load_settings(proj)
    res = compile_plan(proj / "learn.md", settings, out=out,
                       options=Options(layout=layout))
    assert res.report is not None, [d.message for d in res.diagnostics]
    return res.group_dir


def test_array_group_logs_calibrate_like_per_run_ones(tmp_path: Path) -> None:
    """Issue 14: an array group's fine-tunes are learned from exactly as per-run ones. The
    log SLURM writes at the group level (``finetune_array.slurm``'s ``--output``) is
    attributed to its run through ``array_index.tsv``, never through a folder name."""
    import dataclasses

    from compiler import layout
    from compiler.backends.slurm import read_directives
    from compiler.history import read_history

    proj = _tiny_project(tmp_path)
    per_run = _compile_tiny(proj, tmp_path / "per-run", "per-run")
    array = _compile_tiny(proj, tmp_path / "array", "array")
    rows = layout.parse_array_index((array / layout.ARRAY_INDEX).read_text("utf-8"))
    (idx, run, kind) = next(r for r in rows if r[1] == "tiny-llama_rank8")
    assert kind == "fine-tuned" and (per_run / run / "finetune.yaml").is_file()
    log = CPU_LOG.replace("job=7", f"job=41_{idx}")
    # per-run layout: sbatch's slurm-<job>.out in the run folder
    (per_run / run / "slurm-41.out").write_text(log, "utf-8")
    # array layout: where the compiled array script's #SBATCH lines send element idx
    script = (array / layout.FINETUNE_ARRAY).read_text("utf-8")
    d = read_directives(script)
    assert d["output"] == "logs/%x_%A_%a.out" and d["job-name"] == "ft-learn"
    (array / "logs").mkdir()
    (array / "logs" / f"ft-learn_41_{idx}.out").write_text(log, "utf-8")
    # logs nothing attributes: an index without a row, a control row, another array's
    # element, a name of no array element, an undecodable file
    (array / "logs" / "ft-learn_41_77.out").write_text(log, "utf-8")
    (array / "logs" / "eval-x_41_0.out").write_text(log, "utf-8")
    (array / "logs" / "notes.out").write_text(log, "utf-8")
    (array / "logs" / "ft-learn_41_.out").write_bytes(b"\xff\xfe\x00")
    (array / "slurm-41.out").write_text(log, "utf-8")

    (a,) = read_history(per_run).observations
    (b,) = read_history(array).observations
    assert b.path == str(array / run)
    assert b.key == a.key and b.key.model == "lora_llama3_2(" + a.key.model.split("(")[1]
    assert (b.key.hardware, b.key.world_size, b.key.max_seq_len) == ("cpu", 1, 256)
    assert b.tokens_per_s_gpu is not None and b.tokens_per_s_gpu == a.tokens_per_s_gpu
    assert dataclasses.replace(b, path=a.path) == a
    assert read_history(array).calibration(b.key).tokens_per_s_gpu == a.tokens_per_s_gpu

    # sbatch's default output (no --output line): slurm-%A_%a.out in the group folder
    (array / layout.FINETUNE_ARRAY).write_text(
        "".join(ln for ln in script.splitlines(keepends=True)
                if not ln.startswith("#SBATCH --output")), "utf-8")
    (array / "logs" / f"ft-learn_41_{idx}.out").rename(array / f"slurm-41_{idx}.out")
    (c,) = read_history(array).observations
    assert dataclasses.replace(c, path=a.path) == a

    # an index file naming a folder outside the group, or unreadable, attributes nothing
    (array / layout.ARRAY_INDEX).write_text(f"{idx}\t../{run}\tfine-tuned\t-\n", "utf-8")
    assert read_history(array).observations == []
    (array / layout.ARRAY_INDEX).write_bytes(b"\xff\x00\t\n")
    assert read_history(array).observations == []
    # and a per-run log next to the run (what planc's array elements redirect to) counts
    (array / run / f"slurm-41_{idx}.out").write_text(log, "utf-8")
    (d2,) = read_history(array).observations
    assert dataclasses.replace(d2, path=a.path) == a


def test_array_logs_follow_the_scripts_output_pattern(tmp_path: Path) -> None:
    """An absolute ``--output`` (the out_root form) whose folder names the job (``%x``) and
    a zero-padded index (``%3a``) are found; a pattern without ``%a`` attributes nothing."""
    from compiler.history import array_logs

    group = tmp_path / "g"
    for run in ("r0", "r1", "base"):
        (group / run).mkdir(parents=True)
    (group / "array_index.tsv").write_text(
        "# index\trun\tkind\tconfig\n0\tr0\tfine-tuned\tr0/finetune.yaml\n"
        "1\tr1\tfine-tuned\tr1/finetune.yaml\n2\tbase\tcontrol\t-\n", "utf-8")
    logs = tmp_path / "scratch" / "ft-g" / "logs"
    logs.mkdir(parents=True)
    (group / "finetune_array.slurm").write_text(
        f"#!/bin/bash\n#SBATCH --job-name=ft-g\n#SBATCH --output={tmp_path}/scratch/%x/logs/"
        "%x_%A_%3a.out\n#SBATCH --array=0-1\nset -e\n", "utf-8")
    for name in ("ft-g_5_001.out", "ft-g_5_000.out", "ft-g_6_001.out", "ft-g_5_002.out",
                 "ft-h_5_000.out", "ft-g_5_1.out.bak"):
        (logs / name).write_text("x", "utf-8")
    got = {k: sorted(p.name for p in v) for k, v in array_logs(group).items()}
    assert got == {str(group / "r0"): ["ft-g_5_000.out"],
                   str(group / "r1"): ["ft-g_5_001.out", "ft-g_6_001.out"]}
    (group / "finetune_array.slurm").write_text(
        "#!/bin/bash\n#SBATCH --output=logs/%j.out\nset -e\n", "utf-8")
    assert array_logs(group) == {}
    (group / "finetune_array.slurm").unlink()
    assert array_logs(group) == {}
