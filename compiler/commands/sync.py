"""``planc sync [GROUP_DIR|PLAN ...] [--json] [--url URL] [--token TOKEN] [--out DIR]``:
update run states, the command users type (the same code as ``planc status --sync``).

Each target is a group folder, its ``runs_status.yaml`` or a plan (the group compiled from
it, :mod:`compiler.groups`); without targets, every group under the output folder
(``--out``, else ``[tool.planc] out``). Per group: one SLURM query for its active jobs, a
pull from the research-agent servers it was submitted to, the new states written into
``runs_status.yaml`` under its lock (:func:`compiler.sync.sync_all`), then its counts as
``planc status`` prints them. ``--json`` prints a list with one ``planc status --json``
object per group. Exit codes: 0 done, 2 a target has no readable tracker (the other groups
are still synced), there is no group at all, or SLURM or a server could not be queried.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import _common
from .status import add_report_arguments


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("groups", nargs="*", metavar="GROUP_DIR|PLAN",
                   help="compiled group folders or the plans they were compiled from "
                   "(default: every group under [tool.planc] out)")
    add_report_arguments(p)


def all_groups(out: str | None) -> tuple[Path, list[Path]]:
    """The output folder and every group folder in it (a folder holding a tracker)."""
    from .. import layout
    from ..config import load_settings

    if out:
        folder = Path(out)
    else:
        settings, _ = load_settings(Path.cwd())
        folder = Path(settings.root) / settings.out
    found = sorted(p.parent for p in folder.glob(f"*/{layout.STATUS_FILE}")) \
        if folder.is_dir() else []
    return folder, found


def run(args: argparse.Namespace) -> int:
    from .status import _json_value, report_group

    groups: list[Path] = []
    rc = 0
    if args.groups:
        for target in args.groups:
            found = _common.resolve("sync", target, args.out)
            if found is None:
                rc = 2
            else:
                groups.append(found.group)
    else:
        folder, groups = all_groups(args.out)
        if not groups:
            print(f"planc sync: no compiled group in {folder} (planc compile PLAN first, "
                  "or name a group folder)", file=sys.stderr)
            return 2
    objects = []
    for group in groups:
        code, out = report_group("sync", group, sync=True, url=args.url, token=args.token,
                                 as_json=args.json)
        rc = max(rc, code)
        if out is not None:
            objects.append(out)
    if args.json:
        json.dump(objects, sys.stdout, indent=2, default=_json_value)
        sys.stdout.write("\n")
    return rc
