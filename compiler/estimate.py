"""Compute estimates: seed 004's formulas (``../shared/reference/formats.md`` §12), learning
from prior runs when given (``planc compile --history DIR``).

Formulas (seed 004, "Steps to Estimate Time", "Evaluation Time Estimation", "Disk Space
Estimation")::

    steps/epoch  = ceil(train_samples ÷ (batch_size × gradient_accumulation_steps))
    s/epoch      = steps/epoch ÷ it/s
    train time   = s/epoch × epochs                             (seconds)
    eval time    = (test_samples ÷ batch_size) ÷ (it/s × 2.5) + 60 s   per evaluation job
    GPU hours    = train time × GPUs/job ÷ 3600 + Σ eval time × eval GPUs ÷ 3600
    disk         = (epochs × checkpoint GiB + evaluations × 10 MB) × 1.15   (15 % margin)

With a calibration from prior runs (:mod:`compiler.history`: the median of runs with the
same model, hardware, recipe, world size, dtype, activation checkpointing and sequence
length, read from each run's own config and log) training time is token-based instead::

    train time   = tokens/epoch × epochs ÷ (tokens/s/GPU × GPUs) + start-up + saves × epochs
    eval time    = median of prior inspect-ai evaluations of the task on that hardware

Without one ("no calibration"), speeds are the plan's stated it/s, else the seed's typical
values per size class (:data:`SIZE_DEFAULTS`). Without any prior run
(or without split sizes), times are the seed's conservative "no prior runs" guesses per
epoch and per evaluation job ("DO NOT use generic assumptions … if no prior runs: 1B 30–60
min per epoch"). ``Run.estimate`` keys: ``train_seconds``, ``eval_seconds`` (all of the run's
evaluation jobs), ``eval_job_seconds`` (one job), ``seconds`` (train + evals),
``gpu_hours``, ``disk_gib``, ``it_s``, ``steps_per_epoch``. ``RunMatrix.totals`` keys:
``train_seconds``, ``eval_seconds``, ``seconds`` (sequential wall clock),
``parallel_seconds`` (longest fine-tune + longest evaluation), ``gpu_hours``, ``disk_gib``,
``evaluations``, ``runs``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import history as _history
from .matrix import Estimate, Totals

# Seed 004 "Learning From Prior Runs" typical values (middle of each stated range):
#   it/s (1B 5–15, 3B 3–7, 7B+ 1–3), checkpoint with LoRA (1B 2.3–2.5, 3B 6.1–6.3,
#   7B 14.2–14.5, 70B 141–143 GiB), eval job (1B 2–3, 3B 4–5, 7B 8–10, 70B 20–30 min),
#   no-data guess per epoch (1B 30–60 min, 3B 1–2 h, 7B+ 3–5 h).
SIZE_DEFAULTS: dict[str, dict[str, float]] = {
    "tiny": {"it_s": 2.0, "ckpt_gib": 0.03, "eval_job_s": 60.0, "epoch_guess_s": 60.0},
    "1B": {"it_s": 10.0, "ckpt_gib": 2.4, "eval_job_s": 150.0, "epoch_guess_s": 2700.0},
    "3B": {"it_s": 5.0, "ckpt_gib": 6.2, "eval_job_s": 270.0, "epoch_guess_s": 5400.0},
    "7B": {"it_s": 2.0, "ckpt_gib": 14.35, "eval_job_s": 540.0, "epoch_guess_s": 14400.0},
    "8B": {"it_s": 2.0, "ckpt_gib": 16.0, "eval_job_s": 540.0, "epoch_guess_s": 14400.0},
    "70B": {"it_s": 0.5, "ckpt_gib": 142.0, "eval_job_s": 1500.0, "epoch_guess_s": 36000.0},
}
EVAL_SPEEDUP = 2.5          # inference ≈ 2–3× training speed (seed: use 2.5)
EVAL_OVERHEAD_S = 60.0      # model load ~30 s + logging ~10 s, rounded to 1 min (seed)
EVAL_LOG_GIB = 0.01         # ~10 MB of inspect-ai logs per evaluation (seed)
DISK_MARGIN = 0.15          # 10–20 % safety margin (seed example: 15 %)
TIME_SAFETY = 1.5           # later tool constant DEFAULT_SAFETY_MARGIN
MIN_TIME_SECONDS = 300      # later tool constant MIN_TIME_SECONDS

# Re-exported: calibration from prior runs lives in :mod:`compiler.history`.
History = _history.History
Key = _history.Key
read_history = _history.read_history


def steps_per_epoch(train_samples: int, batch_size: int, grad_accum: int = 1) -> int:
    """Seed 004: samples × train_frac ÷ batch (here ÷ batch × gradient accumulation)."""
    return max(1, math.ceil(train_samples / max(1, batch_size * max(1, grad_accum))))


def train_seconds(train_samples: int | None, batch_size: int, grad_accum: int, epochs: int,
                  it_s: float, epoch_guess_s: float) -> tuple[float, int | None]:
    """(seconds, steps per epoch). Without a sample count, the seed's per-epoch guess."""
    if not train_samples:
        return epoch_guess_s * epochs, None
    steps = steps_per_epoch(train_samples, batch_size, grad_accum)
    return steps / it_s * epochs, steps


