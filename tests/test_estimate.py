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


SLURM_OUT = (
    "Running LoRAFinetuneRecipeSingleDevice with resolved config:\n"
    "Memory stats after model init:\n\tGPU peak memory allocation: 2.41 GiB\n"
    "\tGPU peak memory reserved: 2.42 GiB\n"
    "1|1|Loss: 1.0:   0%|  | 1/250 [00:01<05:00,  1.88s/it]\r"
    "1|40|Loss: 0.9:  16%|█▌  | 40/250 [00:19<01:44,  2.00it/s]\r"
    "1|250|Loss: 0.5: 100%|██| 250/250 [02:00<00:00,  4.34it/s]  Starting checkpoint save...\n"
    "Model checkpoint of size 2.30 GiB saved to /o/run/epoch_0/model-00001-of-00001.bin\n"
    "Adapter checkpoint of size 0.02 GiB saved to /o/run/epoch_0/adapter_model.pt\n"
    "Recipe checkpoint of size 0.05 GiB saved to /o/run/recipe_state/recipe_state.pt\n"
    "\x1b[A2|500|Loss: 0.4: 100%|██| 250/250 [02:00<00:00,  4.10it/s]\n"
    "Model checkpoint of size 2.30 GiB saved to /o/run/epoch_1/model-00001-of-00001.bin\n"
    "Adapter checkpoint of size 0.02 GiB saved to /o/run/epoch_1/adapter_model.pt\n"
)


def test_parse_slurm_log() -> None:
    it_s, peak, ckpt = est.parse_slurm_log(SLURM_OUT)
    assert it_s == pytest.approx(4.10)  # the last speed wins
    assert peak == pytest.approx(2.41)
    assert ckpt == pytest.approx(2.32)  # model + adapter per epoch, recipe state excluded
    assert est.parse_slurm_log("[00:01<00:05,  2.00s/it]")[0] == pytest.approx(0.5)


def test_read_history(tmp_path: Path) -> None:
    run = tmp_path / "grp" / "Llama-3.2-1B-Instruct_rank4"
    (run / "logs").mkdir(parents=True)
    (run / "slurm-123.out").write_text(SLURM_OUT, "utf-8")
    (run / "logs" / "log_1.txt").write_text(
        "Step 1 | loss:1.5 lr:0.001 tokens_per_second_per_gpu:200.0 \n"
        "Step 2 | loss:1.2 lr:0.001 tokens_per_second_per_gpu:400.0 \n", "utf-8")
    other = tmp_path / "grp" / "Llama-3.2-3B-Instruct_rank4"
    (other / "epoch_0").mkdir(parents=True)
    (other / "epoch_0" / "w.bin").write_bytes(b"x" * 2048)
    hist = est.read_history(tmp_path, ["Llama-3.2-1B-Instruct", "Llama-3.2-3B-Instruct"])
    by = {o.model: o for o in hist.observations}
    assert by["Llama-3.2-1B-Instruct"].it_s == pytest.approx(4.10)
    assert by["Llama-3.2-1B-Instruct"].tokens_per_second == pytest.approx(300.0)
    assert by["Llama-3.2-3B-Instruct"].ckpt_gib == pytest.approx(2048 / 2**30)
    sizes = {"Llama-3.2-1B-Instruct": "1B", "Llama-3.2-3B-Instruct": "3B",
             "Other-1B": "1B"}
    assert hist.mean("it_s", "Other-1B", "1B", sizes) == pytest.approx(4.10)  # same size
    assert hist.mean("it_s", "X-70B", "70B", sizes) is None


def test_history_changes_the_compiled_estimate(tmp_path: Path) -> None:
    from compiler.config import Settings
    from compiler.document import load
    from compiler.expand import Options
    from compiler.spec import expand_document

    from .conftest import ROOT

    run = tmp_path / "Llama-3.2-1B-Instruct_rank4"
    run.mkdir()
    (run / "slurm-1.out").write_text(SLURM_OUT, "utf-8")
    hist = est.read_history(tmp_path, ["Llama-3.2-1B-Instruct", "Llama-3.2-3B-Instruct"])
    doc = load(ROOT / "plans" / "cap_8L_llama32_lora_comparison" / "runs_plan.md")
    m, _ = expand_document(doc, Settings(root=ROOT), Options(history=hist))
    r = m.runs[0]
    assert r.estimate.from_history
    # 8,000 train ÷ 16 = 500 steps ÷ 4.10 it/s × 2 epochs
    assert r.estimate.train_seconds == pytest.approx(round(500 / 4.10 * 2, 1))
    assert r.estimate.ckpt_gib == pytest.approx(2.32)
    # 3B: no 3B prior run, so the 1B speed is scaled by the seed's "3B ~2x slower"
    r3 = next(x for x in m.runs if x.model == "Llama-3.2-3B-Instruct")
    assert r3.estimate.from_history
    assert r3.estimate.it_s == pytest.approx(4.10 / 2, abs=1e-4)
    # 8,000 ÷ 8 = 1,000 steps ÷ 2.05 it/s × 2 epochs
    assert r3.estimate.train_seconds == pytest.approx(round(1000 / 2.05 * 2, 1))
    assert m.totals.gpu_hours == pytest.approx(sum(x.estimate.gpu_hours for x in m.runs),
                                                  abs=0.01)
