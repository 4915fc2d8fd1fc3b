"""A task plan records what planning found under ``## Planning Notes`` (or ``## Analysis``).

Seed 003 calls the section ``## Planning Notes``, seed 002 ``## Analysis``; it must not be
empty.

Seed 003 asks for key codebase findings, key risks and assumptions, and the experiment
root and logging layout decision; seed 002 for a brief summary of the codebase exploration.
research-agent's placeholder written before planning (form ``stub``, TK026) has no such
section yet and is not checked.

Severity: error — seed 003: "You must complete the following planning work", recorded under
Planning Notes in the required structure.

Failing::

    # Tasks
    ## Goal
    Tune alpha.
    ## Phase 1 - Code Understanding and Refactor Prep

Passing::

    # Tasks
    ## Goal
    Tune alpha.
    ## Planning Notes
    - Key codebase findings: train.py reads --alpha and --seed.
    ## Phase 1 - Code Understanding and Refactor Prep

Seeds: 003 (``## Planning Notes``), 002 (``## Analysis``).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import plan_of

CODE = "TK003"
NAME = "tasks-planning-notes"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form in ("abort", "stub"):
        return
    title = "## Analysis" if plan.form == "flat" else "## Planning Notes"
    if plan.notes is None:
        line, col = plan.anchor()
        what = ("a summary of the codebase exploration" if plan.form == "flat"
                else "key findings, risks and the experiment root and logging layout")
        yield Finding(line, col, f"task plan has no '{title}' section",
                      f"add '{title}' with {what}")
    elif not plan.notes.nonempty:
        yield Finding(plan.notes.line, plan.notes.column, f"'{title}' section is empty",
                      "write what planning found under the heading")
