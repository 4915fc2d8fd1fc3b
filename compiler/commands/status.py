"""``planc status GROUP_DIR|PLAN [--sync] [--json] [--url URL] [--token TOKEN]``: stage
counts, and (``--sync``, the same as ``planc sync``) a sync from SLURM and from the
research-agent servers the group was submitted to.

A plan path names the group compiled from it (:mod:`compiler.groups`; never compiles).
``--sync`` asks the scheduler about every job of the group in one query, reads the run
states back from each research-agent server recorded in ``research_agent.json`` (only
``--url`` when given; token from ``--token`` or ``$RESEARCH_AGENT_TOKEN``), and writes the
new states into ``runs_status.yaml`` under the tracker's lock (:func:`compiler.sync.sync_all`
has the rules). Exit codes: 0 done, 2 no readable tracker, a plan with no compiled group,
or SLURM or a server could not be queried.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import _common

__all__ = ["add_arguments", "report_group", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("group", metavar="GROUP_DIR|PLAN", help="a compiled group folder (holds "
                   "runs_status.yaml), the runs_status.yaml file, or the plan it was "
                   "compiled from")
    p.add_argument("--sync", action="store_true",
                   help="query SLURM once for the group's jobs, and the research-agent "
                   "servers it was submitted to, and update runs_status.yaml (= planc sync)")
    add_report_arguments(p)


def add_report_arguments(p: argparse.ArgumentParser) -> None:
    """``--json``, ``--url``, ``--token``, ``--out``: shared with ``planc sync``."""
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--url", metavar="URL", help="sync only this research-agent server "
                   "(default: every server the group was submitted to)")
    p.add_argument("--token", metavar="TOKEN", help="the research-agent token (default: "
                   "$RESEARCH_AGENT_TOKEN)")
    _common.add_out(p)


def run(args: argparse.Namespace) -> int:
    target = _common.resolve("status", args.group, args.out)
    if target is None:
        return 2
    rc, out = report_group("status", target.group, sync=args.sync, url=args.url,
                           token=args.token, as_json=args.json)
    if out is not None:
        json.dump(out, sys.stdout, indent=2, default=_json_value)
        sys.stdout.write("\n")
    return rc


def report_group(cmd: str, group: Path, *, sync: bool, url: str | None, token: str | None,
                 as_json: bool) -> tuple[int, dict[str, Any] | None]:
    """Sync ``group`` when asked, then print its counts (text) or return them (JSON).

    Returns ``(exit code, JSON object or None)``; errors are one ``planc CMD:`` line on
    stderr and exit code 2.
    """
    from .. import research_agent, tracker
    from ..backends import slurm
    from ..sync import SyncReport, stage_rows, status_path, summarize, sync_all

    path = status_path(group)
    report: SyncReport | None = None
    try:
        if sync:
            report = sync_all(path, url=url, token=token)
        data = report.data if report is not None else tracker.read(path)
        if data is None:
            raise tracker.TrackerError(f"{path} does not exist")
    except (tracker.TrackerError, slurm.SlurmError, research_agent.ServerError) as exc:
        print(f"planc {cmd}: {exc}", file=sys.stderr)
        return 2, None
    counts = summarize(data)
    if as_json:
        out: dict[str, Any] = {"group": data.get("run_group"), "path": str(path.resolve()),
                               "counts": counts, "stages": stage_rows(data)}
        if report is not None:
            out["sync"] = report.to_json()
        return 0, out
    _print_text(data, path, counts, report)
    return 0, None


def _json_value(value: Any) -> Any:
    """JSON for what YAML can construct and JSON cannot: dates and times as ISO 8601,
    bytes and sets as text and lists (hand-written trackers hold unquoted timestamps)."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _print_text(data: dict[str, Any], path: Path, counts: dict[str, dict[str, int]],
                report: Any) -> None:
    from ..sync import ORDER, stage_rows

    runs = data.get("runs") if isinstance(data.get("runs"), dict) else {}
    print(f"{data.get('run_group', path.parent.name)}: {len(runs)} run(s)")
    for family in ("finetune", "run", "evaluations"):
        if family in counts:
            c = counts[family]
            print(f"  {family}: " + ", ".join(f"{c[s]} {s}" for s in ORDER))
    failed = [r for r in stage_rows(data) if r["status"] == "failed"]
    for r in failed:
        why = r["reason"] or "no reason recorded"
        print(f"  failed {r['run']}/{r['stage']} (job {r['job_id']}): {why}")
    if report is not None:
        via = "; ".join(report.commands) or "no query"
        line = (f"sync: {report.queried} job(s) queried ({via}); "
                f"{len(report.changes)} stage(s) changed")
        if report.missing:
            shown = ", ".join(report.missing[:10]) + (" …" if len(report.missing) > 10 else "")
            line += f"; unknown to SLURM: {shown}"
        print(line)
        for note in report.notes:
            print(f"  note: {note}")
