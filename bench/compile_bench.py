"""Compile benchmark: a 10,000-run group (two evaluation tasks each), against floors, with a
growth curve and LLNL Maestro side by side.

What it measures (each compile in a fresh temporary folder, in-process, after one warm-up):

- the 10,000-run group in a fresh process: wall time and peak memory (the process's
  ``ru_maxrss`` plus that of its largest forked child, an upper bound; tracemalloc would
  slow the timed run 2–3×); floors: under 10 s and 1 GiB;
- the curve for 100, 1,000, 3,000 and 10,000 runs (time per run shows linear growth);
- a no-op recompile of the 10,000-run group (floor: under 2 s);
- Maestro (``maestrowf``) generating the scripts of an equivalent 10,000-combination study
  with ``maestro run -fg -s 1 --dry -y`` (a global.parameters block of 10,000 combinations;
  ``-fg`` keeps the conductor in the foreground so the time includes generating the study),
  and the ratio. Maestro is skipped with a note when it is not installed.

Deletions: nothing is deleted until every measurement is done. This machine's root file
system is ext4 mounted *without a journal* (``dmesg``: "mounted filesystem … without
journal"); in that mode ext4's ``find_inode_bit`` calls ``recently_deleted()`` on each free
inode slot it passes and skips inodes deleted less than 60 s ago (360 s while their
inode-table block is dirty; ``fs/ext4/ialloc.c``, RECENTCY_MIN/RECENTCY_DIRTY). After a
large deletion every ``open(O_CREAT)`` and ``mkdir`` scans those slots: ``perf record`` of
a slow compile shows 55% of its samples in ``recently_deleted``, all system CPU time, and
the same 80,000 plain file creations take 24–43 s instead of 2 s. Running this benchmark
again within ~6 minutes of a previous run (which deletes ~1.5 GB of small files at its
end) measures that effect, not planc: wait, or read the CPU figures it prints.

Run: ``.venv/bin/python bench/compile_bench.py [--runs 10000] [--no-maestro]``. Exit 1 when
a floor is missed.
"""

from __future__ import annotations

import argparse
import gc
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compiler.config import Settings  # noqa: E402
from compiler.expand import Options  # noqa: E402
from compiler.pipeline import compile_plan  # noqa: E402

FLOOR_S = 10.0
FLOOR_GIB = 1.0
NOOP_FLOOR_S = 2.0


def plan_text(runs: int) -> str:
    """A front-matter run group of ``runs`` fine-tuned runs: lora_rank × lr grid."""
    ranks = max(1, int(round(runs ** 0.5)))
    while runs % ranks:
        ranks -= 1
    lrs = runs // ranks
    rank_levels = [4 * (i + 1) for i in range(ranks)]
    lr_levels = [round(1e-5 * (i + 1), 8) for i in range(lrs)]
    return (
        "---\n"
        "kind: run-group\n"
        f"experiment: {{name: bench_{runs}, date: 2025-10-18}}\n"
        f"variables: {{lora_rank: {rank_levels}, lr: {lr_levels}}}\n"
        "controls: false\n"
        "models: [{name: Llama-3.2-1B-Instruct, path: /models/Llama-3.2-1B-Instruct}]\n"
        "data: {training: {path: /data/words.json, splits: {train: 8000, validation: 1000, "
        "test: 1000}}}\n"
        "training: {epochs: 2, batch_size: 16}\n"
        "evaluation:\n"
        "  tasks: [{name: cap, script: tasks/cap/eval.py}, {name: rsn, script: "
        "tasks/rsn/eval.py}]\n"
        "compute: {cluster: della, partition: gpu, time: '02:00:00'}\n"
        "---\n"
        f"# bench_{runs}\n"
    )


def compile_once(plan: Path, out: Path, settings: Settings) -> tuple[float, object]:
    t0 = time.perf_counter()
    res = compile_plan(plan, settings, out=out, options=Options(), lint=True)
    dt = time.perf_counter() - t0
    if res.report is None:
        raise SystemExit(f"compile failed: {[d.message for d in res.diagnostics][:5]}")
    return dt, res


def count_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


