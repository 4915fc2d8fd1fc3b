"""Shared helpers of the ``TK`` rules: the cached task-plan model and keyword tests."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...models.tasks import Task, TaskPlan, task_plan
from ..base import Context, Finding

# Lenient keyword families for reflection tasks (seed 003 "Add mandatory reflection gates").
# They match lower-cased text (Task.lower): IGNORECASE alternations are slow in ``re``.
EVIDENCE = re.compile(r"evidence|inspect|review|examin")
FOLLOW_UP = re.compile(
    r"follow[- ]?ups?|add (?:new |more )?(?:tasks?|phases?)|new (?:tasks?|phases?)")
CRITERIA = re.compile(r"continu|re-?plan")


def plan_of(ctx: Context) -> TaskPlan:
    """The document's task-plan model, built once per document."""
    return ctx.model("tasks", lambda doc: task_plan(doc))


def count_option(ctx: Context, name: str) -> int:
    """An integer option of the running rule (defaults merged with ``[tool.planc.rules]``)."""
    return int(ctx.options[name])

_MIDPOINT = re.compile(r"mid-?\s?point|midway|half-?way|interim")
_FINAL = re.compile(r"\bfinal\b|end-of-|closing|wrap-?up")


def reflection_tasks(plan: TaskPlan, which: str) -> list[Task]:
    """Tasks whose description names a ``which`` (``"midpoint"``/``"final"``) reflection."""
    rx = _MIDPOINT if which == "midpoint" else _FINAL
    out = []
    for t in plan.tasks:
        if "reflect" in t.lower and t.is_task:
            desc = t.description.text.lower()
            if "reflect" in desc and rx.search(desc):
                out.append(t)
    return out


def missing_reflection_parts(text: str) -> list[str]:
    """Which of the three things a reflection task must state are absent from the
    lower-cased ``text``."""
    missing = []
    if not EVIDENCE.search(text):
        missing.append("the evidence to inspect")
    if not FOLLOW_UP.search(text):
        missing.append("when to add follow-up tasks")
    if not CRITERIA.search(text):
        missing.append("the criteria for continuing versus replanning")
    return missing


_CODE_PLACEHOLDER = re.compile(r"^`+\s*<[^<>`]*>\s*`+$")


def iter_missing_field(ctx: Context, field: str, what: str, append: str, advice: str
                       ) -> Iterator[Finding]:
    """Findings for phased tasks whose ``| <field>: …`` part is absent, empty, or a
    placeholder inside a code span (CM005 reports bare ``<path>`` placeholders).

    ``what`` names the part in messages ("deliverable"), ``append`` is the fix for an absent
    part, ``advice`` the fix for an empty one. Shared by TK010 and TK011 (seed 003 task
    line format).
    """
    plan = plan_of(ctx)
    if plan.form != "phased":
        return
    for task in plan.tasks:
        if not task.is_task:
            continue
        part = getattr(task, field)
        if part is None:
            at = task.id or task.content
            yield Finding(at.line, at.column, f"task has no {what}", append)
        elif not part.text:
            yield Finding(part.line, part.column, f"task {what} is empty", advice)
        elif _CODE_PLACEHOLDER.match(part.text):
            yield Finding(part.line, part.column, f"task {what} is the placeholder {part.text}",
                          advice)
