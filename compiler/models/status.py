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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = 1
STATUSES = ("pending", "submitted", "running", "completed", "failed", "skipped")
Status = Literal["pending", "submitted", "running", "completed", "failed", "skipped"]
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
BASE_NOTE = "Base model - no fine-tuning required"


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

    Stage keys are ``finetune``, ``run`` or ``evaluations/<key>``. Malformed parts are
    skipped (lint reports them).
    """
    out: list[tuple[str, str, dict[str, Any]]] = []
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, dict):
        return out
    for name, rec in runs.items():
        if not isinstance(rec, dict):
            continue
        for key in ("finetune", "run"):
            if isinstance(rec.get(key), dict):
                out.append((str(name), key, rec[key]))
        evals = rec.get("evaluations")
        if isinstance(evals, dict):
            for ek, st in evals.items():
                if isinstance(st, dict):
                    out.append((str(name), f"evaluations/{ek}", st))
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
