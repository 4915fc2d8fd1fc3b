"""Compute estimates agree with the plan's own numbers (seed 004 formulas).

Per ``**<model> models:**`` block of Training Time Estimates:

- steps per epoch = training samples ÷ batch size: the numerator is the train split and the
  divisor the batch size of that model's runs;
- time per epoch ≈ steps ÷ it/s (plus up to ``overhead_minutes`` for validation and
  checkpointing);
- ``**E epochs × N runs**``: E = Configuration epochs, N = the model's fine-tuned runs, and the
  time per run ≈ time per epoch × E;
- GPU hours ≈ N × time per run × GPUs per job.

And: Total GPU hours = Σ per-model GPU hours; the Summary's GPU Hours row uses those totals;
checkpoint storage per model uses that model's run count and the epochs, the checkpoint total
is their sum, and the total disk space = checkpoints + evaluation logs + the stated safety
margin (without one: between the sum and the sum + 20%). Numbers agree within ``tolerance``
(a fraction, default 0.15). Source: seed 004 "Steps to Estimate Time", "Disk Space
Estimation", "Wall-Clock vs GPU Hours".

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

from collections.abc import Iterator

from ...models.rungroup_doc import RunPlanDoc, parse_number, strip_md
from ..base import Context, Finding
from ._shared import close, fmt, level_matches, plan_of

CODE = "RG016"
NAME = "estimate-consistency"
SEVERITY = "warning"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {"tolerance": 0.15, "overhead_minutes": 5}


def _runs_of(plan: RunPlanDoc, model: str) -> list:  # type: ignore[type-arg]
    return [r for r in plan.finetuned if r.model and level_matches(r.model, model)]


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    plan = plan_of(ctx)
    if plan is None:
        return
    est = plan.estimates
    tol = float(ctx.options.get("tolerance", 0.15))
    overhead = float(ctx.options.get("overhead_minutes", 5))
    train = plan.dataset_splits.get("train")
    epochs = plan.epochs
    gpus = plan.gpus or 1
    for me in est.models:
        runs = _runs_of(plan, me.model)
        if me.steps is not None:
            s = me.steps
            if train and me.steps_num is not None and not close(me.steps_num, train, tol):
                yield Finding(s.line, s.column, f"steps per epoch divide {fmt(me.steps_num)} "
                              f"samples, but the train split has {fmt(train)}")
            sizes = {r.batch_size for r in runs if r.batch_size is not None}
            if sizes and me.steps_div is not None and int(me.steps_div) not in sizes:
                yield Finding(s.line, s.column, f"steps per epoch divide by {fmt(me.steps_div)}, "
                              f"but {me.model} runs use batch size "
                              f"{', '.join(map(str, sorted(sizes)))}")
        if me.epoch_minutes is not None and me.steps is not None and me.its:
            computed = me.steps.value / me.its / 60
            stated = me.epoch_minutes.value
            if stated < computed * (1 - tol) or stated > computed * (1 + tol) + overhead:
                yield Finding(me.epoch_minutes.line, me.epoch_minutes.column,
                              f"time per epoch {fmt(stated)} min does not match "
                              f"{fmt(me.steps.value)} steps ÷ {fmt(me.its)} it/s = "
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
        if me.run_minutes is not None and me.epoch_minutes is not None and epochs:
            want = me.epoch_minutes.value * epochs
            if not close(me.run_minutes.value, want, tol):
                yield Finding(me.run_minutes.line, me.run_minutes.column,
                              f"{fmt(me.run_minutes.value)} min per run is not {epochs} epochs × "
                              f"{fmt(me.epoch_minutes.value)} min = {fmt(want)} min")
        if me.gpu_hours is not None and me.run_minutes is not None:
            n = len(runs) or me.run_count or 0
            want = n * me.run_minutes.value * gpus / 60
            if n and not close(me.gpu_hours.value, want, tol):
                yield Finding(me.gpu_hours.line, me.gpu_hours.column,
                              f"{fmt(me.gpu_hours.value)} GPU hours is not {n} runs × "
                              f"{fmt(me.run_minutes.value)} min × {gpus} GPU = {fmt(want)} h")
    per_model = [me.gpu_hours.value for me in est.models if me.gpu_hours is not None]
    if est.total_gpu_hours is not None and per_model and len(per_model) == len(est.models):
        want = sum(per_model)
        if not close(est.total_gpu_hours.value, want, tol):
            yield Finding(est.total_gpu_hours.line, est.total_gpu_hours.column,
                          f"total GPU hours {fmt(est.total_gpu_hours.value)} is not the sum of "
                          f"the models' GPU hours ({fmt(want)})")
    row = est.summary.get("gpu hours")
    if row is not None and len(row[1]) >= 3:
        line, cells = row
        for cell, ref, what in ((cells[1], est.total_gpu_hours, "training"),
                                (cells[2], est.eval_gpu_hours, "evaluation")):
            v = parse_number(strip_md(cell))
            if v is not None and ref is not None and not close(v, ref.value, tol):
                yield Finding(line, doc.col_of(line, strip_md(cell)),
                              f"Summary {what} GPU hours {strip_md(cell)} differ from line "
                              f"{ref.line} ({fmt(ref.value)})")
    yield from _disk(ctx, plan, tol)


def _disk(ctx: Context, plan: RunPlanDoc, tol: float) -> Iterator[Finding]:
    doc = ctx.doc
    est = plan.estimates
    epochs = plan.epochs
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
    if est.ckpt_total is not None and est.ckpt_totals:
        want = sum(x.value for x in est.ckpt_totals)
        if not close(est.ckpt_total.value, want, tol):
            yield Finding(est.ckpt_total.line, est.ckpt_total.column,
                          f"checkpoint total {fmt(est.ckpt_total.value)} GiB is not the sum of "
                          f"the models' totals ({fmt(want)} GiB)")
    if est.disk_total is None:
        return
    base = est.ckpt_total.value if est.ckpt_total is not None else (
        sum(x.value for x in est.ckpt_totals) if est.ckpt_totals else None)
    if base is None:
        return
    base += est.eval_logs_gib or 0.0
    stated = est.disk_total.value
    if est.margin_gib is not None:
        want = base + est.margin_gib
        ok = close(stated, want, tol)
        detail = f"checkpoints + logs + margin = {fmt(want)} GiB"
    else:
        ok = base * (1 - tol) <= stated <= base * 1.2 * (1 + tol)
        detail = f"checkpoints + logs = {fmt(base)} GiB, plus at most a 20% margin"
    if not ok:
        yield Finding(est.disk_total.line, est.disk_total.column,
                      f"total disk space {fmt(stated)} GiB does not match {detail}")
