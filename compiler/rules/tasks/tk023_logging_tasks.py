"""A seed-003 plan has tasks for logging quality: run naming, captured output, manifests.

"Add explicit tasks for logging quality: deterministic run naming; stdout/stderr capture to
files; run manifest files with command, seed, commit, and timestamp." Without them the
runs of later iterations cannot be told apart or reproduced. Matched leniently over all
task text: naming (``run name``/``naming``), output capture (``stdout``/``stderr``/
``logs``), manifests (``manifest``).

Severity: warning — logging-quality tasks are seed 003's planning guidance, not a must.

Failing::

    - [ ] [P1-T1] Map the training loop | deliverable: code_map.md | done-when: written
    - [ ] [P1-T2] Read the configs | deliverable: configs.md | done-when: listed

Passing::

    - [ ] [P1-T1] Map the training loop | deliverable: code_map.md | done-when: written
    - [ ] [P1-T2] Deterministic run names, stdout/stderr to logs/ and a manifest per run
      (command, seed, commit, timestamp) | deliverable: scripts/manifest.py | done-when:
      a dry run writes one manifest

Seed: 003 (Plan experiment operations, logs, and artifact layout).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..base import Context, Finding
from ._common import plan_of

CODE = "TK023"
NAME = "logging-tasks"
SEVERITY = "warning"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}

_ASPECTS = (
    ("deterministic run naming", re.compile(r"run[- ]?names?|naming")),
    ("stdout/stderr capture to files", re.compile(r"stdout|stderr|\blogs?\b|logging")),
    ("run manifests (command, seed, commit, timestamp)", re.compile(r"manifest")),
)


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "phased" or not plan.phases:
        return
    text = "\n".join(t.lower for t in plan.tasks if t.is_task)
    missing = [label for label, rx in _ASPECTS if not rx.search(text)]
    if missing:
        line, col = plan.anchor()
        yield Finding(line, col, "no task covers " + "; ".join(missing),
                      "add a logging-quality task in the first phase")
