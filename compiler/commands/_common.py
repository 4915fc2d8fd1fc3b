"""What several subcommands share: a group-or-plan target and ``--only`` (not a command).

The rules live in :mod:`compiler.groups` and :mod:`compiler.selection`; this module adds
the arguments and turns their errors into one ``planc CMD: …`` line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..groups import Target

TARGET_HELP = ("a compiled group folder (holds runs_status.yaml), or the plan it was "
               "compiled from")
ONLY_HELP = ("only these runs: run names, or FACTOR=LEVEL[,LEVEL…] (repeatable; "
             "e.g. --only alpha=1e-4 --only seed=0,1)")


def add_out(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", "-o", metavar="DIR",
                   help="where a PLAN's group is compiled (default: [tool.planc] out)")


def add_only(p: argparse.ArgumentParser) -> None:
    p.add_argument("--only", nargs="+", action="extend", metavar="RUN|FACTOR=LEVEL",
                   default=[], help=ONLY_HELP)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def resolve(cmd: str, target: str | Path, out: str | None, *,
            compile_missing: bool = False) -> Target | None:
    """The group of ``target`` (:func:`compiler.groups.resolve`), or ``None`` after printing
    why not."""
    from ..groups import GroupError
    from ..groups import resolve as resolve_group

    try:
        return resolve_group(target, out=out, compile_missing=compile_missing,
                             echo=_stderr)
    except GroupError as exc:
        _stderr(f"planc {cmd}: {exc}")
        return None


def selected(cmd: str, target: Target, entries: list[str]) -> list[str] | None:
    """The run names ``--only`` entries select in ``target``'s group ([] when none were given), or
    ``None`` after printing a usage error."""
    if not entries:
        return []
    from .. import groups, layout, tracker
    from ..selection import SelectionError, group_factors, select

    group = target.group
    try:
        data = tracker.read(layout.status_path(group))
    except tracker.TrackerError as exc:
        _stderr(f"planc {cmd}: {exc}")
        return None
    runs = data.get("runs") if isinstance(data, dict) else None
    names = [str(n) for n in runs] if isinstance(runs, dict) else []
    factors = None
    if any("=" in e for e in entries):
        plan = target.plan or groups.plan_of(group)
        if plan is not None and groups.is_current(group, plan):
            factors = group_factors(plan)
    try:
        return select(entries, names, factors)
    except SelectionError as exc:
        _stderr(f"planc {cmd}: {exc}")
        return None
