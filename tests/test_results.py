"""Harvesters over real logs: inspect-ai logs produced here by a real offline eval
(``planc/upper``, ``planc/error``), torchtune console and DiskLogger text from
``tests/data/torchtune/`` (``doc/``: the lines of toolchain.md §3.2 verbatim apart from
paths, progress updates separated by ``\\r``; ``real/``: a real tiny CPU LoRA run captured on
the dev machine, with ``\\x1b[A`` codes from the 2nd epoch), plus ``planc results`` on a
hand-made group.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from compiler import results, tracker
from tests.conftest import ROOT, need_or_skip, run_planc

DATA = ROOT / "tests" / "data" / "torchtune"
REAL_STEPS = [
    (1, 58.748985290527344), (2, 58.54385757446289), (3, 58.0101203918457),
    (4, 57.36518859863281), (5, 53.80311584472656), (6, 52.99361801147461),
    (7, 52.39105224609375), (8, 51.86614227294922),
]

TASK = '''
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import match
from inspect_ai.solver import generate


@task
def capitalize():
    words = ["hello", "world", "lora", "tune", "mixed"]
    # one deliberate miss: the target of "mixed" is not its uppercase form
    data = [Sample(input=f"Uppercase this word: {w}", id=w,
                   target="MiXED" if w == "mixed" else w.upper()) for w in words]
    return Task(dataset=data, solver=[generate()],
                scorer=match(location="exact", ignore_case=False))
'''


# --------------------------------------------------------------------------- torchtune text

def _raw(name: str) -> str:
    """A fixture's text with its carriage returns (``read_text`` would turn them into ``\\n``)."""
    return (DATA / name).read_bytes().decode("utf-8")


def test_console_lines_strip_ansi_and_split_on_carriage_returns():
    text = "a\r1|1|Loss: 2.0:  25%| 1/4 [00:01<00:03,  1.00it/s]\x1b[A\rb\n\nc"
    assert results.console_lines(text) == [
        "a", "1|1|Loss: 2.0:  25%| 1/4 [00:01<00:03,  1.00it/s]", "b", "c"]


def test_doc_console_fixture():
    facts = results.parse_torchtune_console(_raw("doc/console.out"))
    assert facts["recipe"] == "LoRAFinetuneRecipeSingleDevice"
    assert facts["disk_log"] == "/abs/out/logs/log_1795287795.txt"
    assert facts["it_per_s"] == 1.29  # the last tqdm speed, glued to "Starting checkpoint save..."
    assert facts["global_step"] == 4
    assert facts["last_loss"] == 57.2487907409668
    assert facts["epochs"] == 1
    assert facts["steps_per_epoch"] == 4
    assert facts["peak_memory_gib"] is None  # CPU: memory stats are switched off
    assert facts["checkpoints"] == [
        {"kind": "model", "gib": 0.03, "path": "/abs/out/epoch_0/model-00001-of-00001.bin",
         "epoch": 0},
        {"kind": "adapter", "gib": 0.0, "path": "/abs/out/epoch_0/adapter_model.pt", "epoch": 0},
        {"kind": "recipe", "gib": 0.0, "path": "/abs/out/recipe_state/recipe_state.pt",
         "epoch": None},
    ]
    assert facts["checkpoint_save_s"] == [0.11]


def test_s_per_it_is_inverted_when_it_is_the_last_speed():
    text = _raw("doc/console.out").split("\r1|4|")[0]
    assert results.parse_torchtune_console(text)["it_per_s"] == pytest.approx(1 / 1.88)


def test_real_console_fixture_with_cursor_up_codes():
    raw = _raw("real/console.out")
    assert "\x1b[A" in raw and "\r" in raw
    facts = results.parse_torchtune_console(raw)
    assert facts["epochs"] == 2
    assert facts["global_step"] == 8
    assert facts["last_loss"] == 51.86614227294922
    assert facts["it_per_s"] == pytest.approx(1 / 2.61)  # "2.61s/it" is the last speed
    assert [c["epoch"] for c in facts["checkpoints"]] == [0, 0, None, 1, 1]
    assert facts["checkpoint_save_s"] == [0.03, 0.11]
    # the progress bar shows the same per-step losses the DiskLogger wrote
    assert facts["progress_curve"] == [[s, v] for s, v in REAL_STEPS]
    assert facts["wandb"] == {}
    slurm = results.parse_slurm_out(raw)
    assert slurm == {"it_per_s": pytest.approx(1 / 2.61), "real_s": 27.44, "exit_code": None,
                     "job_s": None}


