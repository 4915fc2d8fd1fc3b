"""The rule registry: an explicit tuple of rule modules that grep can read.

Codes are grouped by document kind: ``CM`` common to every kind, ``PL`` plan (seed 000),
``TK`` task plan (seeds 002/003), ``RG`` run group (seed 004 ``runs_plan.md``), ``RS``
``runs_status.yaml``, ``CL`` resources against a cluster profile. ``CF`` codes are configuration problems and ``CM000``/``CM001`` come
from loading, not from a rule module. A code is never reused.
"""

from __future__ import annotations

from types import ModuleType

from .cluster import RULES as CLUSTER
from .common import RULES as COMMON
from .plan import RULES as PLAN
from .rungroup import RULES as RUNGROUP
from .status import RULES as STATUS
from .tasks import RULES as TASKS

RULES: tuple[ModuleType, ...] = (*COMMON, *PLAN, *TASKS, *RUNGROUP, *STATUS, *CLUSTER)
BY_CODE: dict[str, ModuleType] = {r.CODE: r for r in RULES}

# Codes produced outside rule modules (loading and configuration), documented here.
BUILTIN_CODES: dict[str, tuple[str, str, str]] = {
    "CM000": ("unreadable", "error", "The file cannot be read, is too large, or is not UTF-8."),
    "CM001": ("front-matter-yaml", "error", "Front-matter (or a YAML file) is not valid YAML."),
    "CF001": ("config-syntax", "error", "pyproject.toml is not valid TOML."),
    "CF002": ("config-unknown-key", "error", "[tool.planc] names an unknown key, rule or option."),
    "CF003": ("config-value", "error", "[tool.planc] has a value of the wrong type or range."),
}


def get(code_or_name: str) -> ModuleType | None:
    """The rule module with this code, name or alias (case-insensitive), else ``None``."""
    want = code_or_name.strip()
    if want.upper() in BY_CODE:
        return BY_CODE[want.upper()]
    for rule in RULES:
        if want.lower() == rule.NAME or want.lower() in getattr(rule, "ALIASES", ()):
            return rule
    return None
