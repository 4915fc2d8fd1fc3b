"""research-agent's placeholder task list: the agent has not planned yet.

When research-agent starts a session it writes ``tasks.md`` with the session goal and one
placeholder line, ``- [ ] (Agent will decompose the goal into tasks on iteration 1)``
(hao-ai-lab/research-agent ``server/agent/research_agent.py`` and
``server/agent/wild_loop_v2.py``); the planning iteration replaces it with the real list.
Such a file is reported once, as context, instead of being judged as a finished seed-002
plan (no ``## Analysis``, one unnumbered task, fewer than 5 tasks): the section, numbering
and count rules (TK003, TK020, TK021, TK022, TK025) do not apply to it.

Severity: info — a stub is a legitimate state of a session, not a mistake; it only says the
plan is not written yet.

Failing::

    # Tasks

    ## Goal
    Find the best learning rate for the CIFAR-10 baseline.

    ## Tasks
    - [ ] (Agent will decompose the goal into tasks on iteration 1)

Passing::

    # Tasks

    ## Goal
    Find the best learning rate for the CIFAR-10 baseline.

    ## Analysis
    train.py reads --lr and --seed.

    ## Tasks
    - [ ] Task 1: Read train.py and its configs

Seed: 002 (the task checklist research-agent's planning iteration writes over the stub).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import plan_of

CODE = "TK026"
NAME = "tasks-not-planned"
SEVERITY = "info"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "stub" or plan.stub is None:
        return
    yield Finding(plan.stub.line, plan.stub.column,
                  "task list is research-agent's placeholder: the goal is not planned yet",
                  "run the agent's planning iteration (it writes the '- [ ] Task N: …' list)")