def test_wandb_run_summary_fills_what_a_disk_log_would(tmp_path):
    console = tmp_path / "slurm-9.out"
    console.write_text(
        "\r1|1|Loss: 2.5:  50%|█  | 1/2 [00:01<00:01,  1.00it/s]"
        "\r1|2|Loss: 2.25: 100%|██| 2/2 [00:02<00:00,  1.25it/s]\n"
        "wandb: Run history:\nwandb:   global_step ▁█\nwandb:          loss █▁\nwandb: \n"
        "wandb: Run summary:\nwandb:                 global_step 2\n"
        "wandb:                        loss 2.25\n"
        "wandb:          peak_memory_alloc 3.5\n"
        "wandb:   tokens_per_second_per_gpu 812.3\nwandb: \n"
        "wandb: You can sync this run to the cloud by running:\n", "utf-8")
    facts = results.parse_torchtune_console(console.read_text())
    assert facts["wandb"] == {"global_step": 2, "loss": 2.25, "peak_memory_alloc": 3.5,
                              "tokens_per_second_per_gpu": 812.3}
    tr = results.harvest_torchtune(tmp_path / "out", console)  # no output folder at all
    assert tr["loss_curve"] == [[1, 2.5], [2, 2.25]]
    assert (tr["tokens_per_second"], tr["peak_memory_gib"]) == (812.3, 3.5)
    assert (tr["steps"], tr["final_loss"], tr["it_per_s"]) == (2, 2.25, 1.25)
    assert tr["checkpoint_gib"] == {} and tr["log"] is None


def test_gpu_memory_lines_both_torchtune_forms():
    old = ("Memory stats after model init:\n\tGPU peak memory allocation: 2.41 GiB\n"
           "\tGPU peak memory reserved: 2.42 GiB\n\tGPU peak memory active: 2.35 GiB\n")
    new = ("INFO:torchtune.utils._logging:Memory stats after model init:\n"
           "\tGPU peak memory active: 3.10 GiB\n\tGPU peak memory alloc: 3.50 GiB\n"
           "\tGPU peak memory reserved: 3.75 GiB\n")
    facts = results.parse_torchtune_console(old + new)
    assert facts["peak_memory_gib"] == 3.5
    assert facts["peak_memory"] == {"alloc": 3.5, "reserved": 3.75, "active": 3.1}
    assert results.parse_torchtune_console(old)["peak_memory_gib"] == 2.41


def _out_dir(tmp_path: Path, epochs: bool = True) -> Path:
    out = tmp_path / "out"
    (out / "logs").mkdir(parents=True)
    shutil.copy(DATA / "real/logs/log_1795289102.txt", out / "logs")
    if epochs:
        for n, size in ((0, 3 * 2**20), (1, 5 * 2**20)):
            (out / f"epoch_{n}").mkdir()
            (out / f"epoch_{n}" / "model-00001-of-00001.bin").write_bytes(b"\0" * size)
    (out / "recipe_state").mkdir()
    return out


def test_harvest_torchtune_real_run(tmp_path):
    out = _out_dir(tmp_path)
    tr = results.harvest_torchtune(out, DATA / "real/console.out")
    assert tr["loss_curve"] == [[s, v] for s, v in REAL_STEPS]
    assert tr["final_loss"] == 51.86614227294922
    assert tr["steps"] == 8
    assert tr["epochs"] == 2
    assert tr["tokens_per_second"] == 133.58021545410156
    assert tr["duration_s"] == 27.44  # `real` of /usr/bin/time -p
    assert tr["duration_source"] == "time -p"
    assert tr["it_per_s"] == pytest.approx(1 / 2.61)
    assert tr["peak_memory_gib"] is None
    assert tr["checkpoint_gib"] == {"0": round(3 / 1024, 4), "1": round(5 / 1024, 4)}
    assert tr["checkpoint_save_s"] == [0.03, 0.11]
    assert tr["log"] == str(out / "logs/log_1795289102.txt")
    assert tr["console"] == str(DATA / "real/console.out")
    json.dumps(tr, allow_nan=False)


