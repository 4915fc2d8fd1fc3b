"""Seed 004's runs_plan.md form, rendered from a consistent generated run-group spec (issue 10,
"Proof: Hypothesis"): it lints with 0 findings and compiles; each single planted
contradiction is an error at exactly the planted line.

The document is rendered with jinja2 from ``fixtures/rungroup/render/seed004_runs_plan.md.j2``,
a line-for-line fill of seed 004's runs_plan.md template, including its own wording
``**{epochs} epochs × {num_runs} runs**: ~{total_min} minutes total (can run in parallel)``
(drawn under both readings: all runs, or one run's parallel wall-clock time) and
``batch_size=8 (4 per GPU × 2 GPUs)`` breakdowns for multi-GPU jobs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.config import Settings
from compiler.document import load
from compiler.expand import Options
from compiler.lint import lint_document
from compiler.pipeline import compile_plan

from .conftest import FIXTURES

TEMPLATE = jinja2.Environment(
    loader=jinja2.FileSystemLoader(FIXTURES / "rungroup" / "render"),
    undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
).get_template("seed004_runs_plan.md.j2")
# No cluster profile: the CL rules need one (with one, CL007 compares the training-only
# "Total GPU hours" with planc's training + evaluation estimate, a false warning outside the
# run-group rules, reported to the coordinator); the one info left is EX013, which says so.
SETTINGS = Settings(root=FIXTURES)
# name, size label, checkpoint GiB per epoch
MODELS = [("Llama-3.2-1B-Instruct", "1B", 2.4), ("Llama-3.2-3B-Instruct", "3B", 6.1),
          ("Llama-3.1-8B-Instruct", "8B", 14.2)]
TASKS = [("capitalization_8L", "capitalization"), ("reasoning", "reasoning"),
         ("spelling", "spelling")]
LAB = "/scratch/gpfs/lab/cruijff_kit/tasks"


def _r(x: float, nd: int = 2) -> float:
    return round(x, nd)


@st.composite
def specs(draw: st.DrawFn) -> dict:
    """A consistent spec and every figure the template needs, computed from it."""
    models_raw = draw(st.lists(st.sampled_from(MODELS), min_size=1, max_size=2, unique=True))
    ranks = draw(st.lists(st.sampled_from([4, 8, 16, 64]), min_size=1, max_size=2, unique=True))
    gpus = draw(st.sampled_from([1, 2]))
    epochs = draw(st.integers(1, 3))
    train = 960 * draw(st.integers(2, 12))
    val = test = 100 * draw(st.integers(2, 20))
    total_reading = draw(st.booleans())  # "~M minutes total" = all N runs, else one run
    tasks_raw = TASKS[: draw(st.integers(1, 2))]
    all_epochs = draw(st.booleans()) and epochs > 1
    models = []
    for name, label, ckpt in models_raw:
        batch = draw(st.sampled_from([1, 2, 4, 8, 16]))
        its = draw(st.sampled_from([0.5, 1, 2, 4]))
        total_batch = batch * gpus
        steps = train // total_batch
        epoch_min = round(steps / its / 60) + 1
        per_run = epoch_min * epochs
        n = len(ranks)
        models.append(dict(
            name=name, label=label, batch=batch, total_batch=total_batch, its=its,
            steps=steps, epoch_min=epoch_min, per_run=per_run, n_runs=n,
            total_min=per_run * n if total_reading else per_run,
            sequential=per_run * n, gpu_hours=_r(n * per_run * gpus / 60),
            eval_min=draw(st.sampled_from([2, 3, 5])), ckpt=ckpt,
            ckpt_total=_r(n * epochs * ckpt, 1)))
    finetuned = [dict(name=f"{m['name']}_rank{r}", model=m, rank=r)
                 for m in models for r in ranks]
    controls = [dict(name=f"{m['name']}_base", model=m) for m in models]
    tasks = [dict(name=t, script=f"{LAB}/{d}/eval.py",
                  dataset=f"{LAB}/{d}/input/{t}.json", description=f"The {d} task")
             for t, d in tasks_raw]
    nt = len(tasks)
    eval_epochs = epochs if all_epochs else 1
    which = (f"all epochs ({', '.join(map(str, range(epochs)))})" if all_epochs
             else f"epoch_{epochs - 1} only")
    ft_evals = len(finetuned) * nt * eval_epochs
    base_evals = len(controls) * nt
    total_evals = ft_evals + base_evals
    per_model_evals = [(m, len(ranks) * nt * eval_epochs + nt) for m in models]
    total_eval_min = sum(k * m["eval_min"] for m, k in per_model_evals)
    max_job = max(m["per_run"] for m in models)
    max_eval = max(m["eval_min"] for m in models)
    total_sequential = sum(m["sequential"] for m in models)
    total_gpu_hours = _r(sum(m["gpu_hours"] for m in models))
    eval_gpu_hours = _r(total_eval_min / 60)
    ckpt_total = _r(sum(m["ckpt_total"] for m in models), 1)
    eval_mb = 10 * total_evals
    eval_gib = _r(eval_mb / 1024)
    mixed_gpus = 2 * gpus
    batches = math.ceil(len(finetuned) / 2)
    eval_batches = math.ceil(total_evals / mixed_gpus)
    factors = []
    if len(models) > 1:
        factors.append(dict(name="Model", levels=[m["name"] for m in models]))
    factors.append(dict(name="LoRA Rank", levels=[str(r) for r in ranks]))
    design = "×".join(str(len(f["levels"])) for f in factors) + " Factorial Design" \
        if len(factors) > 1 else f"{len(ranks)}-level LoRA rank comparison"
    return dict(
        name="cap_render_group", design=design, factors=factors, models=models,
        finetuned=finetuned, controls=controls, runs=finetuned + controls, tasks=tasks,
        models_dir="/scratch/gpfs/lab/models",
        dataset_path=f"{LAB}/capitalization/input/words_8L_80P_{train + val + test}.json",
        dataset_kb=655, train=train, val=val, test=test, which_epochs=which,
        eval_epochs=eval_epochs, ft_evals=ft_evals, base_evals=base_evals,
        total_evals=total_evals, gpus=gpus, epochs=epochs,
        recipe="lora_finetune_single_device" if gpus == 1 else "lora_finetune_distributed",
        batch_details=", ".join(f"{m['batch']} ({m['label']})" for m in models)
        + (" per GPU" if gpus > 1 else ""),
        effective_details=", ".join(f"{m['total_batch']} for {m['label']}" for m in models),
        alpha_details=", ".join(f"{2 * r} (rank {r})" for r in ranks),
        system_prompt="You are an expert at capitalizing words correctly.",
        prior_dir="/scratch/gpfs/lab/ck-out/cap_pilot",
        parallel_gpus=len(finetuned) * gpus, max_job=max_job, total_sequential=total_sequential,
        total_gpu_hours=total_gpu_hours,
        eval_breakdown="; ".join(f"{m['name']}: {k} evals × {m['eval_min']} min = "
                                 f"{k * m['eval_min']} min" for m, k in per_model_evals),
        total_eval_min=total_eval_min, total_eval_hours=eval_gpu_hours,
        eval_gpu_hours=eval_gpu_hours, ckpt_total=ckpt_total, eval_mb=eval_mb,
        eval_gib=eval_gib, disk_total=_r(ckpt_total + eval_gib + 0.05, 1),
        max_eval=max_eval, seq_hours=_r((total_sequential + total_eval_min) / 60, 1),
        mixed_gpus=mixed_gpus, batches=batches, eval_batches=eval_batches,
        mixed_training=batches * max_job, mixed_evals=eval_batches * max_eval,
        mixed_hours=_r((batches * max_job + eval_batches * max_eval) / 60, 1),
        all_gpu_hours=_r(total_gpu_hours + eval_gpu_hours),
    )


def render(spec: dict) -> str:
    return TEMPLATE.render(**spec)


def _write(tmp: Path, text: str) -> Path:
    path = tmp / "runs_plan.md"
    path.write_text(text, "utf-8")
    return path


def _errors(path: Path) -> list[tuple[int, str, str]]:
    return [(d.line, d.code, d.message) for d in lint_document(load(path), SETTINGS)
            if d.severity.value == "error"]


_HS = settings(max_examples=25, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                      HealthCheck.too_slow])


@_HS
@given(spec=specs())
def test_consistent_render_lints_clean_and_compiles(spec: dict, tmp_path_factory) -> None:
    tmp = tmp_path_factory.mktemp("r")
    path = _write(tmp, render(spec))
    diags = [d for d in lint_document(load(path), SETTINGS) if d.code != "EX013"]
    assert diags == [], "\n".join(f"{d.line}:{d.column}: {d.code} {d.message}" for d in diags)
    res = compile_plan(path, SETTINGS, out=tmp / "out", options=Options(), check=True)
    assert res.report is not None, res.diagnostics
    assert not [d for d in res.diagnostics if d.severity.value == "error"]


# -- planted contradictions: (name, line selector, edit) ---------------------------------
def _num_edit(pattern: str, change: Callable[[float], float]) -> Callable[[str], str]:
    """Replace the number in group 1 of ``pattern`` (first match) by ``change(number)``."""
    def edit(line: str) -> str:
        m = re.search(pattern, line)
        assert m, (pattern, line)
        v = float(m.group(1).replace(",", ""))
        new = change(v)
        text = f"{new:g}" if new != int(new) else str(int(new))
        return line[:m.start(1)] + text + line[m.end(1):]
    return edit


def _per_gpu(line: str) -> str:
    m = re.search(r"batch_size=(\d+) \((\d+) per GPU × (\d+) GPUs\)", line)
    if m:  # a per-GPU batch the runs do not use, multiplied out correctly
        b, g = 2 * int(m.group(2)), int(m.group(3))
        return line[:m.start()] + f"batch_size={b * g} ({b} per GPU × {g} GPUs)" + line[m.end():]
    m = re.search(r"batch_size=(\d+)", line)
    assert m
    return line[:m.start(1)] + str(int(m.group(1)) * 3) + line[m.end(1):]


def _total_min(spec: dict) -> Callable[[str], str]:
    m = spec["models"][0]  # fits neither one run nor all N runs
    return _num_edit(r"~(\d+) minutes total", lambda v: m["per_run"] * (m["n_runs"] + 0.5))


PLANTS: dict[str, tuple[Callable[[str], bool], Callable[[dict], Callable[[str], str]]]] = {
    "steps arithmetic": (lambda s: s.startswith("- Steps per epoch:"),
                         lambda spec: _num_edit(r"= ([\d,]+) steps", lambda v: v * 2 + 7)),
    "total run count": (lambda s: s.startswith("- **Total Runs**"),
                        lambda spec: _num_edit(r"\*\*: (\d+) \(", lambda v: v + 1)),
    "total GPU hours": (lambda s: s.startswith("- **Total GPU hours**"),
                        lambda spec: _num_edit(r": ([\d.]+) GPU", lambda v: v * 2 + 1)),
    "model GPU hours": (lambda s: s.startswith("- **GPU hours**") and "GPU hours" not in s[17:],
                        lambda spec: _num_edit(r": ([\d.]+) hours", lambda v: v * 3 + 1)),
    "lora alpha": (lambda s: s.startswith("- **LoRA alpha**"),
                   lambda spec: _num_edit(r": (\d+) \(rank", lambda v: v / 2 + 1)),
    "eval job count": (lambda s: s.startswith("  - **Total:") and "evaluations" in s,
                       lambda spec: _num_edit(r"Total: (\d+)", lambda v: v + 1)),
    "run name": (lambda s: s.startswith("| ") and "_rank" in s and "| Fine-tuned |" in s,
                 lambda spec: _num_edit(r"_rank(\d+) ", lambda v: v + 1)),
    "matrix run name": (lambda s: s.startswith("| ") and "_rank" in s and "| ✓ |" in s,
                        lambda spec: _num_edit(r"_rank(\d+) ", lambda v: v + 1)),
    "minutes total": (lambda s: "minutes total" in s, _total_min),
    "per-GPU batch": (lambda s: s.startswith("- Prior run data:"), lambda spec: _per_gpu),
    "sequential per run": (lambda s: s.startswith("- **Sequential**: "),
                           lambda spec: _num_edit(r"× (\d+) min", lambda v: v * 3 + 5)),
    "checkpoint arithmetic": (lambda s: " GiB = " in s and "runs ×" in s,
                              lambda spec: _num_edit(r"= ([\d.]+) GiB", lambda v: v + 10)),
    "estimate epochs": (lambda s: "epochs ×" in s and "runs**" in s,
                        lambda spec: _num_edit(r"\*\*(\d+) epochs", lambda v: v + 1)),
}


@pytest.mark.parametrize("plant", sorted(PLANTS))
@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=specs())
def test_each_planted_contradiction_is_an_error_at_its_line(plant: str, spec: dict,
                                                            tmp_path_factory) -> None:
    select, edit_of = PLANTS[plant]
    lines = render(spec).split("\n")
    where = next(i for i, s in enumerate(lines) if select(s))
    before = lines[where]
    lines[where] = edit_of(spec)(before)
    assert lines[where] != before
    path = _write(tmp_path_factory.mktemp("p"), "\n".join(lines))
    errors = _errors(path)
    line = where + 1
    allowed = {line}
    if "run name" in plant:  # the All Runs row and the matrix row contradict each other
        name = before.split("|")[1].strip()
        allowed |= {i + 1 for i, s in enumerate(lines) if s.startswith(f"| {name} |")}
    assert line in {e[0] for e in errors}, f"{plant}: no error for {lines[where]!r}: {errors}"
    assert {e[0] for e in errors} <= allowed, (plant, lines[where], errors)
