"""Speed floors of ``planc lint``, printed as ratios against baselines run in the same process.

Run from the repository root::

    .venv/bin/python bench/lint_bench.py            # all three benchmarks
    .venv/bin/python bench/lint_bench.py --check    # exit 1 when a floor is missed
    .venv/bin/python bench/lint_bench.py --profile  # also: per-rule cost and cProfile top

1. **Throughput.** 1,000 generated plan files of about 12 KB (plans, task plans and run
   groups in equal parts, grown from the shipped ``plans/`` and the good fixtures by adding
   table rows and list items). Baseline: markdown-it-py parsing with the same configuration
   as :data:`compiler.document._MD` plus CSafeLoader loading of the front-matter, one
   process. Then :func:`compiler.lint.lint_paths` on all cores. Floor: lint <= 1.3 x
   baseline. Best of ``--repeat`` (3) runs each.
2. **Fresh process** (the pre-commit case): ``python -m compiler lint FILE`` and the
   ``planc`` console script on one file, best of 10. Floor: 0.3 s. Prints the top entries
   of ``-X importtime``.
3. **Cache.** A second lint of the unchanged tree with ``cache = true`` against an uncached
   lint of the same tree.

Times are wall-clock seconds (``time.perf_counter``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compiler import __version__  # noqa: E402
from compiler.cache import CACHE_DIR, lint_cached  # noqa: E402
from compiler.config import Settings  # noqa: E402
from compiler.document import load  # noqa: E402
from compiler.lint import lint_paths, rule_options  # noqa: E402
from compiler.rules import RULES  # noqa: E402
from compiler.rules.base import Context  # noqa: E402

KINDS = ("plan", "tasks", "run-group")
THROUGHPUT_FLOOR = 1.3  # lint time / baseline time
FRESH_FLOOR_S = 0.3
_TASK_ID = re.compile(r"\[P(\d+)-T(\d+)\]")


# -- corpus --------------------------------------------------------------------------------
def _templates() -> dict[str, list[Path]]:
    """Shipped plans first, then good fixtures, by kind; the common fixtures as a fallback."""
    out: dict[str, list[Path]] = defaultdict(list)
    candidates = sorted((ROOT / "plans").rglob("*.md")) if (ROOT / "plans").is_dir() else []
    candidates += sorted(p for p in (ROOT / "tests" / "fixtures").glob("*/good/**/*.md"))
    for path in candidates:
        doc = load(path)
        if doc.kind in KINDS and path.stat().st_size >= 1000 and _blocks(doc.text):
            out[doc.kind].append(path)
    if not out:
        out["unknown"] = sorted((ROOT / "tests" / "fixtures" / "common").glob("*/*.md"))
    return out


def _blocks(text: str) -> list[list[tuple[int, int]]]:
    """Groups of repeatable line ranges ``[start, end)``: each table's body rows, each
    list's items (markdown-it line maps; body-relative, so only for text without
    ``<plan>`` extraction)."""
    md = MarkdownIt("commonmark", {"html": True}).enable("table").use(front_matter_plugin)
    tokens = md.parse(text)
    groups: list[list[tuple[int, int]]] = []
    stack: list[list[tuple[int, int]]] = []
    in_body = False
    rows: list[tuple[int, int]] = []
    for tok in tokens:
        if tok.type == "tbody_open":
            in_body, rows = True, []
        elif tok.type == "tbody_close":
            in_body = False
            if rows:
                groups.append(rows)
        elif tok.type == "tr_open" and in_body and tok.map:
            rows.append((tok.map[0], tok.map[1]))
        elif tok.type in ("bullet_list_open", "ordered_list_open"):
            stack.append([])
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            items = stack.pop() if stack else []
            if items and not stack:  # top-level lists only: nested items move with parents
                groups.append(items)
        elif tok.type == "list_item_open" and tok.map and len(stack) == 1:
            stack[-1].append((tok.map[0], tok.map[1]))
    return groups


def _vary(lines: list[str], n: int) -> list[str]:
    """A copy of a row or item that is not a verbatim duplicate (new task ids, new names)."""
    out = []
    for line in lines:
        line = _TASK_ID.sub(lambda m: f"[P{m.group(1)}-T{int(m.group(2)) + 10 * n}]", line)
        if line.lstrip().startswith("|"):
            cells = line.split("|")
            if len(cells) > 2:
                cells[1] = f"{cells[1].rstrip()} v{n} "
            line = "|".join(cells)
        out.append(line)
    return out


def grow(text: str, target: int) -> str:
    """``text`` with rows and items repeated (round-robin over its tables and lists) until
    it is at least ``target`` bytes."""
    lines = text.split("\n")
    groups = _blocks(text)
    if not groups:
        return text
    inserts: dict[int, list[str]] = defaultdict(list)  # line index → lines inserted before it
    size = len(text.encode())
    n = 0
    while size < target:
        n += 1
        for group in groups:
            start, end = group[(n - 1) % len(group)]
            copy = _vary(lines[start:end], n)
            inserts[group[-1][1]].extend(copy)
            size += len("\n".join(copy).encode()) + 1
            if size >= target:
                break
    out: list[str] = []
    for i, line in enumerate(lines):
        out.extend(inserts.get(i, ()))
        out.append(line)
    out.extend(inserts.get(len(lines), ()))
    return "\n".join(out)


def make_corpus(folder: Path, count: int, size: int) -> tuple[list[Path], Counter[str], list[str]]:
    """Write ``count`` files of about ``size`` bytes; returns (files, kinds, template names)."""
    templates = _templates()
    kinds = sorted(templates)
    grown: dict[Path, str] = {}
    for paths in templates.values():
        for path in paths:
            text = path.read_text("utf-8")
            grown[path] = text if "<plan>" in text else grow(text, size)
    files: list[Path] = []
    mix: Counter[str] = Counter()
    for i in range(count):
        kind = kinds[i % len(kinds)]
        source = templates[kind][(i // len(kinds)) % len(templates[kind])]
        text = grown[source]
        if i % 2 and not text.startswith("---\n") and "<plan>" not in text and kind in KINDS:
            text = (f"---\nkind: {kind}\ntitle: Benchmark document {i}\n"
                    f"tags: [bench, n{i}]\n---\n{text}")
        sub = folder / f"g{i // 100:02d}"
        sub.mkdir(exist_ok=True)
        path = sub / f"{i:04d}-{source.stem}.md"
        path.write_text(text, "utf-8")
        files.append(path)
        mix[kind] += 1
    names = sorted(str(p.relative_to(ROOT)) for paths in templates.values() for p in paths)
    return files, mix, names


# -- timing ----------------------------------------------------------------------------------
def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """Best wall-clock seconds of ``repeat`` calls."""
    return measure(repeat, fn)[0]


def measure(repeat: int, fn: Callable[[], object]) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds of this process and its finished children).

    CPU time is printed beside wall time because other work on a shared machine inflates
    wall time (and hides a parallel speed-up) but hardly changes CPU time.
    """
    walls, cpus = [], []
    for _ in range(repeat):
        before = _cpu()
        start = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu() - before)
    return min(walls), min(cpus)


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def baseline(files: Sequence[Path]) -> int:
    """markdown-it-py (``compiler.document._MD``'s configuration) + CSafeLoader front-matter."""
    md = MarkdownIt("commonmark", {"html": True}).enable("table").use(front_matter_plugin)
    n = 0
    for path in files:
        text = path.read_bytes().decode("utf-8")
        tokens = md.parse(text)
        if tokens and tokens[0].type == "front_matter":
            yaml.load(tokens[0].content, Loader=yaml.CSafeLoader)
        n += len(tokens)
    return n