def test_checkpoint_sizes_from_log_lines_without_epoch_folders(tmp_path):
    out = _out_dir(tmp_path, epochs=False)
    tr = results.harvest_torchtune(out, DATA / "real/console.out")
    assert tr["checkpoint_gib"] == {"0": 0.03, "1": 0.03}  # model 0.03 + adapter 0.00
    assert tr["epochs"] == 2  # from the progress bar


def test_newest_non_empty_disk_log_wins(tmp_path):
    out = _out_dir(tmp_path, epochs=False)
    logs = out / "logs"
    shutil.copy(DATA / "doc/log_1795287795.txt", logs)
    (logs / "log_1795299999.txt").write_text("")  # a failed rerun: empty, and newest
    os.utime(logs / "log_1795289102.txt", (1000, 1000))
    os.utime(logs / "log_1795287795.txt", (2000, 2000))
    os.utime(logs / "log_1795299999.txt", (3000, 3000))
    assert results.newest_disk_log(logs) == logs / "log_1795287795.txt"
    tr = results.harvest_torchtune(out)
    assert tr["loss_curve"] == [[1, 58.78078842163086], [8, 51.8778076171875]]
    assert tr["tokens_per_second"] == 1051.9259033203125
    assert tr["it_per_s"] is None and tr["console"] is None


def test_only_empty_disk_logs_fall_back_to_console(tmp_path):
    out = tmp_path / "out"
    (out / "logs").mkdir(parents=True)
    (out / "logs" / "log_1795287795.txt").write_text("")
    tr = results.harvest_torchtune(out, DATA / "doc/console.out")
    assert tr["log"] is None
    assert tr["loss_curve"] == [[1, 58.78078842163086], [4, 57.2487907409668]]
    assert tr["loss_curve_source"] == "progress bar"
    assert tr["final_loss"] == 57.2487907409668
    assert tr["steps"] == 4
    assert tr["duration_s"] is None


def test_duration_from_disk_log_name_and_mtime(tmp_path):
    out = _out_dir(tmp_path, epochs=False)
    log = out / "logs/log_1795289102.txt"
    os.utime(log, (1795289102 + 21, 1795289102 + 21))
    tr = results.harvest_torchtune(out)
    assert (tr["duration_s"], tr["duration_source"]) == (21, "disk log")


def test_group_prefers_the_local_jobs_elapsed_time(tmp_path):
    """A local run has no `real` line; the runner's elapsed_s beats the DiskLogger estimate."""
    group = tmp_path / "grp"
    out = _out_dir(tmp_path, epochs=False)
    os.utime(out / "logs/log_1795289102.txt", (1795289102 + 21, 1795289102 + 21))
    (group / "r").mkdir(parents=True)
    (group / "r" / "finetune.yaml").write_text(yaml.safe_dump({"output_dir": str(out)}))
    (group / "r" / "local-finetune.out").write_text(_raw("doc/console.out"))
    data = {"schema_version": 1, "run_group": "grp", "runs": {"r": {"finetune": {
        **tracker.stage("completed"), "output": "r/local-finetune.out", "elapsed_s": 42.5}}}}
    (group / "runs_status.yaml").write_text(tracker.dump(data))
    tr = results.harvest_group(group)["runs"]["r"]["training"]
    assert (tr["duration_s"], tr["duration_source"]) == (42.5, "job")
    assert tr["console"] == str(group / "r" / "local-finetune.out")
    assert tr["steps"] == 8 and tr["it_per_s"] == 1.29


