"""Harvest benchmark: ``planc results`` on 1,000 inspect-ai logs against ``read_eval_log``.

One real evaluation runs offline in-process (``planc/upper`` on a 5-sample capitalization
task), then its log is varied and written 1,000 times with inspect-ai's own
``write_eval_log`` (task id, run id, accuracy and status differ; every 10th log is an
error log) into a compiled-looking group: ``--runs`` runs × ``--evals`` evaluations, one log
each in ``<run>/eval/<key>/logs/``, a ``runs_status.yaml``, and the ``finetune.yaml`` and
``eval.yaml`` files ``planc compile`` writes for the shipped example plan (harvest reads
them for output folders and datasets).

Three timings on the same logs, in the same process, best of ``--repeat`` rounds that run
the three in turn (so load and warm-up hit all alike):

- **baseline**: ``inspect_ai.log.read_eval_log(path, header_only=True)`` on every log, the
  call the harvester makes (the floor: planc cannot read a log faster than inspect does);
- **harvest_inspect**: :func:`compiler.results.harvest_inspect` on every log (read +
  extraction into the results record);
- **harvest_group**: :func:`compiler.results.harvest_group` on the whole group (finding the
  logs from the tracker and compiled layout, epochs, ``results.json`` and the locked,
  atomic tracker update with a ``results:`` block per stage).

The ratios against the baseline are planc's overhead (goal: harvest_inspect ≤ 1.2 ×,
harvest_group ≤ 1.5 ×). A full read (``header_only=False``) is printed for scale. Usage::

    .venv/bin/python bench/harvest_bench.py                    # 1,000 .eval logs
    .venv/bin/python bench/harvest_bench.py --format json      # 1,000 .json logs
    .venv/bin/python bench/harvest_bench.py --runs 20 --evals 5 --repeat 1

Times are wall-clock seconds (``time.perf_counter``) and CPU seconds of this process
(``time.process_time``); on a busy machine the CPU ratio is the steadier one.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TASK = '''
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import match
from inspect_ai.solver import generate


@task
def capitalize():
    words = ["hello", "world", "lora", "tune", "mixed"]
    data = [Sample(input=f"Uppercase this word: {w}", id=w,
                   target="MiXED" if w == "mixed" else w.upper()) for w in words]
    return Task(dataset=data, solver=[generate()],
                scorer=match(location="exact", ignore_case=False))
'''


def real_log(root: Path, fmt: str) -> Path:
    """Run the capitalization task offline with ``planc/upper``; return the log path."""
    from inspect_ai import eval as inspect_eval

    (root / "task.py").write_text(TASK, "utf-8")
    logs = inspect_eval(f"{root / 'task.py'}@capitalize", model="planc/upper",
                        log_dir=str(root / "seed"), log_format=fmt, display="none")
    return Path(logs[0].location)


def compiled_files(root: Path) -> tuple[bytes | None, bytes | None]:
    """``finetune.yaml`` and ``eval.yaml`` of the shipped example plan, compiled here, so the
    benchmark group has the files a real group has (``None`` when the compile fails)."""
    import subprocess

    repo = Path(__file__).resolve().parent.parent
    out = root / "compiled"
    plan = repo / "plans" / "cap_8L_llama32_lora_comparison" / "runs_plan.md"
    proc = subprocess.run([sys.executable, "-m", "compiler", "compile", str(plan), "--out",
                           str(out)], cwd=repo, capture_output=True, text=True)
    ft = next(out.rglob("finetune.yaml"), None) if proc.returncode == 0 else None
    ev = next(out.rglob("eval.yaml"), None) if proc.returncode == 0 else None
    return (ft.read_bytes() if ft else None, ev.read_bytes() if ev else None)


def build_group(root: Path, seed_log: Path, runs: int, evals: int, fmt: str) -> list[Path]:
    """A group folder with ``runs × evals`` varied logs (plus each run's compiled
    ``finetune.yaml`` and each evaluation's ``eval.yaml``); returns the log paths."""
    from inspect_ai.log import EvalError, read_eval_log, write_eval_log

    from compiler import tracker

    finetune_yaml, eval_yaml = compiled_files(root)
    base = read_eval_log(str(seed_log))
    group = root / "group"
    paths: list[Path] = []
    status: dict = {"schema_version": 1, "run_group": "bench", "runs": {}}
    n = 0
    for r in range(runs):
        name = f"tiny_rank{r}"
        rec = {"type": "fine-tuned", "finetune": tracker.stage("completed"), "evaluations": {}}
        for e in range(evals):
            key = f"capitalize_{e % 10}_epoch_{e // 10}"
            log = base.model_copy(deep=True)
            log.eval.task_id = f"task{n:05d}"
            log.eval.run_id = f"run{n:05d}"
            if n % 10 == 9:
                log.status = "error"
                log.results = None
                log.error = EvalError(message=f"deliberate error {n}", traceback="",
                                      traceback_ansi="")
            else:
                log.results.scores[0].metrics["accuracy"].value = (n % 101) / 100
            d = group / name / "eval" / key / "logs"
            d.mkdir(parents=True, exist_ok=True)
            if eval_yaml:
                (d.parent / "eval.yaml").write_bytes(eval_yaml)
            path = d / f"2026-11-21T00-00-00-00-00_capitalize_{n:05d}.{fmt}"
            write_eval_log(log, str(path), format=fmt)
            paths.append(path)
            rec["evaluations"][key] = tracker.stage("completed")
            n += 1
        if finetune_yaml:
            (group / name / "finetune.yaml").write_bytes(finetune_yaml)
        status["runs"][name] = rec
    (group / "runs_status.yaml").write_text(tracker.dump(status), "utf-8")
    return paths


def interleaved(fns: list[Callable[[], object]], repeat: int) -> list[tuple[float, float]]:
    """``(best wall s, best CPU s)`` of each function over ``repeat`` rounds that run them in
    turn. CPU time (``time.process_time``) is what other work on a busy machine disturbs
    least."""
    times: list[list[tuple[float, float]]] = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            times[i].append((time.perf_counter() - w0, time.process_time() - c0))
    return [(min(w for w, _ in t), min(c for _, c in t)) for t in times]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--evals", type=int, default=10, help="evaluations per run")
    ap.add_argument("--format", choices=("eval", "json"), default="eval")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="planc-harvest-bench-") as tmp:
        root = Path(tmp)
        os.environ["HOME"] = str(root / "home")  # inspect keeps user state under $HOME
        os.environ.setdefault("INSPECT_LOG_LEVEL", "warning")
        t0 = time.perf_counter()
        seed = real_log(root, args.format)
        t_eval = time.perf_counter() - t0
        t0 = time.perf_counter()
        paths = build_group(root, seed, args.runs, args.evals, args.format)
        t_build = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in paths)
        print(f"real eval (planc/upper, 5 samples): {t_eval:.2f} s; wrote {len(paths)} "
              f".{args.format} logs ({size / 1e6:.1f} MB) in {t_build:.1f} s")

        from inspect_ai.log import read_eval_log

        from compiler import results

        group = root / "group"
        def each(fn: Callable[[Path], object]) -> Callable[[], None]:
            # results are dropped as they come, so neither side pays for keeping 1,000 logs
            def run() -> None:
                for p in paths:
                    fn(p)
            return run

        # interleaved repeats, so machine load and warm-up hit every contender alike
        header, ours, grp = interleaved(
            [each(lambda p: read_eval_log(str(p), header_only=True)),
             each(results.harvest_inspect), lambda: results.harvest_group(group)], args.repeat)
        full = interleaved([each(lambda p: read_eval_log(str(p)))], 1)[0]
        res = results.harvest_group(group)
        assert sum(len(r["evaluations"]) for r in res["runs"].values()) == len(paths)
        assert not res["problems"], res["problems"][:3]

        n = len(paths)
        base_w, base_c = header
        print(f"{'what':<50} {'wall s':>7} {'ms/log':>7} {'ratio':>6} {'CPU s':>7} {'ratio':>6}")
        rows = [("baseline: read_eval_log(header_only=True)", header),
                ("harvest_inspect (read + record)", ours),
                ("harvest_group (find, read, results.json, tracker)", grp),
                ("for scale: read_eval_log full read", full)]
        for label, (w, c) in rows:
            print(f"{label:<50} {w:7.3f} {1000 * w / n:7.2f} {w / base_w:5.2f}x "
                  f"{c:7.3f} {c / base_c:5.2f}x")
        print(f"overhead (wall / CPU): harvest_inspect {ours[0] / base_w:.2f}x / "
              f"{ours[1] / base_c:.2f}x, harvest_group {grp[0] / base_w:.2f}x / "
              f"{grp[1] / base_c:.2f}x of read_eval_log alone; load average "
              f"{os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
