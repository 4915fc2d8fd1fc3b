"""Rules for documents of kind ``tasks`` (seeds 002 and 003); the tuple below is the registry.

Which rules apply depends on the plan's form (:mod:`compiler.models.tasks`): ``phased``
(seed 003: TK004–TK018, TK023, TK024), ``flat`` (seed 002: TK020, TK021), ``abort``
(TK019), ``stub`` (research-agent's placeholder before planning: TK026, info).
TK001–TK003, TK012, TK022 and TK025 check every form they make sense for.
"""

from __future__ import annotations

from types import ModuleType

from . import (
    tk001_title,
    tk002_goal,
    tk003_notes,
    tk004_phase_count,
    tk005_phase_heading,
    tk006_phase_tasks,
    tk007_task_count,
    tk008_task_line,
    tk009_task_id,
    tk010_deliverable,
    tk011_done_when,
    tk012_checkbox,
    tk013_depends,
    tk014_midpoint_reflection,
    tk015_final_reflection,
    tk016_ablation,
    tk017_contract,
    tk018_playbook,
    tk019_abort,
    tk020_flat_tasks,
    tk021_flat_count,
    tk022_direct_execution,
    tk023_logging_tasks,
    tk024_planning_topics,
    tk025_tracked_run_tasks,
    tk026_not_planned,
)

RULES: tuple[ModuleType, ...] = (
    tk001_title,
    tk002_goal,
    tk003_notes,
    tk004_phase_count,
    tk005_phase_heading,
    tk006_phase_tasks,
    tk007_task_count,
    tk008_task_line,
    tk009_task_id,
    tk010_deliverable,
    tk011_done_when,
    tk012_checkbox,
    tk013_depends,
    tk014_midpoint_reflection,
    tk015_final_reflection,
    tk016_ablation,
    tk017_contract,
    tk018_playbook,
    tk019_abort,
    tk020_flat_tasks,
    tk021_flat_count,
    tk022_direct_execution,
    tk023_logging_tasks,
    tk024_planning_topics,
    tk025_tracked_run_tasks,
    tk026_not_planned,
)
