"""``planc status GROUP_DIR [--sync] [--json] [--url URL] [--token TOKEN]``: stage counts,
and a sync from SLURM and from the research-agent servers the group was submitted to.

``--sync`` asks the scheduler about every job of the group in one query, reads the run
states back from each research-agent server recorded in ``research_agent.json`` (only
``--url`` when given; token from ``--token`` or ``$RESEARCH_AGENT_TOKEN``), and writes the
new states into ``runs_status.yaml`` under the tracker's lock (:func:`compiler.sync.sync_all`
has the rules). Exit codes: 0 done, 2 no readable tracker, or SLURM or a server could not be
queried.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .. import research_agent, tracker
from ..backends import slurm
from ..sync import (
    ORDER,
    SyncReport,
    active_job_ids,
    stage_rows,
    status_path,
    summarize,
    sync_all,
    sync_group,
)

__all__ = ["SyncReport", "active_job_ids", "add_arguments", "run", "sync_group"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("group", metavar="GROUP_DIR", help="a compiled group folder (holds "
                   "runs_status.yaml), or the runs_status.yaml file")
    p.add_argument("--sync", action="store_true",
                   help="query SLURM once for the group's jobs, and the research-agent "
                   "servers it was submitted to, and update runs_status.yaml")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--url", metavar="URL", help="sync only this research-agent server "
                   "(default: every server the group was submitted to)")
    p.add_argument("--token", metavar="TOKEN", help="the research-agent token (default: "
                   "$RESEARCH_AGENT_TOKEN)")


def run(args: argparse.Namespace) -> int:
    path = status_path(Path(args.group))
    report: SyncReport | None = None
    try:
        if args.sync:
            report = sync_all(path, url=args.url, token=args.token)
        data = report.data if report is not None else tracker.read(path)
        if data is None:
            raise tracker.TrackerError(f"{path} does not exist")
    except tracker.TrackerError as exc:
        print(f"planc status: {exc}", file=sys.stderr)
        return 2
    except (slurm.SlurmError, research_agent.ServerError) as exc:
        print(f"planc status: {exc}", file=sys.stderr)
        return 2
    counts = summarize(data)
    if args.json:
        out: dict[str, Any] = {"group": data.get("run_group"), "path": str(path.resolve()),
                               "counts": counts, "stages": stage_rows(data)}
        if report is not None:
            out["sync"] = report.to_json()
        # hand-written trackers hold unquoted timestamps, which YAML reads as datetimes
        json.dump(out, sys.stdout, indent=2, default=_json_value)
        sys.stdout.write("\n")
        return 0
    _print_text(data, path, counts, report)
    return 0


def _json_value(value: Any) -> Any:
    """JSON for what YAML can construct and JSON cannot: dates and times as ISO 8601,
    bytes and sets as text and lists."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _print_text(data: dict[str, Any], path: Path, counts: dict[str, dict[str, int]],
                report: SyncReport | None) -> None:
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