def _fmt_ratio(value: float, floor: float) -> str:
    return f"{value:.2f} (floor {floor}: {'OK' if value <= floor else 'OVER'})"


def bench_throughput(files: list[Path], settings: Settings, repeat: int) -> tuple[float, bool]:
    jobs = os.cpu_count() or 1
    base, base_cpu = measure(repeat, lambda: baseline(files))
    serial, serial_cpu = measure(repeat, lambda: lint_paths(files, settings, jobs=1))
    parallel, parallel_cpu = measure(repeat, lambda: lint_paths(files, settings))
    diags = lint_paths(files, settings)
    ratio = parallel / base
    print("1. throughput (wall s, CPU s)")
    print(f"   baseline markdown-it + CSafeLoader, 1 process : {base:8.3f} s  cpu "
          f"{base_cpu:7.3f} s")
    print(f"   planc lint, 1 process                         : {serial:8.3f} s  cpu "
          f"{serial_cpu:7.3f} s  ({serial_cpu / base_cpu:.2f} x baseline CPU: rules and models "
          f"add {max(0.0, serial_cpu - base_cpu) / base_cpu * 100:.0f}% to parsing)")
    print(f"   planc lint, {jobs} processes (lint_paths)        : {parallel:8.3f} s  cpu "
          f"{parallel_cpu:7.3f} s  (all processes)")
    verdict = _fmt_ratio(ratio, THROUGHPUT_FLOOR)
    print(f"   ratio lint / baseline (wall)                  : {verdict}")
    top = Counter(d.code for d in diags).most_common(6)
    print(f"   diagnostics: {len(diags)} ({', '.join(f'{c} {n}' for c, n in top)})")
    return ratio, ratio <= THROUGHPUT_FLOOR


