"""The expanded run matrix: what ``expand`` produces and ``emit``/backends consume.

A :class:`RunMatrix` is plain frozen data: the runs of one group (fine-tuned runs and
base-model control runs of a run group, or the runs of a sweep), each with the evaluation
jobs it owns, plus the cluster profile and the source plan's identity. Nothing here reads
files or renders text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from .models.cluster import ClusterProfile

RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$")


def check_name(name: str, what: str = "run name") -> str:
    """Return ``name`` when it is a safe single path component, else raise ``ValueError``.

    Safe: letters, digits, ``.``, ``_``, ``+``, ``-``; starts with a letter or digit; at most
    200 characters; never ``.``/``..``. This keeps every artifact inside the output folder
    and every SLURM ``--job-name`` free of shell and path metacharacters.
    """
    if not isinstance(name, str) or not RUN_NAME.match(name) or name in (".", ".."):
        raise ValueError(
            f"{what} {name!r} must match {RUN_NAME.pattern} (no '/', spaces or shell characters)"
        )
    return name


@dataclass(frozen=True)
class Evaluation:
    """One evaluation job of a run.

    ``key`` is the ``runs_status.yaml`` key: ``<task>_epoch_<N>`` for fine-tuned runs
    (N 0-based, torchtune's ``epoch_N/`` folder), ``<task>`` for control runs (seed 004).
    """

    key: str
    task: str
    epoch: int | None
    script: str
    dataset: str | None = None
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Resources:
    """SLURM/local resources of one job: ``time`` as ``HH:MM:SS``, ``mem`` like ``32G``."""

    gpus: int = 1
    cpus_per_task: int = 1
    mem: str = "16G"
    time: str = "01:00:00"
    partition: str | None = None


@dataclass(frozen=True)
class Run:
    """One run of a group.

    ``kind``: ``fine-tuned`` (LoRA fine-tune then evaluations), ``control`` (base model,
    evaluations only, fine-tune ``skipped``), or ``sweep`` (one command from a plan's
    command template). ``factors`` maps each factor to this run's level (in factor order);
    ``params`` holds every resolved setting (e.g. ``lora_rank``, ``lora_alpha``,
    ``batch_size``, ``epochs``, ``lr``, ``seed``, ``packed``, ``validation``, ``recipe``,
    ``system_prompt``, ``model_path``) and ``command`` the filled command of a sweep run.
    ``estimate`` holds per-run estimates (seconds, GPU hours, GiB) when computed.
    """

    name: str
    kind: Literal["fine-tuned", "control", "sweep"]
    model: str | None = None
    factors: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    command: str | None = None
    evaluations: tuple[Evaluation, ...] = ()
    train: Resources = field(default_factory=Resources)
    eval: Resources = field(default_factory=Resources)
    estimate: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Exclusion:
    """A combination left out of the grid, with the plan's stated reason."""

    levels: dict[str, Any]
    reason: str


@dataclass(frozen=True)
class RunMatrix:
    """All runs of one group, in a stable order (fine-tuned in factor order, then controls).

    ``source`` is the plan's path relative to the project root, ``source_sha256`` its hash;
    ``created`` the timestamp used in generated files (from the plan or
    ``SOURCE_DATE_EPOCH``, never the clock).
    """

    group: str
    kind: Literal["run-group", "sweep"]
    runs: tuple[Run, ...]
    cluster: ClusterProfile
    source: str
    source_sha256: str
    created: str
    factors: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    excluded: tuple[Exclusion, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)

    @property
    def fine_tuned(self) -> tuple[Run, ...]:
        return tuple(r for r in self.runs if r.kind == "fine-tuned")

    @property
    def controls(self) -> tuple[Run, ...]:
        return tuple(r for r in self.runs if r.kind == "control")

    def evaluation_count(self) -> int:
        return sum(len(r.evaluations) for r in self.runs)