def test_harvest_slurm_out_exit_code_and_unreadable(tmp_path):
    out = tmp_path / "slurm-12.out"
    out.write_text("1|1|Loss: 3.0:  50%| 2/4 [00:02<00:02,  2.00it/s]\nreal 12.34\nuser 3\n"
                   "planc: exit code 3\n")
    assert results.harvest_slurm_out(out) == {"it_per_s": 2.0, "real_s": 12.34, "exit_code": 3,
                                              "job_s": None, "path": str(out)}
    with pytest.raises(results.HarvestError, match="cannot read"):
        results.harvest_slurm_out(tmp_path / "missing.out")
    # the lines planc's generated scripts print (compiler/templates/slurm, local)
    for line, code in (("planc: tune run exited with 3", 3),
                       ("planc: inspect eval exited with 0", 0),
                       ("planc: stage cap_epoch_1 exited with 4", 4)):
        assert results.parse_slurm_out(f"x\n{line}\n")["exit_code"] == code


def test_harvest_metrics_json(tmp_path):
    p = tmp_path / "metrics.json"
    p.write_text(json.dumps({"accuracy": 0.93, "eval": {"loss": 0.4, "name": "x"},
                             "curve": [1, 2.5], "mixed": [1, "a"], "ok": True}))
    assert results.harvest_metrics_json(p) == {"accuracy": 0.93, "eval.loss": 0.4,
                                               "eval.name": "x", "curve": [1, 2.5], "ok": True}
    p.write_text('{"loss": NaN}')
    assert results.harvest_metrics_json(p) == {"loss": None}
    p.write_text('{"a": 1,\n "b": }')
    with pytest.raises(results.HarvestError, match=r"metrics.json:2:7: not valid JSON"):
        results.harvest_metrics_json(p)
    p.write_text("[1, 2]")
    with pytest.raises(results.HarvestError, match="expected a JSON object"):
        results.harvest_metrics_json(p)


# --------------------------------------------------------------------------- inspect-ai

@pytest.fixture(scope="module")
def eval_logs(tmp_path_factory):
    """Real inspect-ai logs: planc/upper in .eval and .json format, planc/error in .eval."""
    need_or_skip(importlib.util.find_spec("inspect_ai") is not None,
                 "inspect-ai is not installed (pip install -e '.[test]')")
    from inspect_ai import eval as inspect_eval

    root = tmp_path_factory.mktemp("inspect")
    (root / "task.py").write_text(TASK)
    logs: dict[str, Path] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(root / "home"))  # inspect writes user state under $HOME
        mp.setenv("INSPECT_LOG_LEVEL", "warning")
        for name, model, fmt in (("upper_eval", "planc/upper", "eval"),
                                 ("upper_json", "planc/upper", "json"),
                                 ("error_eval", "planc/error", "eval"),
                                 ("torchtune_missing", "planc/torchtune", "eval")):
            out = inspect_eval(f"{root / 'task.py'}@capitalize", model=model,
                               model_args={"model_path": str(root / "no" / "epoch_0")},
                               log_dir=str(root / name), log_format=fmt, display="none")
            logs[name] = Path(out[0].location)
    return logs


@pytest.mark.parametrize("name", ["upper_eval", "upper_json"])
def test_harvest_inspect_success(eval_logs, name):
    ev = results.harvest_inspect(eval_logs[name])
    assert ev["task"] == "capitalize"
    assert ev["model"] == "planc/upper"
    assert ev["status"] == "success"
    assert ev["samples"] == 5 and ev["completed_samples"] == 5
    assert set(ev["scores"]) == {"match"}
    assert ev["scores"]["match"]["accuracy"] == pytest.approx(0.8)
    assert ev["scores"]["match"]["stderr"] == pytest.approx(0.2)
    assert ev["headline"] == {"scorer": "match", "metric": "accuracy",
                              "value": pytest.approx(0.8)}
    assert ev["error"] is None
    assert ev["duration_s"] is not None and 0 <= ev["duration_s"] < 60
    assert ev["log"] == str(eval_logs[name])
    assert eval_logs[name].suffix == "." + name.split("_")[1]


def test_harvest_inspect_error_log(eval_logs):
    ev = results.harvest_inspect(eval_logs["error_eval"])
    assert ev["status"] == "error"
    assert "deliberate failure" in ev["error"]
    assert ev["scores"] == {} and ev["headline"] is None
    assert ev["samples"] == 5 and ev["completed_samples"] == 0


