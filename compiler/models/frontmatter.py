"""Front-matter models per document kind (pydantic v2, unknown keys forbidden).

Front-matter is optional: documents written by agents from the seed prompts have none.
When present, ``kind`` selects the model (:func:`compiler.models.kinds.model_for`); keys
shared by every kind live on :class:`CommonFrontMatter`. The run-group model
(:class:`compiler.models.rungroup.RunGroupFrontMatter`) lives with the run-group models and
builds on this module, which therefore never imports it. Validation errors are mapped to YAML
node positions by the ``CM002``/``CM003`` rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """Base for every front-matter model: unknown keys are errors (rule CM002)."""

    # defer_build: a lint builds the schema of the one kind it validates, not of all kinds
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


_COMPARISON = r"^\s*(>=|<=|>|<|==)\s*-?[0-9.]+(e-?\d+)?\s*$"


class CriterionEntry(Strict):
    """A checkable success criterion: ``every``/``mean``/``best`` take ``"<op> <number>"``
    (``>=``, ``<=``, ``>``, ``<``, ``==``); ``agree_within`` bounds the difference between
    replicates (seeds) of each level; ``complete: true`` asks every run to finish."""

    text: str | None = None
    metric: str | None = None
    every: str | None = Field(default=None, pattern=_COMPARISON)
    mean: str | None = Field(default=None, pattern=_COMPARISON)
    best: str | None = Field(default=None, pattern=_COMPARISON)
    agree_within: float | None = Field(default=None, ge=0)
    complete: bool | None = None


class CommonFrontMatter(Strict):
    kind: Literal["plan", "tasks", "run-group"] | None = None
    title: str | None = None
    id: str | None = None
    description: str | None = None
    author: str | None = None
    created: dt.date | dt.datetime | str | None = None
    updated: dt.date | dt.datetime | str | None = None
    tags: list[str] = Field(default_factory=list)
    status: Literal["draft", "proposed", "approved", "running", "done", "abandoned"] | None = None
    # what decides the outcome (compiler.outcome): the metric, its direction, the criteria
    primary_metric: str | None = None
    direction: Literal["maximize", "minimize", "max", "min"] | None = None
    criteria: list[CriterionEntry | str] = Field(default_factory=list)


class SweepBlock(Strict):
    """A front-matter sweep: ``grid`` (product), ``zip`` (paired lists), ``runs`` (explicit),
    ``exclude`` (combinations with a reason), ``repeats``/``seeds``."""

    grid: dict[str, list[Any]] = Field(default_factory=dict)
    zip: dict[str, list[Any]] = Field(default_factory=dict)
    runs: list[dict[str, Any]] = Field(default_factory=list)
    exclude: list[dict[str, Any]] = Field(default_factory=list)
    seeds: list[int] = Field(default_factory=list)
    repeats: int | None = None


class PlanFrontMatter(CommonFrontMatter):
    """A ``plan`` (seed 000). ``command`` makes it a sweep: a template such as
    ``python train.py --lr {lr} --seed {seed}`` filled per run."""

    kind: Literal["plan"] | None = None
    command: str | None = None
    sweep: SweepBlock | None = None
    cluster: str | None = None
    cluster_type: Literal["slurm", "local_gpu", "cpu_only"] | None = None
    environment: str | None = None
    workdir: str | None = None
    name: str | None = None
    time: str | None = None
    gpus: int | None = None
    gpu_type: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,40}$")  # GRES type
    cpus: int | None = None
    mem: str | None = None
    layout: Literal["per-run", "array"] | None = None
    array_throttle: int | None = Field(default=None, ge=1)


class TasksFrontMatter(CommonFrontMatter):
    kind: Literal["tasks"] | None = None
    goal: str | None = None
    workdir: str | None = None
