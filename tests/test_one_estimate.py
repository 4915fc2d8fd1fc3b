"""One estimate everywhere (issue 9): expand, compile (``#SBATCH --time``), the group README
and rule CL007 show the figure of :func:`compiler.estimate.estimate_run`, and the speeds a
plan states are its inputs."""

from __future__ import annotations

import re
from pathlib import Path

from compiler.config import Settings
from compiler.document import load
from compiler.estimate import job_time_limit
from compiler.models.cluster import format_slurm_time
from compiler.spec import build

from .conftest import ROOT, run_planc

PLAN = ROOT / "plans/cap_8L_llama32_lora_comparison/runs_plan.md"


def test_stated_speeds_are_the_estimate_inputs() -> None:
    matrix = build(load(PLAN), Settings(root=ROOT)).matrix
    ft = {r.model: r for r in matrix.fine_tuned}
    one, three = ft["Llama-3.2-1B-Instruct"], ft["Llama-3.2-3B-Instruct"]
    # "8,000 samples, batch_size=16, speed=0.8 it/s": 500 steps ÷ 0.8 × 2 epochs
    assert one.estimate.basis == "plan" and one.estimate.it_s == 0.8
    assert one.estimate.train_seconds == round(500 / 0.8 * 2, 1)
    assert three.estimate.train_seconds == round(1000 / 0.75 * 2, 1)
    # the plan states 2.3 training GPU hours; planc's training figure is within 10 %
    train_h = sum(r.estimate.train_seconds for r in matrix.fine_tuned) / 3600
    assert abs(train_h - 2.3) / 2.3 < 0.1


def test_expand_compile_readme_and_cl007_agree(tmp_path: Path) -> None:
    matrix = build(load(PLAN), Settings(root=ROOT)).matrix
    total = matrix.totals.gpu_hours
    proc = run_planc("expand", str(PLAN))
    assert proc.returncode == 0, proc.stderr
    assert f"{total:.2f} GPU hours" in proc.stdout
    out = tmp_path / "out"
    assert run_planc("compile", "--out", str(out), str(PLAN)).returncode == 0
    group = out / matrix.group
    readme = (group / "README.md").read_text("utf-8")
    assert f"**{total:.2f}**" in readme
    for run in matrix.fine_tuned:
        script = (group / run.name / "finetune.slurm").read_text("utf-8")
        want = format_slurm_time(job_time_limit(run.estimate.train_seconds))
        assert re.search(rf"^#SBATCH --time={want}$", script, re.M), run.name
    # CL007 compares the plan's stated total with the same figure (della profile)
    text = PLAN.read_text("utf-8").replace("**Total GPU hours**: 2.3 GPU hours",
                                           "**Total GPU hours**: 9.9 GPU hours")
    bad = tmp_path / "runs_plan.md"
    bad.write_text("---\ncompute: {cluster: della}\n---\n" + text, "utf-8")
    lint = run_planc("lint", "--format", "json", str(bad), cwd=ROOT)
    cl007 = [d for d in __import__("json").loads(lint.stdout) if d["code"] == "CL007"]
    assert len(cl007) == 1, lint.stdout
    m2 = build(load(bad), Settings(root=ROOT)).matrix
    # seed 004's "Total GPU hours" is the training total: CL007 compares the training part
    train_gpu_h = sum(r.estimate.train_seconds * r.train.gpus for r in m2.runs) / 3600
    assert f"{train_gpu_h:.2f}" in cl007[0]["message"]
    assert "the speeds this plan states" in cl007[0]["message"]
