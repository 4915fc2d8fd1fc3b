"""Rules for documents of kind ``run-group`` (seed 004 ``runs_plan.md``); the tuple below is
the registry for this kind."""

from __future__ import annotations

from types import ModuleType

from . import (
    rg001_title,
    rg002_sections,
    rg003_run_count,
    rg004_factor_levels,
    rg005_run_names,
    rg006_lora_alpha,
    rg007_recipe,
    rg008_recipe_builtin,
    rg009_validation_split,
    rg010_packed_batch_size,
    rg011_eval_coverage,
    rg012_eval_tasks,
    rg013_eval_job_count,
    rg014_system_prompt,
    rg015_arithmetic,
    rg016_estimates,
    rg017_estimate_hedging,
    rg018_section_order,
)

RULES: tuple[ModuleType, ...] = (
    rg001_title,
    rg002_sections,
    rg003_run_count,
    rg004_factor_levels,
    rg005_run_names,
    rg006_lora_alpha,
    rg007_recipe,
    rg008_recipe_builtin,
    rg009_validation_split,
    rg010_packed_batch_size,
    rg011_eval_coverage,
    rg012_eval_tasks,
    rg013_eval_job_count,
    rg014_system_prompt,
    rg015_arithmetic,
    rg016_estimates,
    rg017_estimate_hedging,
    rg018_section_order,
)
