"""``runs_status.yaml``: the seed 004 nested tracker schema, plus ``schema_version``.

Shape (seed 004 "runs_status.yaml" template; ``../shared/reference/formats.md`` §4)::

    schema_version: 1
    run_group: cap_8L_llama32_lora_comparison_2025-10-18
    runs:
      Llama-3.2-1B-Instruct_rank4:          # fine-tuned run
        finetune: {status, job_id, output, last_updated}
        evaluations:
          capitalization_8L_epoch_0: {status, job_id, output, last_updated}
      Llama-3.2-1B-Instruct_base:           # control run
        finetune: {status: skipped, …, note: "Base model - no fine-tuning required"}
        evaluations:
          capitalization_8L: {status, job_id, output, last_updated}
      alpha0.001_seed1:                     # a sweep run (plan with a command template)
        run: {status, job_id, output, last_updated}

Stages allow extra keys (``reason``, ``exit_code``, ``array_job_id``, results a job or a
person wrote): planc never drops what it did not write.

cruijff_kit's ``update-run-status`` skill writes an older **flat** form, one mapping per run
with prefixed keys (niznik-dev/cruijff_kit ``.claude/skills/update-run-status/skill.md`` at
commit d15ec1129ed5146f0fe481e0bb92363fa1f897ac, "Status File Format")::

    runs:
      1B_rank4:
        finetune_status: completed
        finetune_job_id: "1234567"
        finetune_output: /scratch/.../ck-out-bright-horizon/epoch_2
        eval_status: running
        eval_job_id: "1234568"
        eval_output: null
        last_updated: "2025-10-19 18:30:00"

planc reads it as stages (:class:`FlatStage`, :func:`stages_of`): ``finetune_*`` is the
``finetune`` stage, ``eval_*`` the evaluation stage ``evaluations/eval``, and the run's one
``last_updated`` belongs to both. Writers go through the same views, so a flat tracker stays
flat (formats.md §4 "older flat schema").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = 1
STATUSES = ("pending", "submitted", "running", "completed", "failed", "skipped")
Status = Literal["pending", "submitted", "running", "completed", "failed", "skipped"]
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
BASE_NOTE = "Base model - no fine-tuning required"
#: the skipped fine-tune of an eval-only run (cruijff_kit ``type: "eval-only"``): it evaluates
#: a checkpoint trained elsewhere, so the base-model note would be false
EVAL_ONLY_NOTE = "Pre-existing checkpoint - evaluated without fine-tuning"


class Stage(BaseModel):
    """One pipeline stage of a run: a fine-tune, one evaluation, or a sweep run's job.

    ``job_id`` is a string (SLURM ids are quoted in YAML; an array element is
    ``"<array id>_<index>"``); ``last_updated`` is ``YYYY-MM-DD HH:MM:SS``; unset is ``null``.
    """

    model_config = ConfigDict(extra="allow")

    status: Status = "pending"
    job_id: str | None = None
    output: str | None = None
    last_updated: str | None = None
    note: str | None = None
    reason: str | None = None
    exit_code: int | None = None
    # the estimate ledger (issue 14): planc's estimate of this stage in seconds, written
    # at compile (compiler/emit.py status_data), beside the measured ``elapsed_s``
    estimate_s: float | None = Field(default=None, ge=0)
    elapsed_s: float | None = Field(default=None, ge=0)
    # the SLURM job ``elapsed_s`` was measured on, when ``planc sync`` wrote it (sacct
    # ``Elapsed`` / scontrol ``RunTime``); absent when the local runner or a person did
    elapsed_job_id: str | None = None
    estimate_key: str | None = None  # the calibration key (compiler.history.Key.label)

    @field_validator("job_id", mode="before")
    @classmethod
    def _job_id_is_string(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
            return str(v)  # cruijff_kit's update_run_status.py writes ints (yaml.dump)
        if v is not None and not isinstance(v, str):
            raise ValueError('job_id must be a quoted string or null (e.g. job_id: "4812345")')
        if v == "":
            raise ValueError("an unset job_id is null, not an empty string")
        return v

    @field_validator("last_updated", mode="before")
    @classmethod
    def _timestamp(cls, v: Any) -> Any:
        if v is None:
            return v
        if not isinstance(v, str):
            raise ValueError(
                "last_updated must be a quoted 'YYYY-MM-DD HH:MM:SS' string "
                "(unquoted, YAML reads it as a datetime)"
            )
        if not TIMESTAMP.match(v):
            raise ValueError(f"last_updated {v!r} is not 'YYYY-MM-DD HH:MM:SS'")
        return v


class RunRecord(BaseModel):
    """A run's stages. Run groups use ``finetune`` + ``evaluations``; sweeps use ``run``."""

    model_config = ConfigDict(extra="allow")

    type: Literal["fine-tuned", "control", "sweep"] | None = None
    finetune: Stage | None = None
    evaluations: dict[str, Stage] = Field(default_factory=dict)
    run: Stage | None = None