def bench_planc(tmp: Path, sizes: list[int]) -> dict[int, float]:
    settings = bench_settings(tmp)
    times: dict[int, float] = {}
    for n in sizes:
        plan = tmp / f"plan_{n}.md"
        plan.write_text(plan_text(n), "utf-8")
        gc.collect()
        dt, res = compile_once(plan, tmp / f"out_{n}", settings)
        times[n] = dt
        print(f"planc  {n:>6} runs: {dt:7.2f} s  {dt / n * 1e3:6.3f} ms/run  "
              f"{count_files(res.group_dir):>6} files")
    return times


def bench_settings(tmp: Path) -> Settings:
    """A project outside this repository (so that commits made while the benchmark runs do
    not change the manifest's git commit) using this repository's cluster profiles."""
    project = tmp / "project"
    project.mkdir(exist_ok=True)
    return Settings(root=project, clusters=str(ROOT / "clusters"))


def bench_big(tmp: Path, n: int) -> tuple[float, ...]:
    """Compile, no-op recompile and slow no-op of an ``n``-run group in this process.

    Returns (seconds, max RSS bytes (this process + its largest child), no-op seconds, no-op
    seconds without the fingerprint index, user and system CPU seconds of the compile in
    this process, CPU seconds of its forked children). Call it in a fresh process
    (``--single``) so that RSS is this group's own."""
    settings = bench_settings(tmp)
    w = tmp / "warm.md"
    w.write_text(plan_text(10), "utf-8")
    compile_once(w, tmp / "warm", settings)
    plan = tmp / f"big_{n}.md"
    plan.write_text(plan_text(n), "utf-8")
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF)
    kids_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    dt, res = compile_once(plan, tmp / "big", settings)
    after = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    kids_cpu = (kids.ru_utime - kids_before.ru_utime) + (kids.ru_stime - kids_before.ru_stime)
    # the forked children (scripts, file writing) count too: their largest RSS is added,
    # an upper bound (pages shared with this process are counted twice)
    rss = (after.ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) * 1024
    t0 = time.perf_counter()
    res2 = compile_plan(plan, settings, out=tmp / "big", options=Options())
    noop = time.perf_counter() - t0
    if res2.report.written or not res2.report.fast_path:
        # only when planc's own files changed in between (a fingerprint input)
        print(f"note: the no-op recompile rewrote {res2.report.written[:5]} "
              f"(fast path: {res2.report.fast_path})")
    # the slow path of a no-op (no fingerprint index): render everything, write nothing
    (tmp / "big" / ".planc-groups.json").unlink()
    t0 = time.perf_counter()
    res3 = compile_plan(plan, settings, out=tmp / "big", options=Options())
    slow_noop = time.perf_counter() - t0
    if res3.report.written:
        print(f"note: the slow no-op rewrote {res3.report.written[:5]}")
    return (dt, rss, noop, slow_noop, after.ru_utime - before.ru_utime,
            after.ru_stime - before.ru_stime, kids_cpu)


