"""Compute estimates agree with the plan's own numbers (seed 004 formulas).

Per ``**<model> models:**`` block of Training Time Estimates:

- ``batch_size=8 (4 per GPU × 2 GPUs)``: 4 × 2 = 8, and 4 is a batch size (per GPU, as the
  All Runs table and Configuration write it) of that model's runs;
- steps per epoch = training samples ÷ batch size: the numerator is the train split and the
  divisor that model's per-GPU batch size, or it times the GPUs per job and/or the gradient
  accumulation steps (the total and effective batch);
- time per epoch ≈ steps ÷ it/s (plus up to ``overhead_minutes`` for validation and
  checkpointing);
- ``**E epochs × N runs**: ~M minutes …``: E = Configuration epochs, N = the model's
  fine-tuned runs; with "per run" M ≈ E × time per epoch; with seed 004's own wording
  "~{total_min} minutes total (can run in parallel)" (or no word) M may be either one run's
  time (the parallel wall-clock) or all N runs' (N × E × time per epoch): both readings are
  accepted and only a number that fits neither is reported;
- ``**Sequential**: N runs × T min = S``: N = the model's runs and T = the time of one run
  (RG015 checks the product);
- GPU hours ≈ N × time of one run × GPUs per job.

And: "Total training compute": Parallel ≈ the longest run, Sequential ≈ Σ N × time of one
run; Total GPU hours = Σ per-model GPU hours; the Summary's GPU Hours row uses those totals;
checkpoint storage per model uses that model's run count and the epochs, the checkpoint total
is their sum, and the total disk space = checkpoints + evaluation logs + the stated safety
margin (without one: between the sum and the sum + 20%). Numbers agree within ``tolerance``
(a fraction, default 0.15). Source: seed 004 "Steps to Estimate Time", "Disk Space
Estimation", "Wall-Clock vs GPU Hours" and the runs_plan.md template's Compute Estimates.

Severity: error — each check is arithmetic on the document's own numbers; a figure that fits
no reading of the seed's wording is a false statement (README "Severity policy").

Severity: warning — a computed estimate that fits no reading of the seed's wording is a
false statement in the document.

Failing::

    - Prior run data: 8,000 samples, batch_size=16, speed=10 it/s
    - Steps per epoch: 8,000/16 = 500 steps
    - Time per epoch: ~30 minutes

Passing::

    - Prior run data: 8,000 samples, batch_size=16, speed=10 it/s
    - Steps per epoch: 8,000/16 = 500 steps
    - Time per epoch: ~1 minute (includes checkpointing)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from ...models.rungroup_doc import (
    Estimates,
    Located,
    ModelEstimate,
    RunPlanDoc,
    parse_int,
    parse_number,
    strip_md,
)
from ..base import Context, Finding
from ._shared import close, fmt, level_matches, plan_of

CODE = "RG016"
NAME = "estimate-consistency"
SEVERITY = "error"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {"tolerance": 0.15, "overhead_minutes": 5}


def _near(stated: float, computed: float, tol: float) -> bool:
    """``stated`` within ``tol`` of ``computed``, or within half a unit of its last written
    digit (``0.02`` GPU hours for a computed 0.0167: the author rounded to two places)."""
    text = repr(float(stated))
    decimals = 0 if stated == int(stated) else len(text.split(".", 1)[1])
    if "e" in text:
        decimals = 10
    return close(stated, computed, tol) or abs(stated - computed) <= 0.5 * 10 ** -decimals + 1e-9


def _runs_of(plan: RunPlanDoc, model: str) -> list:  # type: ignore[type-arg]
    return [r for r in plan.finetuned if r.model and level_matches(r.model, model)]


def _accum(plan: RunPlanDoc) -> int:
    g = plan.config.get("gradient accumulation")
    n = parse_int(g.value) if g else None
    return n if n and n > 0 else 1


def _divisors(b: int, gpus: int, accum: int) -> set[int]:
    """Batches a per-GPU batch ``b`` may be written as: per GPU, across the job's GPUs, and
    either of those times the gradient-accumulation steps (seed 004's "effective batch")."""
    return {b, b * gpus, b * accum, b * gpus * accum}


def _model(ctx: Context, plan: RunPlanDoc, me: ModelEstimate, tol: float, overhead: float,
           gpus: int, accum: int,
           times: dict[str, tuple[list[float], int]],
           gpu_hours: dict[str, float]) -> Iterator[Finding]:
    """Findings of one ``**<model> models:**`` block; records the model's candidate times of
    one run (minutes) and its run count in ``times``, and in ``gpu_hours`` the computed GPU
    hours of a block whose stated figure is wrong."""
    doc = ctx.doc
    runs = _runs_of(plan, me.model)
    train = plan.dataset_splits.get("train")
    epochs = plan.epochs
    sizes = {r.batch_size for r in runs if r.batch_size is not None}
    if me.batch_per_gpu is not None and me.batch_gpus and me.batch_size is not None:
        line = me.data_line
        if me.batch_per_gpu * me.batch_gpus != me.batch_size:
            yield Finding(line, doc.col_of(line, "batch"),
                          f"batch_size={fmt(me.batch_size)} is not {fmt(me.batch_per_gpu)} per "
                          f"GPU × {me.batch_gpus} GPUs = {fmt(me.batch_per_gpu * me.batch_gpus)}")
        if sizes and int(me.batch_per_gpu) not in sizes:
            yield Finding(line, doc.col_of(line, f"{fmt(me.batch_per_gpu)} per"),
                          f"{fmt(me.batch_per_gpu)} per GPU, but {me.model} runs use batch size "
                          f"{', '.join(map(str, sorted(sizes)))} (per GPU)")
    elif me.batch_size is not None and sizes:
        # the template writes the same {bs} here and as the steps divisor below
        allowed = set().union(*(_divisors(b, gpus, accum) for b in sizes))
        if int(me.batch_size) != me.batch_size or int(me.batch_size) not in allowed:
            line = me.data_line
            yield Finding(line, doc.col_of(line, "batch"),
                          f"batch_size={fmt(me.batch_size)}, but {me.model} runs use batch size "
                          f"{', '.join(map(str, sorted(sizes)))} per GPU ({gpus} GPU, "
                          f"gradient accumulation {accum}: "
                          f"{', '.join(map(str, sorted(allowed)))})")
    steps_bad = False
    if me.steps is not None:
        s = me.steps
        if train and me.steps_num is not None and not _near(me.steps_num, train, tol):
            steps_bad = True
            yield Finding(s.line, s.column, f"steps per epoch divide {fmt(me.steps_num)} "
                          f"samples, but the train split has {fmt(train)}")
        allowed = set().union(*(_divisors(b, gpus, accum) for b in sizes)) if sizes else set()
        if allowed and me.steps_div is not None and int(me.steps_div) not in allowed:
            steps_bad = True
            yield Finding(s.line, s.column, f"steps per epoch divide by {fmt(me.steps_div)}, "
                          f"but {me.model} runs use batch size "
                          f"{', '.join(map(str, sorted(sizes)))} per GPU ({gpus} GPU, "
                          f"gradient accumulation {accum}: "
                          f"{', '.join(map(str, sorted(allowed)))})")
    # the time per epoch is judged on the steps line's own quotient (a wrong stated quotient
    # is RG015's finding there), and not at all when the steps line is already wrong
    epoch_ok = me.epoch_minutes is not None
    if me.epoch_minutes is not None and me.steps is not None and me.its and not steps_bad:
        steps = (me.steps_num / me.steps_div if me.steps_num is not None and me.steps_div
                 else me.steps.value)
        computed = steps / me.its / 60
        stated = me.epoch_minutes.value
        if stated < computed * (1 - tol) or stated > computed * (1 + tol) + overhead:
            epoch_ok = False
            yield Finding(me.epoch_minutes.line, me.epoch_minutes.column,
                          f"time per epoch {fmt(stated)} min does not match "
                          f"{fmt(steps)} steps ÷ {fmt(me.its)} it/s = "
                          f"{fmt(computed)} min")
    if me.run_epochs is not None and epochs is not None and me.run_epochs != epochs:
        line = me.run_minutes.line if me.run_minutes else me.line
        yield Finding(line, doc.col_of(line, f"{me.run_epochs} epoch"),
                      f"estimate uses {me.run_epochs} epochs; the Configuration says {epochs}")
    if me.run_count is not None and runs and me.run_count != len(runs):
        line = me.run_minutes.line if me.run_minutes else me.line
        yield Finding(line, doc.col_of(line, f"{me.run_count} run"),
                      f"estimate counts {me.run_count} {me.model} runs; "
                      f"All Runs has {len(runs)}")
    n = len(runs) or me.run_count or 0
    e = epochs or me.run_epochs
    # the time of one run: E × time per epoch when both are written, else what the
    # "**E epochs × N runs**" line says under each reading its wording allows
    per_run: list[float] = []
    if me.epoch_minutes is not None and epoch_ok and e:
        per_run.append(me.epoch_minutes.value * e)
    rm = me.run_minutes
    if rm is not None:
        readings = _readings(me.run_basis, n)
        if per_run:
            want = per_run[0]
            if not any(_near(rm.value, want * k, tol) for _, k in readings):
                told = " or ".join(f"{what} {fmt(want * k)} min" for what, k in readings)
                yield Finding(rm.line, rm.column,
                              f"~{fmt(rm.value)} minutes fits no reading of the line: {e} "
                              f"epochs × {fmt(me.epoch_minutes.value)} min "  # type: ignore[union-attr]
                              f"gives {told}")
        else:
            per_run.extend(rm.value / k for _, k in readings)
    if me.seq_per_run is not None:
        sp = me.seq_per_run
        if per_run and not any(_near(sp.value, p, tol) for p in per_run):
            yield Finding(sp.line, sp.column,
                          f"{fmt(sp.value)} min per run is not the time of one run "
                          f"({' or '.join(fmt(p) + ' min' for p in per_run)})")
        if me.seq_runs is not None and runs and me.seq_runs != len(runs):
            yield Finding(sp.line, doc.col_of(sp.line, f"{me.seq_runs} run"),
                          f"sequential time counts {me.seq_runs} {me.model} runs; All Runs has "
                          f"{len(runs)}")
        if not per_run:
            per_run.append(sp.value)
    if me.gpu_hours is not None and per_run and n:
        wants = [n * p * gpus / 60 for p in per_run]
        if not any(_near(me.gpu_hours.value, w, tol) for w in wants):
            gpu_hours[me.model] = wants[0]  # the totals use what this line should say
            yield Finding(me.gpu_hours.line, me.gpu_hours.column,
                          f"{fmt(me.gpu_hours.value)} GPU hours is not {n} runs × "
                          f"{' or '.join(fmt(p) for p in per_run)} min × {gpus} GPU = "
                          f"{' or '.join(fmt(w) for w in wants)} h")
    if per_run and n:
        times[me.model] = (per_run, n)


def _totals(est: Estimates, times: dict[str, tuple[list[float], int]],
            tol: float) -> Iterator[Finding]:
    """"Total training compute": Parallel ≈ the longest run, Sequential ≈ Σ runs × time per
    run (any of each model's candidate times of one run)."""
    if (par := est.parallel_minutes) is not None:
        longest = [max(c) for c in itertools.product(*(t for t, _ in times.values()))]
        if not any(_near(par.value, w, tol) for w in longest):
            yield Finding(par.line, par.column,
                          f"parallel wall-clock ~{fmt(par.value)} min is not the longest run "
                          f"({' or '.join(sorted({fmt(w) for w in longest}))} min)")
    if (seq := est.sequential_minutes) is not None:
        sums = [sum(p * n for p, (_, n) in zip(c, times.values(), strict=True))
                for c in itertools.product(*(t for t, _ in times.values()))]
        if not any(_near(seq.value, w, tol) for w in sums):
            yield Finding(seq.line, seq.column,
                          f"sequential wall-clock ~{fmt(seq.value)} min is not the sum of all "
                          f"runs ({' or '.join(sorted({fmt(w) for w in sums}))} min)")


def _readings(basis: str, n: int) -> list[tuple[str, int]]:
    """(name, multiple of one run's time) for each reading of "~M minutes" on the
    "**E epochs × N runs**" line: "per run" → the time of one run; "total" or no word → one
    run (the runs "can run in parallel", so the total wall-clock time is one run's) or all N
    runs one after another (seed 004's next line, ``**Sequential**``, spells that out)."""
    if basis == "per run" or n <= 1:
        return [("per run", 1)]
    return [("per run (parallel)", 1), (f"{n} runs in total", n)]


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    plan = plan_of(ctx)
    if plan is None:
        return
    est = plan.estimates
    tol = float(ctx.options.get("tolerance", 0.15))
    overhead = float(ctx.options.get("overhead_minutes", 5))
    gpus = plan.gpus or 1
    accum = _accum(plan)
    times: dict[str, tuple[list[float], int]] = {}
    fixed: dict[str, float] = {}
    for me in est.models:
        yield from _model(ctx, plan, me, tol, overhead, gpus, accum, times, fixed)
    if times and len(times) == len(est.models):
        yield from _totals(est, times, tol)
    per_model = [fixed.get(me.model, me.gpu_hours.value) for me in est.models
                 if me.gpu_hours is not None]
    train_ref = est.total_gpu_hours
    if est.total_gpu_hours is not None and per_model and len(per_model) == len(est.models):
        want = sum(per_model)
        if not _near(est.total_gpu_hours.value, want, tol):
            # the Summary is judged against what the wrong line should say
            train_ref = Located(want, est.total_gpu_hours.line, est.total_gpu_hours.column)
            yield Finding(est.total_gpu_hours.line, est.total_gpu_hours.column,
                          f"total GPU hours {fmt(est.total_gpu_hours.value)} is not the sum of "
                          f"the models' GPU hours ({fmt(want)})")
    row = est.summary.get("gpu hours")
    if row is not None and len(row[1]) >= 3:
        line, cells = row
        for cell, ref, what in ((cells[1], train_ref, "training"),
                                (cells[2], est.eval_gpu_hours, "evaluation")):
            v = parse_number(strip_md(cell))
            if v is not None and ref is not None and not _near(v, ref.value, tol):
                yield Finding(line, doc.col_of(line, strip_md(cell)),
                              f"Summary {what} GPU hours {strip_md(cell)} differ from line "
                              f"{ref.line} ({fmt(ref.value)})")
    yield from _disk(ctx, plan, tol)


def _disk(ctx: Context, plan: RunPlanDoc, tol: float) -> Iterator[Finding]:
    doc = ctx.doc
    est = plan.estimates
    epochs = plan.epochs
    # each model's storage as it should be (its runs × the epochs × its checkpoint size), so
    # that one wrong number is reported at its own line and not again in the totals after it
    true_totals: list[float] = []
    for cl in est.ckpt_lines:
        runs = _runs_of(plan, cl.model)
        if runs and cl.runs != len(runs):
            yield Finding(cl.line, doc.col_of(cl.line, f"{cl.runs} run"),
                          f"checkpoint storage counts {cl.runs} {cl.model} runs; All Runs has "
                          f"{len(runs)}")
        if epochs is not None and cl.epochs != epochs:
            yield Finding(cl.line, doc.col_of(cl.line, f"{cl.epochs} epoch"),
                          f"checkpoint storage counts {cl.epochs} epochs; the Configuration "
                          f"says {epochs}")
        true_totals.append((len(runs) or cl.runs) * (epochs or cl.epochs) * cl.size_gib)
    if len(true_totals) != len(est.ckpt_totals):
        true_totals = [x.value for x in est.ckpt_totals]
    ckpt_ok = True
    if est.ckpt_total is not None and true_totals:
        want = sum(true_totals)
        if not _near(est.ckpt_total.value, want, tol):
            ckpt_ok = False
            yield Finding(est.ckpt_total.line, est.ckpt_total.column,
                          f"checkpoint total {fmt(est.ckpt_total.value)} GiB is not the sum of "
                          f"the models' totals ({fmt(want)} GiB)")
    if est.disk_total is None:
        return
    base = sum(true_totals) if true_totals else (
        est.ckpt_total.value if est.ckpt_total is not None and ckpt_ok else None)
    if base is None:
        return
    base += est.eval_logs_gib or 0.0
    stated = est.disk_total.value
    if est.margin_gib is not None:
        want = base + est.margin_gib
        ok = _near(stated, want, tol)
        detail = f"checkpoints + logs + margin = {fmt(want)} GiB"
    else:
        ok = base * (1 - tol) <= stated <= base * 1.2 * (1 + tol)
        detail = f"checkpoints + logs = {fmt(base)} GiB, plus at most a 20% margin"
    if not ok:
        yield Finding(est.disk_total.line, est.disk_total.column,
                      f"total disk space {fmt(stated)} GiB does not match {detail}")