def eval_job_seconds(test_samples: int | None, batch_size: int, it_s: float,
                     default_s: float) -> float:
    """Seed 004: (test ÷ batch) ÷ (it/s × 2.5) + 60 s; without a test size, the seed's
    per-model-size typical eval time."""
    if not test_samples:
        return default_s
    return (test_samples / max(1, batch_size)) / (it_s * EVAL_SPEEDUP) + EVAL_OVERHEAD_S


@dataclass(frozen=True)
class Speeds:
    """What one run's estimate is computed from, and where it came from.

    ``it_s``: training iterations per second (plan or seed basis); ``ckpt_gib``: GiB per
    saved epoch; ``basis``: ``"history"`` (a calibration: the median of prior runs with the
    same :class:`compiler.history.Key`), ``"plan"`` (the speed the plan states, e.g. seed
    004's "speed=0.8 it/s"), ``"seed"`` (seed 004's per-size defaults); ``calibration``
    the medians used (history basis only); ``key`` the run's key (``None`` for controls);
    ``tokens_per_epoch``: tokens of the run's data file (``None`` when unreadable).
    """

    it_s: float
    ckpt_gib: float
    basis: str
    defaults: dict[str, float]
    calibration: _history.Calibration | None = None
    key: _history.Key | None = None
    tokens_per_epoch: int | None = None


def speeds_for(size: str, history: History | None, stated_it_s: float | None,
               key: _history.Key | None = None, tokens_per_epoch: int | None = None
               ) -> Speeds:
    """The speeds of a run: a calibration from prior runs with exactly ``key`` first (none
    matching is "no calibration": history from other hardware, another model or another
    sequence length never applies), then the plan's stated it/s, then seed 004's defaults.
    """
    defaults = SIZE_DEFAULTS.get(size, SIZE_DEFAULTS["1B"])
    cal = history.calibration(key) if (history is not None and key is not None) else None
    ckpt = (cal.ckpt_gib if cal and cal.ckpt_gib else None) or defaults["ckpt_gib"]
    if cal is not None:
        return Speeds(0.0, ckpt, "history", defaults, cal, key, tokens_per_epoch)
    if stated_it_s and stated_it_s > 0:
        return Speeds(float(stated_it_s), ckpt, "plan", defaults, None, key, tokens_per_epoch)
    return Speeds(defaults["it_s"], ckpt, "seed", defaults, None, key, tokens_per_epoch)


def token_train_seconds(tokens_per_epoch: float, epochs: int, cal: _history.Calibration,
                        world_size: int) -> float:
    """Issue 14: tokens × epochs ÷ (tokens/s/GPU × GPUs) + start-up + a checkpoint save
    per epoch (all medians of the calibration). Seconds."""
    loop = tokens_per_epoch * epochs / (cal.tokens_per_s_gpu * max(1, world_size))
    return loop + cal.startup_s + cal.save_each_s * epochs


