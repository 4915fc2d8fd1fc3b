"""The front-matter model of each document kind.

This dispatch sits above the kind modules: :mod:`compiler.models.frontmatter` holds the
common, plan and task front-matter, :mod:`compiler.models.rungroup` the run-group one (which
builds on the common model). Keeping it out of ``frontmatter`` keeps the two from importing
each other; the run-group import is deferred so that a lint of a plan or task file does not
build the run-group classes.
"""

from __future__ import annotations

from pydantic import BaseModel

from .frontmatter import CommonFrontMatter, PlanFrontMatter, TasksFrontMatter


def model_for(kind: str | None) -> type[BaseModel] | None:
    """The front-matter model for ``kind``; ``None`` for kinds without front-matter."""
    if kind == "plan":
        return PlanFrontMatter
    if kind == "tasks":
        return TasksFrontMatter
    if kind == "run-group":
        from .rungroup import RunGroupFrontMatter

        return RunGroupFrontMatter
    if kind is None:
        return CommonFrontMatter
    return None
