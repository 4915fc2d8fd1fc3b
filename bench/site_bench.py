"""Site build benchmark: the planc plugin against a plain MkDocs build of the same pages.

For N plans with R runs each (default 10, 30 and 100 plans × 100 runs), a synthetic
project is generated: plan files, and per plan a compiled group (``manifest.json`` naming
the plan, ``runs_status.yaml`` with R runs, ``results.json`` with loss curves and scores).

- **planc**: ``mkdocs build`` with ``plugins: [search, planc]`` — lint, join, render, build.
- **baseline**: the very same pages written out as hand-written markdown files, built by a
  plain ``mkdocs build`` (``plugins: [search]``) in the same run, with the same nav.

The ratio planc / baseline is the plugin's overhead (goal: under 1.5 ×). Times are the best
of ``--repeat`` builds. Usage::

    python bench/site_bench.py                 # 10, 30, 100 plans
    python bench/site_bench.py --plans 10 --runs 20 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import markupsafe
import yaml

ROOT = Path(__file__).resolve().parent.parent

PLAN = """\
## 📋 Plan: Sweep {i}

### Objective
Measure how the learning rate changes accuracy for study {i}.

### Compute Setup
- Cluster type: slurm
- GPU count: 4
- gpuwrap: disabled
- Environment: venv

### Approach
1. **Sweep** — run the grid through tracked runs.
2. **Compare** — compare accuracy across learning rates.

### Metrics
- **Primary**: accuracy — the task's success measure

### Success Criteria
- [ ] every run completes

### Risks & Mitigations
- **Risk**: divergence at high lr → **Mitigation**: clip gradients

### Estimated Effort
- **Runs**: {runs}
- **Time**: 2 hours
- **Resources**: 4 GPUs

### 💡 Workflow Improvements
- reuse the sweep template
"""

MKDOCS = """\
site_name: bench
docs_dir: site
site_dir: build/site
use_directory_urls: false
theme: {{name: material, font: false}}
plugins:
{plugins}
markdown_extensions: [tables, admonition, attr_list, md_in_html]
"""


def make_project(folder: Path, plans: int, runs: int) -> None:
    (folder / "plans").mkdir(parents=True)
    (folder / "site").mkdir()
    (folder / "site" / "about.md").write_text("# About\n\nBenchmark project.\n")
    (folder / "pyproject.toml").write_text("[tool.planc]\n")
    for i in range(plans):
        rel = f"plans/sweep{i:03d}.md"
        (folder / rel).write_text(PLAN.format(i=i, runs=runs))
        group = folder / "build" / "plans" / f"sweep{i:03d}"
        group.mkdir(parents=True)
        (group / "manifest.json").write_text(json.dumps({"source": {"path": rel}}))
        status = {"schema_version": 1, "run_group": f"sweep{i:03d}", "runs": {}}
        results = {"schema_version": 1, "group": f"sweep{i:03d}", "runs": {}}
        for r in range(runs):
            name = f"lr{r % 10}_seed{r // 10}"
            status["runs"][name] = {
                "type": "sweep",
                "run": {
                    "status": "completed" if r % 7 else "failed",
                    "job_id": str(10000 + r),
                    "output": None,
                    "last_updated": "2025-10-18 14:03:22",
                },
            }
            results["runs"][name] = {
                "training": {
                    "final_loss": 1.0 / (r + 1),
                    "steps": 50,
                    "epochs": 1,
                    "duration_s": 120.0 + r,
                    "loss_curve": [[s, 3.0 / (s + 1)] for s in range(1, 51)],
                },
                "evaluations": {
                    "acc": {
                        "task": "acc",
                        "status": "success",
                        "epoch": 0,
                        "samples": 100,
                        "scores": {"match": {"accuracy": 0.5 + r / (2 * runs)}},
                    }
                },
            }
        (group / "runs_status.yaml").write_text(yaml.safe_dump(status, sort_keys=False))
        (group / "results.json").write_text(json.dumps(results))


def build(folder: Path, plugins: str) -> float:
    (folder / "mkdocs.yml").write_text(MKDOCS.format(plugins=plugins))
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    return elapsed


def write_baseline(src: Path, dst: Path) -> None:
    """The planc pages written as ordinary files in a docs folder (same content, same nav)."""
    sys.path.insert(0, str(ROOT))
    from compiler.config import Settings
    from compiler.rules import RULES
    from compiler.site import collect, render_pages

    settings = Settings(root=src)
    views = collect(settings, src / "plans", src / "build" / "plans")
    pages = render_pages(views, RULES)
    (dst / "site").mkdir(parents=True)
    (dst / "site" / "about.md").write_text("# About\n\nBenchmark project.\n")
    for rel, text in pages.items():
        p = dst / "site" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, "utf-8")
    for css in ("planc.css", "planc.js"):
        p = dst / "site" / "assets" / "planc" / css
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text((ROOT / "compiler" / "templates" / "site" / css).read_text())
    nav = [
        {"Plans": "index.md"},
        {
            "Plan pages": [
                {str(markupsafe.escape(v.title)): f"plans/{v.slug}/index.md"} for v in views
            ]
        },
        "about.md",
        {"Rules": "rules/index.md"},
    ]
    (dst / "nav.yml").write_text(yaml.safe_dump(nav))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--plans", type=int, nargs="*", default=[10, 30, 100])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    print(f"{'plans':>6} {'pages':>7} {'planc s':>9} {'plain s':>9} {'ratio':>6} {'ms/page':>8}")
    for n in args.plans:
        with tempfile.TemporaryDirectory() as tmp:
            proj, base = Path(tmp) / "proj", Path(tmp) / "base"
            make_project(proj, n, args.runs)
            write_baseline(proj, base)
            nav = (base / "nav.yml").read_text()
            planc = min(build(proj, "  - search\n  - planc") for _ in range(args.repeat))
            base_cfg = "  - search\nnav:\n" + "".join(
                "  " + line + "\n" for line in nav.splitlines()
            )
            plain = min(build(base, base_cfg) for _ in range(args.repeat))
            pages = sum(1 for _ in (proj / "build" / "site").rglob("*.html"))
            print(
                f"{n:>6} {pages:>7} {planc:>9.2f} {plain:>9.2f} {planc / plain:>6.2f} "
                f"{1000 * planc / pages:>8.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