class RunsStatus(BaseModel):
    """The whole tracker file."""

    model_config = ConfigDict(extra="allow")

    schema_version: int = SCHEMA_VERSION
    run_group: str
    runs: dict[str, RunRecord] = Field(default_factory=dict)


def iter_stages(data: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(run name, stage key, stage dict) for every stage in a raw tracker mapping.

    Stage keys are ``finetune``, ``run`` or ``evaluations/<key>``. A run in the flat form
    yields :class:`FlatStage` views (``finetune``, ``evaluations/eval``) that read and write
    its prefixed keys, so callers that update a stage in place keep the flat form. Malformed
    parts are skipped (lint reports them).
    """
    out: list[tuple[str, str, Any]] = []
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, dict):
        return out
    for name, rec in runs.items():
        if not isinstance(rec, dict):
            continue
        out += [(str(name), key, st) for key, st in stages_of(rec)]
    return out


@dataclass
class StageChange:
    """One stage whose state a sync changed (SLURM, or a tracking server's pull)."""

    run: str
    stage: str
    job_id: str
    old: str
    new: str
    reason: str | None = None
    exit_code: int | None = None


# -- the flat form (cruijff_kit's update-run-status skill) ------------------------------------
FLAT_STAGES: dict[str, str] = {"finetune": "finetune", "eval": "evaluations/eval"}
"""Flat key prefix → the stage key it stands for."""
FLAT_FIELDS = ("status", "job_id", "output")
"""Prefixed fields whose presence makes a flat stage (``finetune_status``, …)."""
FLAT_SHARED = ("last_updated",)
"""Run-level keys of the flat form that every flat stage of the run shares."""


def flat_prefixes(rec: dict[str, Any]) -> list[str]:
    """The flat prefixes (``finetune``, ``eval``) a run record has a stage for: those with at
    least one of ``<prefix>_status``, ``<prefix>_job_id``, ``<prefix>_output``."""
    return [p for p in FLAT_STAGES if any(f"{p}_{f}" in rec for f in FLAT_FIELDS)]


class FlatStage(MutableMapping[str, Any]):
    """One stage of a flat run record seen as a nested stage mapping.

    ``view["status"]`` is ``record["finetune_status"]`` for prefix ``finetune``;
    ``last_updated`` is the run's shared ``last_updated``; any other field ``f`` is
    ``<prefix>_<f>`` (so a sync's ``reason``/``exit_code`` land as ``finetune_reason``,
    ``finetune_exit_code``). Writes go to the record itself: nothing is converted.
    """

    def __init__(self, record: dict[str, Any], prefix: str) -> None:
        self.record = record
        self.prefix = prefix

    def key_for(self, field: str) -> str:
        """The record key that holds stage field ``field``."""
        return field if field in FLAT_SHARED else f"{self.prefix}_{field}"

    def __getitem__(self, field: str) -> Any:
        return self.record[self.key_for(field)]

    def __setitem__(self, field: str, value: Any) -> None:
        self.record[self.key_for(field)] = value

    def __delitem__(self, field: str) -> None:
        del self.record[self.key_for(field)]

    def __iter__(self) -> Iterator[str]:
        head = f"{self.prefix}_"
        for key in self.record:
            if isinstance(key, str) and key.startswith(head) and len(key) > len(head):
                if key[len(head):] not in FLAT_SHARED:  # the run-level key is the one read
                    yield key[len(head):]
            elif key in FLAT_SHARED:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"FlatStage({self.prefix!r}, {dict(self)!r})"


def stages_of(rec: dict[str, Any]) -> list[tuple[str, Any]]:
    """(stage key, stage mapping) of one run record, in both forms: nested ``finetune``,
    ``run`` and ``evaluations/<key>`` dicts, then :class:`FlatStage` views of the flat keys."""
    out: list[tuple[str, Any]] = []
    for key in ("finetune", "run"):
        if isinstance(rec.get(key), dict):
            out.append((key, rec[key]))
    evals = rec.get("evaluations")
    if isinstance(evals, dict):
        out += [(f"evaluations/{ek}", st) for ek, st in evals.items() if isinstance(st, dict)]
    out += [(FLAT_STAGES[p], FlatStage(rec, p)) for p in flat_prefixes(rec)]
    return out


def stage_of(rec: dict[str, Any], stage_key: str) -> Any:
    """The stage ``stage_key`` of a run record (nested dict or :class:`FlatStage`), or
    ``None`` when the record has no such stage."""
    if stage_key.startswith("evaluations/"):
        evals = rec.get("evaluations")
        target = evals.get(stage_key.split("/", 1)[1]) if isinstance(evals, dict) else None
    else:
        target = rec.get(stage_key)
    if isinstance(target, dict):
        return target
    for prefix in flat_prefixes(rec):
        if FLAT_STAGES[prefix] == stage_key:
            return FlatStage(rec, prefix)
    return None
