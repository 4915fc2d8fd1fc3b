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

Speeds and checkpoint sizes come from history (same model name first, then the same size
class, averaged over every prior run found; a speed for a size class without prior runs is
scaled from other sizes by the seed's slowdown factors, :data:`SLOWDOWN_VS_1B`), else from
the seed's typical values per size class (:data:`SIZE_DEFAULTS`). Without any prior run
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
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_SPEED = re.compile(r"([0-9]+(?:\.[0-9]+)?)(it/s|s/it)")
_MEM = re.compile(r"GPU peak memory (active|alloc(?:ation)?|reserved): ([\d.]+) GiB")
_CKPT = re.compile(r"(Model|Adapter|Recipe) checkpoint of size ([\d.]+) GiB saved to (\S+)")
_STEP = re.compile(r"^Step (\d+) \| (.*)$")
_PAIR = re.compile(r"(\w+):(\S+)")
_EPOCH_DIR = re.compile(r"(?:^|/)epoch_(\d+)(?:/|$)")


@dataclass
class Observation:
    """What one prior run's logs say: ``it_s`` (training iterations per second),
    ``peak_mem_gib`` (GPU peak allocation), ``ckpt_gib`` (per-epoch checkpoint size),
    ``tokens_per_second`` (DiskLogger), and the model it ran (guessed from the path)."""

    path: str
    model: str | None = None
    it_s: float | None = None
    peak_mem_gib: float | None = None
    ckpt_gib: float | None = None
    tokens_per_second: float | None = None


@dataclass
class History:
    observations: list[Observation] = field(default_factory=list)

    def mean(self, attr: str, model: str, size: str, sizes: dict[str, str]) -> float | None:
        """Average of ``attr`` over runs of ``model``, else of the same size class."""
        same = [getattr(o, attr) for o in self.observations
                if o.model == model and getattr(o, attr) is not None]
        if not same:
            same = [getattr(o, attr) for o in self.observations
                    if o.model and sizes.get(o.model) == size and getattr(o, attr) is not None]
        return sum(same) / len(same) if same else None


# Seed 004 "Scale for model size differences": 3B ~2× slower than 1B, 7B 4–5×, 8B 5–6×.
SLOWDOWN_VS_1B = {"1B": 1.0, "3B": 2.0, "7B": 4.5, "8B": 5.5}


def scaled_speed(hist: History, size: str, sizes: dict[str, str]) -> float | None:
    """Training it/s for a size class with no prior run of its own, scaled from prior runs
    of other sizes by seed 004's slowdown factors (mean over those runs); ``None`` when the
    size or every observed size is outside the seed's table."""
    if size not in SLOWDOWN_VS_1B:
        return None
    scaled = [o.it_s * SLOWDOWN_VS_1B[sizes[o.model]] / SLOWDOWN_VS_1B[size]
              for o in hist.observations
              if o.it_s and o.model and sizes.get(o.model) in SLOWDOWN_VS_1B]
    return sum(scaled) / len(scaled) if scaled else None


def parse_slurm_log(text: str) -> tuple[float | None, float | None, float | None]:
    """(it/s, peak GPU memory GiB, per-epoch checkpoint GiB) from a ``slurm-*.out`` text.

    tqdm lines are split on ``\\r`` and ``\\n`` with ANSI codes stripped; the **last** speed
    wins (after warm-up); ``s/it`` is inverted (formats.md §9).
    """
    text = _ANSI.sub("", text)
    it_s = None
    peak = None
    per_epoch: dict[str, float] = {}
    for line in re.split(r"[\r\n]", text):
        for m in _SPEED.finditer(line):
            v = float(m.group(1))
            if v > 0:
                it_s = v if m.group(2) == "it/s" else 1.0 / v
        m = _MEM.search(line)
        if m and m.group(1).startswith("alloc"):
            peak = max(peak or 0.0, float(m.group(2)))
        m = _CKPT.search(line)
        if m and m.group(1) in ("Model", "Adapter"):
            e = _EPOCH_DIR.search(m.group(3))
            key = e.group(1) if e else m.group(3)
            per_epoch[key] = per_epoch.get(key, 0.0) + float(m.group(2))
    ckpt = sum(per_epoch.values()) / len(per_epoch) if per_epoch else None
    return it_s, peak, ckpt


def parse_disklogger(text: str) -> float | None:
    """Mean ``tokens_per_second_per_gpu`` over a DiskLogger ``log_*.txt`` text."""
    values = []
    for line in text.splitlines():
        m = _STEP.match(line)
        if not m:
            continue
        for k, v in _PAIR.findall(m.group(2)):
            if k == "tokens_per_second_per_gpu":
                try:
                    values.append(float(v))
                except ValueError:
                    pass
    return sum(values) / len(values) if values else None


def _folder_gib(folder: Path) -> float:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for f in files:
            try:
                total += (Path(root) / f).stat().st_size
            except OSError:
                pass
    return total / 2**30


def read_history(folder: Path, model_names: list[str] | tuple[str, ...] = ()) -> History:
    """Observations from every prior run folder under ``folder``.

    A run folder is any folder holding a ``slurm-*.out``, a ``logs/log_*.txt`` or
    ``epoch_N/`` folders. The model is the longest registry name found in the folder's path
    (run names start with it, seed 004 naming). Unreadable files are skipped.
    """
    hist = History()
    runs: dict[Path, Observation] = {}
    names = sorted(model_names, key=len, reverse=True)

    def obs(run_dir: Path) -> Observation:
        if run_dir not in runs:
            model = next((n for n in names if n in str(run_dir)), None)
            runs[run_dir] = Observation(path=str(run_dir), model=model)
        return runs[run_dir]

    if not folder.is_dir():
        return hist
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        here = Path(root)
        for f in sorted(files):
            p = here / f
            if f.startswith("slurm-") and f.endswith(".out"):
                try:
                    it_s, peak, ckpt = parse_slurm_log(p.read_text("utf-8", errors="replace"))
                except OSError:
                    continue
                o = obs(here)
                o.it_s = it_s if it_s is not None else o.it_s
                o.peak_mem_gib = peak if peak is not None else o.peak_mem_gib
                o.ckpt_gib = ckpt if ckpt is not None else o.ckpt_gib
            elif f.startswith("log_") and f.endswith(".txt") and here.name == "logs":
                try:
                    tps = parse_disklogger(p.read_text("utf-8", errors="replace"))
                except OSError:
                    continue
                if tps is not None:
                    obs(here.parent).tokens_per_second = tps
        epochs = [d for d in dirs if re.fullmatch(r"epoch_\d+", d)]
        if epochs:
            o = obs(here)
            if o.ckpt_gib is None:
                o.ckpt_gib = sum(_folder_gib(here / d) for d in epochs) / len(epochs)
    hist.observations = [runs[k] for k in sorted(runs)]
    return hist


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
    """The speed and checkpoint size one model's estimate uses, and where they came from.

    ``it_s``: training iterations per second; ``ckpt_gib``: GiB per saved epoch;
    ``basis``: ``"history"`` (measured prior runs), ``"plan"`` (the speed the plan states,
    e.g. seed 004's "speed=0.8 it/s"), ``"seed"`` (seed 004's per-size defaults).
    """

    it_s: float
    ckpt_gib: float
    basis: str
    defaults: dict[str, float]


def speeds_for(model: str, size: str, sizes: dict[str, str], history: History | None,
               stated_it_s: float | None) -> Speeds:
    """The speeds of ``model``: measured history first (same model, then its size class,
    then scaled from other sizes), then the plan's stated it/s, then seed 004's defaults."""
    defaults = SIZE_DEFAULTS.get(size, SIZE_DEFAULTS["1B"])
    hist_it_s = ((history.mean("it_s", model, size, sizes)
                  or scaled_speed(history, size, sizes)) if history else None)
    ckpt = (history.mean("ckpt_gib", model, size, sizes) if history else None) \
        or defaults["ckpt_gib"]
    if hist_it_s:
        return Speeds(hist_it_s, ckpt, "history", defaults)
    if stated_it_s and stated_it_s > 0:
        return Speeds(float(stated_it_s), ckpt, "plan", defaults)
    return Speeds(defaults["it_s"], ckpt, "seed", defaults)


def estimate_run(speeds: Speeds, *, fine_tuned: bool, train_samples: int | None,
                 test_samples: int | None, batch_size: int, grad_accum: int, epochs: int,
                 evaluations: int, gpus: int, eval_gpus: int) -> Estimate:
    """The one estimate of a run (seed 004 formulas, module docstring): used by expand
    (``Run.estimate``, ``#SBATCH --time``), lint (RG016/CL007), the README, the tracker
    payloads and the site.

    With measured or stated speeds the formulas use the split sizes; with seed defaults
    only (no prior runs, no stated speed) times are the seed's conservative per-epoch and
    per-evaluation guesses. Units: seconds, GPU hours, GiB.
    """
    measured = speeds.basis in ("history", "plan")
    d = speeds.defaults
    job_s = eval_job_seconds(test_samples if measured else None, batch_size or 1,
                             speeds.it_s, d["eval_job_s"])
    eval_s = job_s * evaluations
    steps = 0
    train_s = 0.0
    if fine_tuned:
        train_s, _ = train_seconds(train_samples if measured else None, batch_size,
                                   grad_accum, epochs, speeds.it_s, d["epoch_guess_s"])
        steps = steps_per_epoch(train_samples, batch_size, grad_accum) if train_samples else 0
    gpu_h = (train_s * max(gpus, 0) + eval_s * max(eval_gpus, 0)) / 3600
    return Estimate(
        train_seconds=round(train_s, 1), eval_seconds=round(eval_s, 1),
        eval_job_seconds=round(job_s, 1), seconds=round(train_s + eval_s, 1),
        gpu_hours=round(gpu_h, 3),
        disk_gib=round(disk_gib(epochs if fine_tuned else 0, speeds.ckpt_gib, evaluations), 3),
        it_s=round(speeds.it_s, 4), steps_per_epoch=steps, ckpt_gib=round(speeds.ckpt_gib, 3),
        basis=speeds.basis)  # type: ignore[arg-type]


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
    """A SLURM ``--time`` for an estimate: × 1.5 safety, at least 300 s, rounded up to 5 min."""
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
