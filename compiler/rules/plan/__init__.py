"""Rules for documents of kind ``plan`` (seed 000/001 "📋 Plan:" format).

Codes run in document order: the title (PL001–PL002), the sections (PL003–PL008), then one
group per section (Objective PL009, Compute Setup PL010–PL012, Approach PL013–PL015,
Parameters to Sweep PL016–PL017, Metrics PL018, Success Criteria PL019, Risks PL020,
Estimated Effort PL021–PL022, Workflow Improvements PL023) and cross-section checks
(PL024–PL027). The tuple below is the registry for this kind.
"""

from __future__ import annotations

from types import ModuleType

from . import (
    pl001_title,
    pl002_title_duplicate,
    pl003_section_missing,
    pl004_section_duplicate,
    pl005_section_order,
    pl006_section_title,
    pl007_section_unknown,
    pl008_section_level,
    pl009_objective,
    pl010_setup_missing,
    pl011_setup_value,
    pl012_setup_consistency,
    pl013_approach_list,
    pl014_approach_step,
    pl015_direct_execution,
    pl016_sweep_table,
    pl017_sweep_concrete,
    pl018_metrics,
    pl019_success_criteria,
    pl020_risks,
    pl021_effort_fields,
    pl022_effort_runs,
    pl023_workflow,
    pl024_gpu_pinning,
    pl025_env_activation,
    pl026_title_front_matter,
    pl027_sweep_front_matter,
)

RULES: tuple[ModuleType, ...] = (
    pl001_title,
    pl002_title_duplicate,
    pl003_section_missing,
    pl004_section_duplicate,
    pl005_section_order,
    pl006_section_title,
    pl007_section_unknown,
    pl008_section_level,
    pl009_objective,
    pl010_setup_missing,
    pl011_setup_value,
    pl012_setup_consistency,
    pl013_approach_list,
    pl014_approach_step,
    pl015_direct_execution,
    pl016_sweep_table,
    pl017_sweep_concrete,
    pl018_metrics,
    pl019_success_criteria,
    pl020_risks,
    pl021_effort_fields,
    pl022_effort_runs,
    pl023_workflow,
    pl024_gpu_pinning,
    pl025_env_activation,
    pl026_title_front_matter,
    pl027_sweep_front_matter,
)
