"""``planc expand PLAN [--format text|json] [--cluster NAME] [--layout …] [--history DIR]``:
print the run table a plan expands to (name, kind, factors, evaluations, estimate) and its
exclusions, writing nothing. Exit 0, 1 when the plan does not expand (diagnostics printed),
2 for usage or configuration errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..diagnostics import format_text


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("plan", metavar="PLAN", help="a run-group or sweep plan file")
    p.add_argument("--format", "-f", choices=("text", "json"), default="text")
    p.add_argument("--cluster", metavar="NAME", help="cluster profile (clusters/<NAME>.yaml)")
    p.add_argument("--layout", choices=("per-run", "array"))
    p.add_argument("--history", metavar="DIR", help="prior runs to learn estimates from")


def _fmt_seconds(s: float) -> str:
    from ..estimate import format_minutes

    return format_minutes(s) if s else "-"


def run(args: argparse.Namespace) -> int:
    from ..config import load_settings
    from ..document import load
    from ..estimate import read_history
    from ..expand import Options
    from ..registry import load_registry
    from ..rules import BUILTIN_CODES, BY_CODE
    from ..spec import expand_document

    plan = Path(args.plan)
    if not plan.is_file():
        print(f"planc: no such file: {plan}", file=sys.stderr)
        return 2
    settings, cdiags = load_settings(plan, set(BY_CODE) | set(BUILTIN_CODES))
    if cdiags:
        sys.stdout.write(format_text(cdiags))
        return 2
    history = None
    if args.history:
        registry, _ = load_registry(settings)
        history = read_history(Path(args.history), tuple(registry.models))
    matrix, diags = expand_document(load(plan), settings,
                                    Options(cluster=args.cluster, layout=args.layout,
                                            history=history))
    if matrix is None:
        sys.stdout.write(format_text(diags))
        return 1
    if args.format == "json":
        data = {
            "group": matrix.group, "kind": matrix.kind, "cluster": matrix.cluster.name,
            "runs": [{"name": r.name, "kind": r.kind, "model": r.model,
                      **({"checkpoint_path": r.checkpoint_path} if r.eval_only else {}),
                      "factors": r.factors, "command": r.command,
                      "evaluations": [e.key for e in r.evaluations],
                      "estimate": r.estimate.as_dict()} for r in matrix.runs],
            "excluded": [{"levels": x.levels, "reason": x.reason} for x in matrix.excluded],
            "totals": matrix.totals.as_dict(),
        }
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return 0
    rows = [("RUN", "KIND", "FACTORS", "EVALS", "EST. TIME", "GPU H")]
    for r in matrix.runs:
        factors = " ".join(f"{k}={v}" for k, v in r.factors.items()) or "-"
        kind = "eval-only" if r.eval_only else r.kind
        rows.append((r.name, kind, factors, str(len(r.evaluations)),
                     _fmt_seconds(r.estimate.seconds), f"{r.estimate.gpu_hours:.2f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    for x in matrix.excluded:
        levels = ", ".join(f"{k}={v}" for k, v in x.levels.items())
        print(f"excluded: {levels}: {x.reason}")
    t = matrix.totals
    print(f"{len(matrix.runs)} run(s), {matrix.evaluation_count()} evaluation job(s)"
          + (f"; {t.gpu_hours:.2f} GPU hours, {t.disk_gib:.1f} GiB"
             if matrix.kind == "run-group" else ""))
    return 0