def test_torchtune_model_without_a_checkpoint_is_an_error_log(eval_logs):
    ev = results.harvest_inspect(eval_logs["torchtune_missing"])
    assert ev["status"] == "error"
    assert "planc/torchtune: no resolved config at" in ev["error"]
    assert ev["model"] == "planc/torchtune"


def test_harvest_inspect_unreadable(tmp_path):
    need_or_skip(importlib.util.find_spec("inspect_ai") is not None, "inspect-ai is not installed")
    bad = tmp_path / "broken.eval"
    bad.write_bytes(b"not a zip")
    with pytest.raises(results.HarvestError, match="not a readable inspect-ai log"):
        results.harvest_inspect(bad)


def test_importing_results_does_not_import_inspect():
    import subprocess
    import sys

    code = "import sys, compiler.results; print('inspect_ai' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.strip() == "False", proc.stderr


# --------------------------------------------------------------------------- a group

def _group(tmp_path: Path, eval_logs: dict[str, Path]) -> Path:
    group = tmp_path / "grp"
    out = _out_dir(tmp_path)
    run = "tiny_rank8"
    (group / run).mkdir(parents=True)
    (group / run / "finetune.yaml").write_text(yaml.safe_dump({
        "output_dir": str(out),
        "metric_logger": {"_component_": "torchtune.training.metric_logging.DiskLogger",
                          "log_dir": "${output_dir}/logs"},
        "dataset": {"_component_": "torchtune.datasets.alpaca_dataset",
                    "data_files": "/d/words.json"}}))
    shutil.copy(DATA / "real/console.out", group / run / "slurm-41.out")
    for key, log in (("cap_epoch_0", "upper_json"), ("cap_epoch_1", "upper_eval")):
        d = group / run / "eval" / key
        (d / "logs").mkdir(parents=True)
        (d / "eval.slurm").write_text(f"#!/bin/bash\n#SBATCH --job-name=eval-cap-ep{key[-1]}\n")
        shutil.copy(eval_logs[log], d / "logs")
        (d / "eval.yaml").write_text("task_script: tasks/cap.py\ndata_path: null\n")
    base = group / "tiny_base" / "eval" / "cap"
    (base / "logs").mkdir(parents=True)
    (base / "eval.slurm").write_text("#!/bin/bash\n#SBATCH --job-name=eval-cap\n")
    shutil.copy(eval_logs["error_eval"], base / "logs")
    (group / "sweep_a").mkdir()
    (group / "sweep_a" / "metrics.json").write_text('{"accuracy": 0.93, "loss": 0.2}')
    st = tracker.stage
    data = {"schema_version": 1, "run_group": "grp", "runs": {
        run: {"type": "fine-tuned",
              "finetune": {**st("completed"), "job_id": "41", "output": f"{run}/slurm-41.out"},
              "evaluations": {"cap_epoch_0": st("completed"), "cap_epoch_1": st("completed")}},
        "tiny_base": {"type": "control",
                      "finetune": st("skipped", note="Base model - no fine-tuning required"),
                      "evaluations": {"cap": {**st("failed"), "exit_code": 1}}},
        "sweep_a": {"type": "sweep", "run": st("completed")},
        "sweep_b": {"type": "sweep", "run": st("pending")},
    }}
    (group / "runs_status.yaml").write_text(tracker.dump(data))
    return group


