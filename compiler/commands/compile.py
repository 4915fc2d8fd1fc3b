"""``planc compile PLAN... [--out DIR] [--check] [--force] [--layout per-run|array]
[--history DIR] [--cluster NAME]``: plans → launch artifacts in ``<out>/<group>/``.

Steps per plan: lint (errors stop the compile, exit 1), expand (``compiler.expand``),
emit (``compiler.emit``), write (``compiler.write``). ``--check`` writes nothing and exits
1 naming stale files. The default output folder is ``[tool.planc] out`` (relative to the
project root). A summary line per plan reports written / unchanged / kept files and the
tracker merge. Exit codes: 0 done (or up to date), 1 lint/expansion errors, refused or kept
files, or stale files with ``--check``; 2 configuration or internal errors.

The work is :func:`compiler.pipeline.compile_plan` (a no-op recompile is fast: the manifest
records a fingerprint of every input; when it matches and every file is still there,
nothing is rendered).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..diagnostics import format_text

if TYPE_CHECKING:
    from ..pipeline import Result, compile_plan, fingerprint, summary

__all__ = ["Result", "add_arguments", "compile_plan", "fingerprint", "run", "summary"]


def __getattr__(name: str) -> Any:
    # re-exported lazily: building the parser (rule CM008) must not import the pipeline
    if name in ("Result", "compile_plan", "fingerprint", "summary"):
        from .. import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("plans", nargs="+", metavar="PLAN", help="run-group or sweep plan files")
    p.add_argument("--out", "-o", help="output folder (default: [tool.planc] out)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 naming files a compile would change")
    p.add_argument("--force", action="store_true",
                   help="overwrite files planc did not write or that were edited")
    p.add_argument("--layout", choices=("per-run", "array"), help="SLURM script layout")
    p.add_argument("--history", metavar="DIR", help="prior runs to learn estimates from")
    p.add_argument("--cluster", metavar="NAME", help="cluster profile (clusters/<NAME>.yaml)")


def run(args: argparse.Namespace) -> int:
    from ..config import load_settings
    from ..expand import Options
    from ..pipeline import compile_plan, load_history
    from ..rules import BUILTIN_CODES, BY_CODE
    from ..tracker import TrackerError

    plans = [Path(p) for p in args.plans]
    missing = [str(p) for p in plans if not p.is_file()]
    if missing:
        print(f"planc: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    settings, cdiags = load_settings(plans[0], set(BY_CODE) | set(BUILTIN_CODES))
    if cdiags:
        sys.stdout.write(format_text(cdiags))
        return 2
    out = Path(args.out) if args.out else Path(settings.root) / settings.out
    history = None
    if args.history:
        hist_dir = Path(args.history)
        if not hist_dir.is_dir():
            print(f"planc: --history {hist_dir}: not a folder", file=sys.stderr)
            return 2
        history = load_history(hist_dir, settings)
    rc = 0
    for plan in plans:
        options = Options(cluster=args.cluster, layout=args.layout, history=history)
        try:
            res = compile_plan(plan, settings, out=out, options=options, force=args.force,
                               check=args.check)
        except TrackerError as exc:  # e.g. duplicate run keys: refuse rather than drop one
            print(f"planc compile: {plan}: {exc}", file=sys.stderr)
            rc = 2
            continue
        rc = max(rc, _print_result(plan, res, check=args.check))
    return rc


def _print_result(plan: Path, res: Any, *, check: bool) -> int:
    """Print one plan's outcome; its exit code (0 done or up to date, 1 otherwise)."""
    if res.report is None:
        sys.stdout.write(format_text(sorted(res.diagnostics,
                                            key=lambda d: (d.path, d.line, d.column))))
        print(f"{plan}: not compiled ({len(res.diagnostics)} error(s))", file=sys.stderr)
        return 1
    if check:
        for k in res.report.stale:
            print(f"{res.group_dir}/{k}: stale")
        if not res.report.stale:
            print(f"{plan}: {res.group_dir}: up to date")
        return 1 if res.report.stale else 0
    from ..pipeline import summary

    print(summary(res))
    return 1 if res.report.refused or res.report.kept else 0
