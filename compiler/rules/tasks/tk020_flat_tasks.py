"""A seed-002 task list is ``- [ ] Task N: description`` lines numbered 1, 2, 3 … in order.

The lines sit under ``## Tasks``, numbered without gaps or repeats.

The older planning prompt writes ``# Tasks``, ``## Goal``, ``## Analysis`` and
``## Tasks``; each task is one checkbox line numbered in dependency order. A plain checkbox
list (no line numbered, e.g. directly under ``# Tasks``) is the same list with its order
as its numbering and is accepted; once lines are numbered, the numbers must count 1, 2, 3 …
and every line must carry one.

Severity: error — numbers that skip, repeat or stop contradict the order the list states
(a missing list cannot be followed at all).

Failing::

    ## Tasks
    - [ ] Task 1: Read train.py
    - [ ] Task 3: Create the sweep
    - [ ] Create the runs

Passing::

    ## Tasks
    - [ ] Task 1: Read train.py
    - [ ] Task 2: Create the sweep through POST /sweeps/wild
    - [ ] Task 3: Create one run per setting through POST /runs

Seed: 002 (Write the task checklist).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import plan_of

CODE = "TK020"
NAME = "flat-task-list"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "flat":
        return
    if plan.tasks_heading is None:
        line, col = plan.anchor()
        yield Finding(line, col, "task plan has no '## Tasks' section",
                      "list the tasks under '## Tasks'")
        return
    if not plan.flat_items:
        yield Finding(plan.tasks_heading.line, plan.tasks_heading.column,
                      "'## Tasks' has no task lines", "add '- [ ] Task 1: …' lines")
        return
    if all(item.number is None and item.mark is not None for item in plan.flat_items):
        return  # a plain checkbox list: its order is its numbering
    expected = 1
    seen: dict[int, int] = {}
    for item in plan.flat_items:
        if item.number is None or item.number_part is None:
            at = item.description if item.description.text else item.content
            yield Finding(at.line, at.column, "task line is not numbered 'Task N:'",
                          f"write '- [ ] Task {expected}: …'")
            expected += 1
            continue
        at = (item.number_part.line, item.number_part.column)
        if item.number in seen:
            first = seen[item.number]
            yield Finding(*at, f"Task {item.number} is used twice (first at line {first})",
                          f"renumber it Task {expected}")
            continue
        seen[item.number] = item.line
        if item.number != expected:
            why = "tasks number from 1" if expected == 1 else "task numbers have no gaps"
            yield Finding(*at, f"Task {item.number} should be Task {expected} ({why})",
                          f"renumber it Task {expected}")
        if not item.description.text:
            yield Finding(*at, f"Task {item.number} has no description", "say what the task does")
        expected = item.number + 1