def estimate_run(speeds: Speeds, *, fine_tuned: bool, train_samples: int | None,
                 test_samples: int | None, batch_size: int, grad_accum: int, epochs: int,
                 evaluations: int, gpus: int, eval_gpus: int,
                 eval_job_s: float | None = None, eval_key: str | None = None) -> Estimate:
    """The one estimate of a run: used by expand (``Run.estimate``, ``#SBATCH --time``),
    lint (RG016/CL007), the README, the tracker payloads and the site.

    With a calibration (``speeds.basis == "history"``) training time is token-based
    (:func:`token_train_seconds`; tokens from the data file, else the stated train samples
    × the calibration's tokens per sample); else seed 004's formulas (module docstring)
    with the plan's stated or the seed's speeds. ``eval_job_s``: the median of prior
    inspect-ai evaluations of the same tasks on the same hardware, when there are any
    (``eval_key`` their :func:`compiler.history.eval_label`); else the seed formula.
    ``Estimate.eval_key`` names the source of ``eval_job_seconds`` for the ledger:
    ``eval_key``; ``training calibration × 2.5 · <key>`` (the formula with the calibrated
    training speed); ``no calibration · stated it/s × 2.5`` (the plan's speed); ``no
    calibration · seed 004 default`` (the per-size typical eval time); empty without
    evaluations. Units: seconds, GPU hours, GiB.
    """
    measured = speeds.basis in ("history", "plan")
    d = speeds.defaults
    cal = speeds.calibration
    it_s = speeds.it_s
    steps = steps_per_epoch(train_samples, batch_size, grad_accum) if train_samples else 0
    tokens = speeds.tokens_per_epoch
    if cal is not None and tokens is None and train_samples and cal.tokens_per_sample:
        tokens = round(train_samples * cal.tokens_per_sample)
    train_s = 0.0
    if fine_tuned and cal is not None and tokens:
        train_s = token_train_seconds(tokens, epochs, cal, speeds.key.world_size
                                      if speeds.key else max(1, gpus))
        loop = train_s - cal.startup_s - cal.save_each_s * epochs
        it_s = steps * epochs / loop if steps and loop > 0 else 0.0
    elif fine_tuned:
        if cal is not None:  # calibrated but no token count: the seed's no-data guess
            measured = False
        train_s, _ = train_seconds(train_samples if measured else None, batch_size,
                                   grad_accum, epochs, it_s or d["it_s"], d["epoch_guess_s"])
    if eval_job_s is not None:
        job_s = eval_job_s
        ekey = eval_key or "evaluation · prior inspect-ai logs"
    else:
        formula = bool(test_samples and measured and it_s)
        job_s = eval_job_seconds(test_samples if formula else None,
                                 batch_size or 1, it_s or 1.0, d["eval_job_s"])
        if not formula:
            ekey = "no calibration · seed 004 default"
        elif cal is not None:
            ekey = f"training calibration × {EVAL_SPEEDUP:g} · {cal.key.label()}"
        else:
            ekey = f"no calibration · stated it/s × {EVAL_SPEEDUP:g}"
    eval_s = job_s * evaluations
    gpu_h = (train_s * max(gpus, 0) + eval_s * max(eval_gpus, 0)) / 3600
    return Estimate(
        train_seconds=round(train_s, 1), eval_seconds=round(eval_s, 1),
        eval_job_seconds=round(job_s, 1), seconds=round(train_s + eval_s, 1),
        gpu_hours=round(gpu_h, 3),
        disk_gib=round(disk_gib(epochs if fine_tuned else 0, speeds.ckpt_gib, evaluations), 3),
        it_s=round(it_s, 4), steps_per_epoch=steps if fine_tuned else 0,
        ckpt_gib=round(speeds.ckpt_gib, 3),
        basis=speeds.basis,  # type: ignore[arg-type]
        tokens_per_epoch=tokens or 0,
        calibration=(f"{cal.n} prior run(s): {cal.key.label()}" if cal is not None
                     else "no calibration"),
        key=speeds.key.label() if speeds.key is not None and fine_tuned else "",
        eval_key=ekey if evaluations else "")


def group_totals(runs: Sequence[Any]) -> Totals:
    """Sum the runs' :class:`Estimate` into :class:`Totals`."""
    def s(key: str) -> float:
        return sum(getattr(r.estimate, key) for r in runs)

    longest_train = max((r.estimate.train_seconds for r in runs), default=0.0)
    longest_eval = max((r.estimate.eval_job_seconds for r in runs if r.evaluations),
                       default=0.0)
    return Totals(runs=len(runs), evaluations=sum(len(r.evaluations) for r in runs),
                  train_seconds=round(s("train_seconds"), 1),
                  eval_seconds=round(s("eval_seconds"), 1), seconds=round(s("seconds"), 1),
                  parallel_seconds=round(longest_train + longest_eval, 1),
                  gpu_hours=round(s("gpu_hours"), 3), disk_gib=round(s("disk_gib"), 3))


def job_time_limit(seconds: float) -> float:
    """A SLURM ``--time`` for an estimate: × :data:`TIME_SAFETY` (1.5: SLURM kills a job at
    its limit, and the median error of a calibrated estimate is ±15 % at best, so the limit
    keeps a 50 % margin), at least :data:`MIN_TIME_SECONDS`, rounded up to 5 min."""
    t = max(MIN_TIME_SECONDS, seconds * TIME_SAFETY)
    return math.ceil(t / 300) * 300


def disk_gib(epochs_saved: int, ckpt_gib: float, evaluations: int) -> float:
    """Seed 004: (epochs × checkpoint + evaluations × 10 MB) × 1.15."""
    return (epochs_saved * ckpt_gib + evaluations * EVAL_LOG_GIB) * (1 + DISK_MARGIN)


def format_minutes(seconds: float) -> str:
    """Seconds → ``"~N min"`` or ``"~H.h h"`` for READMEs."""
    if seconds < 5400:
        return f"~{max(1, round(seconds / 60))} min"
    return f"~{seconds / 3600:.1f} h"


# Seed 004 "Batch Size Estimation", conservative defaults without GPU memory data (upper end
# of each range): (packed, GPU memory class) → (1B, 3B, 7B+).
_BATCH_DEFAULTS = {
    (True, 80): (8, 4, 2), (True, 40): (4, 2, 1), (True, 32): (1, 1, 1),
    (False, 80): (16, 8, 4), (False, 40): (8, 4, 2), (False, 32): (2, 1, 1),
}


def max_batch_size(size: str, gpu_memory_gib: float, packed: bool) -> int | None:
    """The seed's default batch size ceiling for a model size class on a GPU; ``None`` for
    ``tiny`` models (no seed row). GPU classes: ≥80 GiB, ≥40 GiB, else "32 GB or less"."""
    if size == "tiny":
        return None
    gpu = 80 if gpu_memory_gib >= 80 else 40 if gpu_memory_gib >= 40 else 32
    tier = 0 if size == "1B" else 1 if size == "3B" else 2
    return _BATCH_DEFAULTS[(bool(packed), gpu)][tier]