def test_harvest_group_writes_results_and_tracker(tmp_path, eval_logs):
    group = _group(tmp_path, eval_logs)
    res = results.harvest_group(group)
    on_disk = json.loads((group / "results.json").read_text())
    assert on_disk == json.loads(json.dumps(res))
    assert res["schema_version"] == 1 and res["group"] == "grp" and res["problems"] == []
    tr = res["runs"]["tiny_rank8"]["training"]
    assert len(tr["loss_curve"]) == 8 and tr["steps"] == 8 and tr["epochs"] == 2
    assert tr["duration_s"] == 27.44
    evs = res["runs"]["tiny_rank8"]["evaluations"]
    assert {k: (v["epoch"], v["task"], v["scores"]["match"]["accuracy"]) for k, v in evs.items()} \
        == {"cap_epoch_0": (0, "capitalize", pytest.approx(0.8)),
            "cap_epoch_1": (1, "capitalize", pytest.approx(0.8))}
    assert res["runs"]["tiny_base"]["training"] is None
    assert res["runs"]["tiny_base"]["evaluations"]["cap"]["status"] == "error"
    assert res["runs"]["tiny_base"]["evaluations"]["cap"]["epoch"] is None
    assert res["runs"]["sweep_a"]["metrics"] == {"accuracy": 0.93, "loss": 0.2}
    assert res["runs"]["sweep_b"] == {"type": "sweep", "training": None, "evaluations": {},
                                      "metrics": None,
                                      "datasets": {"training": None, "evaluation": {}}}
    assert res["runs"]["tiny_rank8"]["datasets"] == {
        "training": "/d/words.json",
        "evaluation": {"cap_epoch_0": "tasks/cap.py", "cap_epoch_1": "tasks/cap.py"}}

    status = yaml.safe_load((group / "runs_status.yaml").read_text())["runs"]
    ft = status["tiny_rank8"]["finetune"]
    assert ft["status"] == "completed" and ft["job_id"] == "41"  # kept
    assert ft["results"] == {"final_loss": 51.8661, "steps": 8, "epochs": 2, "duration_s": 27.44,
                             "it_per_s": 0.383142, "tokens_per_second": 133.58}
    assert status["tiny_rank8"]["evaluations"]["cap_epoch_1"]["results"] == {
        "log_status": "success", "match.accuracy": 0.8, "match.stderr": 0.2, "samples": 5,
        "completed_samples": 5, "duration_s": evs["cap_epoch_1"]["duration_s"]}
    base = status["tiny_base"]
    assert base["finetune"] == {**tracker.stage("skipped"),
                                "note": "Base model - no fine-tuning required"}
    assert base["evaluations"]["cap"]["exit_code"] == 1
    assert base["evaluations"]["cap"]["results"]["log_status"] == "error"
    assert "deliberate failure" in base["evaluations"]["cap"]["results"]["error"]
    assert status["sweep_a"]["run"]["results"] == {"accuracy": 0.93, "loss": 0.2}
    assert "results" not in status["sweep_b"]["run"]

    # harvesting again changes nothing but the timestamps
    again = results.harvest_group(group)
    assert {k: v for k, v in again.items() if k != "generated"} == \
        {k: v for k, v in res.items() if k != "generated"}


