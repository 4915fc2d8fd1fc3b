"""A seed-003 plan has a task that writes the prompt-skill playbook.

The task writes ``prompt_skill_playbook.md`` with an ``Execution Ops Protocol`` section.

The planning iteration must "add a planning task to write a short playbook at
``$(dirname tasks_path)/prompt_skill_playbook.md``" mapping each prompt skill to when to
use it and its expected output, with a section named ``Execution Ops Protocol``.

Severity: warning — the playbook is planning work the agent may have done before this plan
was written; a plan without the task states nothing false.

Failing::

    - [ ] [P1-T2] Write a playbook of skills | deliverable: playbook.md | done-when: written

Passing::

    - [ ] [P1-T2] Write the prompt-skill playbook with an Execution Ops Protocol section |
      deliverable: prompt_skill_playbook.md | done-when: the section exists

Seed: 003 (Build a prompt-skill playbook).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import plan_of

CODE = "TK018"
NAME = "playbook-task"
SEVERITY = "warning"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "phased" or not plan.phases:
        return
    tasks = [t for t in plan.tasks if t.is_task and "prompt_skill_playbook.md" in t.lower]
    if not tasks:
        line, col = plan.anchor()
        yield Finding(line, col, "no task writes prompt_skill_playbook.md",
                      "add a planning task that writes prompt_skill_playbook.md next to tasks.md")
        return
    if not any("execution ops protocol" in t.lower for t in tasks):
        t = tasks[0]
        yield Finding(t.description.line, t.description.column,
                      "playbook task does not name the 'Execution Ops Protocol' section",
                      "say the playbook has a section named Execution Ops Protocol")
