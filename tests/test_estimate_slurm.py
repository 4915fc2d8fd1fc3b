"""Issue 14's proof on the REAL local SLURM: the tiny CPU torchtune pipeline runs two
configurations (LoRA rank 4 and 8 on 32 rows), planc learns from them, predicts a held-out
third (rank 16 on 64 rows: another rank and twice the tokens), after one discarded warm-up
job (cold file caches), and the prediction is within ±15 % of its measured wall clock
(``bench/estimate_bench.py --proof`` prints the same). The jobs are interleaved (rank 4,
held-out, rank 8, held-out) and the held-out wall clock is the mean of its two jobs, so a
shared machine's load drift does not land on one side of the comparison.

Needs ``scripts/slurm-local.sh start`` and torchtune; in CI it fails instead of skipping.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, need_or_skip

pytestmark = [pytest.mark.slurm, pytest.mark.e2e]


def _slurm_up() -> bool:
    if not shutil.which("sbatch"):
        return False
    try:
        out = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "is UP" in out.stdout


def _bench():
    spec = importlib.util.spec_from_file_location("estimate_bench",
                                                  ROOT / "bench" / "estimate_bench.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["estimate_bench"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_held_out_run_is_predicted_within_15_percent(tmp_path: Path) -> None:
    need_or_skip(importlib.util.find_spec("torchtune") is not None, "torchtune is missing")
    need_or_skip(_slurm_up(), "the local SLURM is not running "
                 "(bash scripts/slurm-local.sh install && bash scripts/slurm-local.sh start)")
    p = _bench().proof(tmp_path)
    assert p["key"].startswith("lora_llama3_2(") and "· cpu ·" in p["key"], p
    assert abs(p["error_pct"]) <= 15.0, p

