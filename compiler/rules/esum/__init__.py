"""Rules for cruijff_kit's ``experiment_summary.yaml`` (kind ``experiment-summary``); the
tuple below is the registry for this kind."""

from __future__ import annotations

from types import ModuleType

from . import (
    es001_schema,
    es002_unknown_key,
    es003_reference,
    es004_duplicate_name,
    es005_dataset_label,
    es006_eval_epoch,
    es007_variables,
    es008_lora_alpha,
    es009_checkpoint_path,
)

RULES: tuple[ModuleType, ...] = (
    es001_schema,
    es002_unknown_key,
    es003_reference,
    es004_duplicate_name,
    es005_dataset_label,
    es006_eval_epoch,
    es007_variables,
    es008_lora_alpha,
    es009_checkpoint_path,
)
