"""Run-group models (seed 004 ``runs_plan.md`` and its front-matter form).

The front-matter borrows field names from the toolkit's typed ``experiment_summary.yaml``
(``../shared/reference/formats.md`` §5).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .frontmatter import CommonFrontMatter


class RunGroupFrontMatter(CommonFrontMatter):
    kind: Literal["run-group"] | None = None
    experiment: dict[str, Any] | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    controls: Any = None
    models: Any = None
    data: dict[str, Any] | None = None
    training: dict[str, Any] | None = None
    evaluation: dict[str, Any] | None = None
    compute: dict[str, Any] | None = None
    runs: list[dict[str, Any]] = Field(default_factory=list)
