"""Rules for documents of kind ``status`` (``runs_status.yaml``); the tuple below is the
registry for this kind."""

from __future__ import annotations

from types import ModuleType

from . import (
    rs001_schema,
    rs002_status_value,
    rs003_job_id,
    rs004_timestamp,
    rs005_empty_string,
    rs006_run_names,
    rs007_base_runs,
    rs008_eval_keys,
    rs009_run_stages,
    rs010_job_id_missing,
)

RULES: tuple[ModuleType, ...] = (
    rs001_schema,
    rs002_status_value,
    rs003_job_id,
    rs004_timestamp,
    rs005_empty_string,
    rs006_run_names,
    rs007_base_runs,
    rs008_eval_keys,
    rs009_run_stages,
    rs010_job_id_missing,
)