def _run_best(cmd: list[str], repeat: int, cwd: Path) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds) of running ``cmd`` as a fresh process."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, capture_output=True, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def bench_fresh(file: Path, repeat: int) -> tuple[float, bool]:
    py = sys.executable
    cwd = file.parent
    bare = _run_best([py, "-c", "pass"], repeat, cwd)
    deps = _run_best([py, "-c", "import yaml, markdown_it, mdit_py_plugins, pydantic"], repeat,
                     cwd)
    module = _run_best([py, "-m", "compiler", "lint", str(file)], repeat, cwd)
    script = shutil.which("planc", path=str(Path(py).parent))
    nan = (float("nan"), float("nan"))
    console = _run_best([script, "lint", str(file)], repeat, cwd) if script else nan
    worst = max(module[0], console[0]) if script else module[0]
    print(f"2. fresh process, one {file.stat().st_size // 1024} KB file, best of {repeat} "
          "(wall s, CPU s)")
    rows = [("python -c pass", bare), ("python -c 'import yaml, markdown_it, pydantic'", deps),
            ("python -m compiler lint FILE", module),
            ("planc lint FILE (console script)", console)]
    for label, (wall, cpu) in rows:
        print(f"   {label:<46}: {wall:8.3f} s  cpu {cpu:7.3f} s")
    print(f"   slowest / floor                               : {worst:.3f} s / {FRESH_FLOOR_S} s"
          f" ({'OK' if worst <= FRESH_FLOOR_S else 'OVER'})")
    proc = subprocess.run([py, "-X", "importtime", "-m", "compiler", "lint", str(file)],
                          cwd=cwd, capture_output=True, text=True, check=False)
    imports = []  # (cumulative us, self us, nesting depth, module)
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            imports.append((int(m.group(2)), int(m.group(1)), (len(m.group(3)) - 1) // 2,
                            m.group(4)))
    print("   -X importtime (wall, one run), largest imports up to 4 levels deep:")
    for cumulative, self_us, depth, name in sorted(
            (r for r in imports if r[2] <= 4), reverse=True)[:16]:
        print(f"     {cumulative / 1000:7.1f} ms  (self {self_us / 1000:5.1f} ms)  "
              f"{'  ' * depth}{name}")
    by_self = sorted(imports, key=lambda r: -r[1])[:8]
    print("   largest self times: "
          + ", ".join(f"{n} {s / 1000:.1f} ms" for _c, s, _d, n in by_self))
    heavy = [name for *_, name in imports if name.split(".")[0] in ("jinja2", "mkdocs", "pynvml")]
    print(f"   heavy modules imported by lint: {heavy or 'none'}")
    return worst, worst <= FRESH_FLOOR_S