def bench_big_subprocess(n: int, folder: Path) -> tuple[float, ...]:
    """:func:`bench_big` in a fresh process, writing under ``folder`` (deleted by the
    caller at the very end: see the module docstring on deletions)."""
    folder.mkdir(parents=True)
    proc = subprocess.run([sys.executable, __file__, "--single", str(n), "--dir", str(folder)],
                          capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(proc.stdout + proc.stderr)
    sys.stdout.write("".join(line + "\n" for line in proc.stdout.splitlines()
                             if line.startswith("note:")))
    return tuple(float(x) for x in proc.stdout.strip().splitlines()[-1].split())


def maestro_spec(n: int) -> str:
    ranks = max(1, int(round(n ** 0.5)))
    while n % ranks:
        ranks -= 1
    lrs = n // ranks
    rank_vals, lr_vals = [], []
    for i in range(ranks):
        for j in range(lrs):
            rank_vals.append(4 * (i + 1))
            lr_vals.append(round(1e-5 * (j + 1), 8))
    return (
        "description:\n  name: bench\n  description: LoRA grid\n"
        "env:\n  variables:\n    OUTPUT_PATH: ./out\n"
        "study:\n"
        "  - name: finetune\n    description: fine-tune\n    run:\n"
        "      cmd: tune run lora_finetune_single_device --config finetune.yaml "
        "model.lora_rank=$(RANK) optimizer.lr=$(LR)\n"
        "  - name: eval_cap\n    description: eval\n    run:\n"
        "      cmd: inspect eval tasks/cap/eval.py --model hf/local\n"
        "      depends: [finetune]\n"
        "  - name: eval_rsn\n    description: eval\n    run:\n"
        "      cmd: inspect eval tasks/rsn/eval.py --model hf/local\n"
        "      depends: [finetune]\n"
        "global.parameters:\n"
        f"  RANK:\n    values: {rank_vals}\n    label: RANK.%%\n"
        f"  LR:\n    values: {lr_vals}\n    label: LR.%%\n"
    )


def bench_maestro(tmp: Path, n: int) -> float | None:
    exe = shutil.which("maestro") or str(Path(sys.executable).with_name("maestro"))
    if not Path(exe).exists() and not shutil.which("maestro"):
        print("maestro: not installed (pip install maestrowf); skipped")
        return None
    spec = tmp / "maestro" / "spec.yaml"
    spec.parent.mkdir(parents=True)
    spec.write_text(maestro_spec(n), "utf-8")
    t0 = time.perf_counter()
    # -fg: run the conductor in this process group (it otherwise detaches with nohup and
    # generates the study after `maestro run` returns); -s 1: poll every second, not 60 s
    proc = subprocess.run([exe, "run", "-fg", "-s", "1", "--dry", "-y", "-o",
                           str(tmp / "maestro" / "study"), str(spec)],
                          capture_output=True, text=True, cwd=spec.parent, timeout=3600)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        print(f"maestro failed ({proc.returncode}): {proc.stderr[-800:]}")
        return None
    print(f"maestro {n:>6} combos: {dt:7.2f} s  "
          f"{count_files(tmp / 'maestro' / 'study'):>6} files (maestro run --dry)")
    return dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--no-maestro", action="store_true")
    ap.add_argument("--single", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--dir", help=argparse.SUPPRESS)
    ap.add_argument("--curve", default="100,1000,3000,10000")
    ap.add_argument("--maestro-runs", type=int, default=0,
                    help="combinations for Maestro (default: --runs)")
    args = ap.parse_args(argv)
    if args.single:
        r = bench_big(Path(args.dir), args.single)
        print(" ".join(str(x) for x in r))
        return 0
    ok = True
    with tempfile.TemporaryDirectory(prefix="planc-bench-") as td:
        tmp = Path(td)
        # First, before this benchmark has deleted anything (see the module docstring).
        dt, rss, noop, slow_noop, user, system, kids = bench_big_subprocess(args.runs,
                                                                            tmp / "big")
        print(f"{args.runs} runs (fresh process): {dt:.2f} s (floor {FLOOR_S} s; CPU "
              f"{user:.2f} s user + {system:.2f} s system, {kids:.2f} s in forked children), "
              f"max RSS {rss / 2**30:.3f} GiB "
              "with the largest child "
              f"(floor {FLOOR_GIB} GiB)")
        print(f"no-op recompile: {noop:.2f} s (floor {NOOP_FLOOR_S} s); without the "
              f"fingerprint index: {slow_noop:.2f} s")
        ok &= dt < FLOOR_S and rss < FLOOR_GIB * 2**30 and noop < NOOP_FLOOR_S
        # warm-up (imports, template compilation)
        w = tmp / "warm.md"
        w.write_text(plan_text(10), "utf-8")
        compile_once(w, tmp / "warm", bench_settings(tmp))
        sizes = [int(s) for s in args.curve.split(",") if s]
        times = bench_planc(tmp, sizes)
        if len(times) > 1:
            per = [times[n] / n for n in sizes]
            print(f"time per run from {sizes[0]} to {sizes[-1]} runs: "
                  + " → ".join(f"{p * 1e3:.3f} ms" for p in per)
                  + f" (ratio last/first {per[-1] / per[0]:.2f}; 1.0 = linear)")
        if not args.no_maestro:
            mn = args.maestro_runs or args.runs
            mt = bench_maestro(tmp, mn)
            if mt is not None and mn != args.runs:
                mt = mt * args.runs / mn
                print(f"maestro scaled linearly to {args.runs} combinations: {mt:.1f} s")
            if mt is not None:
                print(f"planc / maestro (dry run): {dt:.2f} s / {mt:.2f} s = {dt / mt:.2f}x "
                      f"(maestro is {mt / dt:.1f}x slower)" if mt > dt else
                      f"planc / maestro (dry run): {dt:.2f} s / {mt:.2f} s = {dt / mt:.2f}x")
    print("floors: " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
