"""Build a small planc project for site tests: the shipped plans, a compiled group with
statuses a job would have written, harvested results, logs with a secret in them, and a
hostile plan whose text must be escaped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from .conftest import FIXTURES, ROOT, run_planc

SECRET = "sk-live-0123456789abcdef"
GROUP = "cap_8L_llama32_lora_comparison"
#: cruijff_kit's experiment_summary.yaml (fine-tuned, control and eval-only runs) as a plan
ESUM_GROUP = "workflow_test_2026-03-16"
ESUM_SLUG = "ck_capitalization--experiment_summary"
HOSTILE_PLAN = """\
## 📋 Plan: Escaping <script>alert('plan')</script> check

### Objective
Make sure text like <img src=x onerror=alert(1)> and `<b>code</b>` is shown, not run.

### Compute Setup
- Cluster type: cpu_only
- GPU count: 0
- gpuwrap: disabled
- Environment: venv

### Approach
1. **Write** — a plan with hostile text.

### Metrics
- **Primary**: accuracy — shows the plan works

### Success Criteria
- [ ] the site escapes it

### Risks & Mitigations
- **Risk**: script injection → **Mitigation**: escape everything

### Estimated Effort
- **Runs**: 1
- **Time**: 1 minute
- **Resources**: one CPU

### 💡 Workflow Improvements
- none
"""


def build_project(tmp: Path) -> Path:
    """A project folder with plans/, clusters/, mkdocs.yml, site/ and a compiled group."""
    proj = tmp / "proj"
    shutil.copytree(ROOT / "plans", proj / "plans")
    if (ROOT / "clusters").is_dir():
        shutil.copytree(ROOT / "clusters", proj / "clusters")
    shutil.copytree(ROOT / "site", proj / "site")
    shutil.copy(ROOT / "mkdocs.yml", proj / "mkdocs.yml")
    (proj / "pyproject.toml").write_text("[tool.planc]\n")
    (proj / "plans" / "hostile.md").write_text(HOSTILE_PLAN)
    out = proj / "build" / "plans"
    proc = run_planc(
        "compile",
        "plans/cap_8L_llama32_lora_comparison/runs_plan.md",
        "--out",
        str(out),
        cwd=proj,
        env={"SOURCE_DATE_EPOCH": "1760796202"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    group = out / GROUP
    status_path = group / "runs_status.yaml"
    status = yaml.safe_load(status_path.read_text())
    runs = status["runs"]
    names = list(runs)
    ft = [n for n in names if not n.endswith("_base")]
    results: dict = {"schema_version": 1, "group": GROUP, "runs": {}}
    for i, name in enumerate(ft):
        rec = runs[name]
        job = str(1000 + i)
        log = group / name / f"slurm-{job}.out"
        log.write_text(
            f"Step 1 | loss:2.5\nexport RESEARCH_AGENT_TOKEN={SECRET}\n"
            f"X-Auth-Token: {SECRET}\n<script>alert('log')</script>\n"
        )
        failed = i == len(ft) - 1
        rec["finetune"].update(
            status="failed" if failed else "completed",
            job_id=job,
            output=str(log),
            last_updated=f"2025-10-18 15:0{i}:00",
        )
        if failed:
            rec["finetune"].update(reason="OUT_OF_MEMORY", exit_code=137)
        for _key, ev in rec["evaluations"].items():
            ev.update(
                status="pending" if failed else "completed",
                job_id=None if failed else str(2000 + i),
            )
        if failed:
            continue
        rank = 4 if "rank4" in name else 64
        acc = 0.7 + (0.1 if rank == 64 else 0) + (0.05 if "3B" in name else 0)
        results["runs"][name] = {
            "training": {
                "final_loss": 1.0 / (i + 1),
                "steps": 4,
                "epochs": 2,
                "duration_s": 600.0 + i,
                "tokens_per_second": 1000.0,
                "it_per_s": 1.3,
                "peak_memory_gib": None,
                "checkpoint_gib": {"0": 2.4, "1": 2.4},
                "loss_curve": [[s, 3.0 - 0.2 * s - 0.1 * i] for s in range(1, 9)],
                "log": str(log),
            },
            "evaluations": {
                key: {
                    "task": key.rsplit("_epoch_", 1)[0],
                    "model": "hf/local",
                    "status": "success",
                    "epoch": int(key.rsplit("_", 1)[1]) if "_epoch_" in key else None,
                    "samples": 100,
                    "completed_samples": 100,
                    "scores": {"match": {"accuracy": acc, "stderr": 0.02}},
                    "duration_s": 60.0,
                    "log": None,
                    "error": None,
                }
                for key in rec["evaluations"]
            },
        }
    status_path.write_text(yaml.safe_dump(status, sort_keys=False))
    (group / "results.json").write_text(json.dumps(results, indent=2))
    _add_experiment_summary(proj, out)
    return proj


def _add_experiment_summary(proj: Path, out: Path) -> None:
    """plans/ck_capitalization/experiment_summary.yaml compiled into ``out``, with one
    fine-tune completed and one failed in its tracker (as ``planc sync`` writes them)."""
    esum = proj / "plans" / "ck_capitalization" / "experiment_summary.yaml"
    esum.parent.mkdir()
    shutil.copy(FIXTURES / "esum" / "experiment_summary_mixed.yaml", esum)
    proc = run_planc("compile", str(esum.relative_to(proj)), "--out", str(out), cwd=proj,
                     env={"SOURCE_DATE_EPOCH": "1760796202"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    status_path = out / ESUM_GROUP / "runs_status.yaml"
    status = yaml.safe_load(status_path.read_text())
    for name, state in (("Llama-3.2-1B-Instruct_rank4", "completed"),
                        ("Llama-3.2-1B-Instruct_rank8", "failed")):
        status["runs"][name]["finetune"].update(status=state, job_id="3001",
                                                last_updated="2026-03-17 10:00:00")
    status_path.write_text(yaml.safe_dump(status, sort_keys=False))


def build_site(proj: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compiler", "site", "build"],
        cwd=proj,
        capture_output=True,
        text=True,
        timeout=300,
    )


SWEEP_GROUP = "lr-sweep"
SWEEP_SLUG = "lr-sweep--plan"
FAILING_RUN = "alpha0.001_seed1"
FAILURE = "RuntimeError: diverged on purpose for the site test"


def build_sweep_project(tmp: Path) -> Path:
    """A project in which the shipped CPU sweep (``plans/lr-sweep``) has really run with
    ``planc run --local`` and been harvested by ``planc results``; its ``train.py`` is
    changed to fail for one run (:data:`FAILING_RUN`) with :data:`FAILURE`."""
    proj = tmp / "sweep"
    shutil.copytree(ROOT / "plans" / "lr-sweep", proj / "plans" / "lr-sweep")
    if (ROOT / "clusters").is_dir():
        shutil.copytree(ROOT / "clusters", proj / "clusters")
    shutil.copytree(ROOT / "site", proj / "site")
    shutil.copy(ROOT / "mkdocs.yml", proj / "mkdocs.yml")
    (proj / "pyproject.toml").write_text("[tool.planc]\n")
    train = proj / "plans" / "lr-sweep" / "train.py"
    text = train.read_text()
    hook = "    args = parse_args(argv)\n"
    assert hook in text
    train.write_text(text.replace(hook, hook + (
        "    if args.alpha == 1e-3 and args.seed == 1:\n"
        "        print('epoch 1: loss nan')\n"
        f"        raise {FAILURE.split(':')[0]}({FAILURE.split(': ', 1)[1]!r})\n"), 1))
    out = proj / "build" / "plans"
    env = {"SOURCE_DATE_EPOCH": "1760796202",
           "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    proc = run_planc("compile", "plans/lr-sweep/plan.md", "--out", str(out), cwd=proj, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    group = out / SWEEP_GROUP
    proc = run_planc("run", str(group), "--local", cwd=proj, env=env, timeout=300)
    assert "5 completed, 1 failed" in proc.stdout, proc.stdout + proc.stderr
    proc = run_planc("results", str(group), cwd=proj, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proj