def bench_cache(files: list[Path], root: Path, repeat: int) -> float:
    plain = Settings(root=root)
    cached = Settings(root=root, cache=True)
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    uncached = best_of(repeat, lambda: lint_paths(files, plain))
    start = time.perf_counter()
    first = lint_cached(files, cached)
    cold = time.perf_counter() - start
    warm = best_of(repeat, lambda: lint_cached(files, cached))
    assert lint_cached(files, cached) == first == lint_paths(files, plain)
    print("3. cache (unchanged tree)")
    print(f"   lint without cache                            : {uncached:8.3f} s")
    print(f"   first lint with cache (fills it)              : {cold:8.3f} s")
    print(f"   second lint with cache                        : {warm:8.3f} s"
          f"   ({uncached / warm:.1f}x faster)")
    return warm / uncached


def profile(files: list[Path], settings: Settings) -> None:
    """Per-rule CPU cost over the corpus and the cProfile top of a one-process lint."""
    docs = []
    start = time.process_time()
    for path in files:
        docs.append(load(path))
    load_s = time.process_time() - start
    per_rule: dict[str, float] = {}
    for rule in RULES:
        start = time.process_time()
        for doc in docs:
            if (doc.kind or "unknown") in rule.KINDS:
                ctx = Context(doc=doc, options=rule_options(rule, settings), settings=settings)
                try:
                    for _ in rule.check(ctx):
                        pass
                except Exception:  # noqa: BLE001 - reported by lint as PC999
                    pass
        per_rule[rule.CODE] = time.process_time() - start
    total = sum(per_rule.values())
    print("4. profile (one process, CPU s)")
    print(f"   load (markdown-it, YAML, sections, kind)      : {load_s:8.3f} s")
    print(f"   all rules (models built by the first user)    : {total:8.3f} s"
          f"  ({total / load_s * 100:.0f}% of load)")
    for code, secs in sorted(per_rule.items(), key=lambda kv: -kv[1])[:12]:
        print(f"     {code}  {secs:7.3f} s")
    prof = cProfile.Profile(time.process_time)
    prof.enable()
    lint_paths(files, settings, jobs=1)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(18)
    text = out.getvalue()
    body = text[text.find("ncalls"):]
    print("   cProfile, top functions by own time:")
    for line in body.splitlines():
        if line.strip():
            print("     " + line.replace(str(ROOT) + "/", "").replace(sys.prefix, "<venv>"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=12, help="target file size in KB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fresh-repeat", type=int, default=10)
    parser.add_argument("--check", action="store_true", help="exit 1 when a floor is missed")
    parser.add_argument("--profile", action="store_true", help="per-rule cost and cProfile")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="planc-bench-") as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_text("[tool.planc]\n", "utf-8")
        files, mix, sources = make_corpus(root, args.files, args.size * 1024)
        sizes = [p.stat().st_size for p in files]
        print(f"planc {__version__} lint benchmark: Python {sys.version.split()[0]}, "
              f"{os.cpu_count()} cores, {len(RULES)} rules")
        print(f"corpus: {len(files)} files, mean {statistics.mean(sizes) / 1024:.1f} KB "
              f"(min {min(sizes) / 1024:.1f}, max {max(sizes) / 1024:.1f}); "
              + ", ".join(f"{k} {n}" for k, n in sorted(mix.items())))
        print(f"templates: {', '.join(sources)}")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        settings = Settings(root=root)
        _, ok1 = bench_throughput(files, settings, args.repeat)
        _, ok2 = bench_fresh(files[0], args.fresh_repeat)
        bench_cache(files, root, args.repeat)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if args.profile:
            profile(files, settings)
    return 0 if (ok1 and ok2) or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