def test_planc_results_tables(tmp_path, eval_logs):
    group = _group(tmp_path, eval_logs)
    proc = run_planc("results", str(group), env={"HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert text.startswith("**Experiment:** grp | **Generated:** ")
    assert "| **Status:** 2/4 complete" in text.splitlines()[0]
    expected = textwrap.dedent("""\
        ## Run Status

        | Run | Type | Fine-tuning | Evaluation |
        |---|---|---|---|
        | tiny_rank8 | fine-tuned | ✓ completed | ✓ 2/2 |
        | tiny_base | control | – skipped | ✗ 0/1 (1 failed) |
        | sweep_a | sweep | ✓ completed | - |
        | sweep_b | sweep | ⏸ pending | - |

        ## Training Results

        | Run | Final Loss | Total Steps | Epochs | Duration |
        |---|---|---|---|---|
        | tiny_rank8 | 51.8661 | 8 | 2 | 27.4s |

        ## Evaluation Results

        | Run | Task | Epoch | Accuracy | Bal. Acc | F1 | Sat. | Samples |
        |---|---|---|---|---|---|---|---|
        | tiny_rank8 | capitalize | 0 | 0.800 | - | - | - | 5 |
        | tiny_rank8 | capitalize | 1 | 0.800 | - | - | - | 5 |
        | tiny_base | capitalize (error) | - | - | - | - | - | 0/5 |

        **Best performing:** tiny_rank8 (capitalize, epoch 0): 0.800

        ## Metrics

        | Run | accuracy | loss |
        |---|---|---|
        | sweep_a | 0.930 | 0.200 |

        ## Datasets Used

        | Run | Training dataset | Eval dataset(s) |
        |---|---|---|
        | tiny_rank8 | /d/words.json | tasks/cap.py |

        ## Incomplete Runs

        | Run | Stage | Status | Notes |
        |---|---|---|---|
        | tiny_base | evaluations/cap | ✗ failed | exit 1 |
        | sweep_b | run | ⏸ pending | - |
        """)
    assert text.split("\n", 2)[2] == expected
    js = run_planc("results", str(group), "--json", env={"HOME": str(tmp_path)})
    assert js.returncode == 0
    assert json.loads(js.stdout)["runs"]["tiny_rank8"]["training"]["steps"] == 8


def test_planc_results_ledger_per_stage_kind_and_key(tmp_path, eval_logs):
    """Issue 14: ``planc results`` shows the estimate error (MAPE) per stage kind and
    ``estimate_key``, against the measured times it harvested (``results.duration_s``)."""
    group = _group(tmp_path, eval_logs)
    data = yaml.safe_load((group / "runs_status.yaml").read_text())
    rec = data["runs"]["tiny_rank8"]
    rec["finetune"].update(estimate_s=27.44 * 1.25, estimate_key="tiny · cpu · seq 256")
    ev_key = "evaluation · tiny · cpu · capitalize"
    # evaluations: the local runner's elapsed_s (it beats a harvested duration)
    rec["evaluations"]["cap_epoch_0"].update(estimate_s=2.5, elapsed_s=2.0,
                                             estimate_key=ev_key)
    rec["evaluations"]["cap_epoch_1"].update(estimate_s=1.0, elapsed_s=2.0,
                                             estimate_key=ev_key)
    no_cal = "no calibration · seed 004 default"
    data["runs"]["tiny_base"]["evaluations"]["cap"].update(
        estimate_s=5.0, elapsed_s=4.0, estimate_key=no_cal)
    data["runs"]["sweep_a"]["run"].update(estimate_s=9.0)  # nothing measured: left out
    (group / "runs_status.yaml").write_text(tracker.dump(data))
    proc = run_planc("results", str(group), env={"HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    ledger = proc.stdout.split("## Estimates vs measured\n", 1)[1]
    rows = [ln for ln in ledger.splitlines() if ln.startswith("| ")]
    assert rows == ["| stage | key | pairs | MAPE |",
                    f"| evaluation | {ev_key} | 2 | 37.5 % |",
                    f"| evaluation | {no_cal} | 1 | 25.0 % |",
                    "| finetune | tiny · cpu · seq 256 | 1 | 25.0 % |"]


def test_planc_results_problems_and_missing_group(tmp_path, eval_logs):
    group = _group(tmp_path, eval_logs)
    bad = group / "tiny_rank8" / "eval" / "cap_epoch_1" / "logs" / "zzz-newest.eval"
    bad.write_bytes(b"broken")
    (group / "sweep_a" / "metrics.json").write_text("{")
    proc = run_planc("results", str(group), env={"HOME": str(tmp_path)})
    assert proc.returncode == 1
    assert "warning: " in proc.stderr and "zzz-newest.eval: not a readable inspect-ai log" \
        in proc.stderr
    assert "metrics.json:1:2: not valid JSON" in proc.stderr
    res = json.loads((group / "results.json").read_text())
    assert len(res["problems"]) == 2
    assert "cap_epoch_1" not in res["runs"]["tiny_rank8"]["evaluations"]
    missing = run_planc("results", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert missing.stderr == f"planc results: {tmp_path / 'nope'}: no such group folder or plan\n"
    (tmp_path / "empty").mkdir()
    empty = run_planc("results", str(tmp_path / "empty"))
    assert empty.returncode == 2 and "no runs_status.yaml" in empty.stderr


def test_no_nan_reaches_json():
    assert results._clean(math.nan) is None and results._clean(1.5) == 1.5


def test_steps_come_from_the_progress_bar_when_the_logger_skips_steps(tmp_path):
    """With ``log_every_n_steps: 5`` the DiskLogger has only step 5 of 8."""
    out = tmp_path / "out"
    (out / "logs").mkdir(parents=True)
    (out / "logs" / "log_1795289102.txt").write_text(
        "Step 5 | loss:53.80311584472656 lr:0.0009 tokens_per_second_per_gpu:302.06 \n")
    tr = results.harvest_torchtune(out, DATA / "real/console.out")
    assert tr["loss_curve"] == [[5, 53.80311584472656]]
    assert tr["steps"] == 8
    assert tr["final_loss"] == 51.86614227294922


def test_summary_without_recorded_types_and_with_failures():
    from compiler.summary import render_summary

    status = {"runs": {
        "m_base": {"finetune": {"status": "skipped"}, "evaluations": {"t": {"status": "running",
                                                                          "job_id": "7"}}},
        "s1": {"run": {"status": "submitted", "job_id": "8"}},
        "m_rank4": {"finetune": {"status": "failed", "exit_code": 137,
                                 "reason": "OUT_OF_MEMORY"}, "evaluations": {}},
    }}
    text = render_summary({"group": "g", "generated": "t", "runs": {}}, status)
    assert "| m_base | control | – skipped | ⚙️ 0/1 (1 running) |" in text
    assert "| s1 | sweep | ⚙️ submitted | - |" in text
    assert "| m_rank4 | fine-tuned | ✗ failed | - |" in text
    assert "| m_base | evaluations/t | ⚙️ running | job 7 |" in text
    assert "| m_rank4 | finetune | ✗ failed | exit 137; OUT_OF_MEMORY |" in text
    assert "**Status:** 0/3 complete" in text
    assert "Best performing" not in text and "Datasets Used" not in text


def test_offline_model_answers():
    need_or_skip(importlib.util.find_spec("inspect_ai") is not None, "inspect-ai is not installed")
    from compiler.offline_models import OfflineModelError, respond

    assert respond("upper", "Uppercase this word: hello") == "HELLO"
    assert respond("upper", "   ") == ""
    assert respond("echo", "say this back") == "say this back"
    with pytest.raises(OfflineModelError, match="deliberate failure"):
        respond("error", "x")
    with pytest.raises(ValueError, match="unknown offline model planc/nope; use one of "
                       "planc/echo, planc/upper, planc/error, planc/torchtune"):
        respond("nope", "x")


def test_offline_provider_is_registered_by_entry_point():
    """inspect resolves models before loading a task file, so the provider must come from
    the ``inspect_ai`` entry point (toolchain.md §2.3); a fresh process proves it."""
    import subprocess
    import sys

    code = ("from inspect_ai.model import get_model\n"
            "m = get_model('planc/echo', model_path='/ignored')\n"
            "print(type(m.api).__name__, m.api.model_args)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd="/", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "PlancOfflineAPI {'model_path': '/ignored'}"


def test_sweep_summary_names_the_best_run_by_accuracy():
    from compiler.summary import render_summary

    res = {"group": "lr", "generated": "t", "runs": {
        "a1": {"type": "sweep", "metrics": {"test_accuracy": 0.947, "alpha": 0.0001,
                                            "converged": True, "curve": [1, 2]}},
        "a2": {"type": "sweep", "metrics": {"test_accuracy": 0.958, "alpha": 0.01,
                                            "converged": False}}}}
    status = {"runs": {"a1": {"run": {"status": "completed"}},
                       "a2": {"run": {"status": "completed"}}}}
    text = render_summary(res, status)
    assert "| Run | test_accuracy | alpha | converged |" in text  # lists are left out
    assert "| a1 | 0.947 | 0.0001 | yes |" in text
    assert "| a2 | 0.958 | 0.010 | no |" in text
    assert "**Best performing:** a2 (test_accuracy): 0.958" in text
    assert "**Status:** 2/2 complete" in text and "All runs complete." in text


def test_slurm_out_job_seconds_from_plancs_start_and_end_lines() -> None:
    text = ("planc: job start 1000 job=7 partition=debug gpus= gpu=\nstuff\n"
            "planc: tune run exited with 0\nplanc: job end 1042\n")
    assert results.parse_slurm_out(text)["job_s"] == 42.0
    assert results.parse_slurm_out("planc: job start 1000\n")["job_s"] is None
