"""A retried evaluation reuses the samples that completed (issue 11): planc compiles
evaluations as ``inspect eval-set --retry-attempts 0 --log-dir <eval>/logs``, so rerunning the
same job (``planc submit --retry-failed``) on the same log folder evaluates only what failed.

Real inspect-ai, offline: a task whose solver fails on one sample unless ``PLANC_FIXED`` is
set and counts every sample it solves in a file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TASK = '''
import os
from pathlib import Path
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import match
from inspect_ai.solver import generate, solver


@solver
def counting():
    async def solve(state, generate_fn):
        with open(os.environ["PLANC_COUNT"], "a") as fh:
            fh.write(str(state.sample_id) + "\\n")
        if state.sample_id == "mixed" and not os.environ.get("PLANC_FIXED"):
            raise RuntimeError("fails until fixed")
        return await generate_fn(state)
    return solve


@task
def capitalize():
    words = ["hello", "world", "lora", "tune", "mixed"]
    return Task(dataset=[Sample(input=f"Uppercase this word: {w}", id=w, target=w.upper())
                         for w in words],
                solver=[counting()], scorer=match(location="exact"))
'''


def _eval_set(tmp: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # the words planc's eval.slurm runs (compiler/templates/slurm/_macros.j2 inspect_words)
    inspect = str(Path(sys.executable).parent / "inspect")
    return subprocess.run([inspect, "eval-set", "task.py@capitalize", "--model", "planc/upper",
                           "--retry-attempts", "0", "--log-dir", str(tmp / "logs"),
                           "--display", "none"],
                          cwd=tmp, env=env, capture_output=True, text=True, timeout=300)


def test_a_retried_evaluation_runs_only_the_failed_samples(tmp_path: Path) -> None:
    pytest.importorskip("inspect_ai")
    (tmp_path / "task.py").write_text(TASK, "utf-8")
    count = tmp_path / "count.txt"
    env = {**os.environ, "PLANC_COUNT": str(count), "INSPECT_LOG_LEVEL": "warning"}
    env.pop("PLANC_FIXED", None)
    first = _eval_set(tmp_path, env)
    assert first.returncode != 0, first.stdout + first.stderr  # one sample failed
    solved_first = count.read_text().split()
    assert sorted(solved_first) == ["hello", "lora", "mixed", "tune", "world"]
    count.write_text("", "utf-8")
    second = _eval_set(tmp_path, {**env, "PLANC_FIXED": "1"})
    assert second.returncode == 0, second.stdout + second.stderr
    assert count.read_text().split() == ["mixed"]  # the four completed samples were reused
