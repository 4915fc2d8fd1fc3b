"""Compile checks: the diagnostics :func:`compiler.spec.build` produces, reported by lint at
the plan location that causes them (one module per code, like every rule). Lint and compile
run the same build, so ``planc lint`` exit 0 means ``planc compile`` succeeds."""

from __future__ import annotations

from types import ModuleType

from . import (
    ex001_zip_length,
    ex002_exclusion_reason,
    ex003_run_name,
    ex004_duplicate_run,
    ex005_placeholder,
    ex006_model,
    ex007_matrix,
    ex008_recipe,
    ex009_epoch,
    ex010_cluster,
    ex011_batch_size,
    ex012_render,
    ex013_target,
    ex015_too_many_runs,
    ex016_placeholder_context,
    mr001_model_registry,
    rg900_missing_fact,
)

RULES: tuple[ModuleType, ...] = (
    ex001_zip_length,
    ex002_exclusion_reason,
    ex003_run_name,
    ex004_duplicate_run,
    ex005_placeholder,
    ex006_model,
    ex007_matrix,
    ex008_recipe,
    ex009_epoch,
    ex010_cluster,
    ex011_batch_size,
    ex012_render,
    ex013_target,
    ex015_too_many_runs,
    ex016_placeholder_context,
    rg900_missing_fact,
    mr001_model_registry,
)
