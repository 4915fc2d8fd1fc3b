"""The rule registry: rule families, each an explicit tuple of rule modules grep can read.

Codes are grouped by document kind: ``CM`` common to every kind, ``PL`` plan (seed 000),
``TK`` task plan (seeds 002/003), ``RG`` run group (seed 004 ``runs_plan.md``), ``RS``
``runs_status.yaml``, ``ES`` cruijff_kit's ``experiment_summary.yaml``, ``CL`` resources
against a cluster profile. ``CF`` codes are configuration problems and ``CM000``/``CM001``
come from loading, not from a rule module. A code is never reused.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

# Rule families: package → the document kinds its rules run on. Each package's RULES tuple
# lists its modules explicitly. A family is imported the first time a document of one of
# its kinds is linted, so `planc lint one_plan.md` (pre-commit) loads only what it needs.
FAMILIES: dict[str, tuple[str, ...]] = {
    "common": ("plan", "tasks", "run-group", "status", "experiment-summary", "unknown"),
    "plan": ("plan",),
    "tasks": ("tasks",),
    "rungroup": ("run-group",),
    "status": ("status",),
    "cluster": ("run-group", "experiment-summary", "plan"),
    "compile": ("run-group", "experiment-summary", "plan"),
    "esum": ("experiment-summary",),
}
_loaded: dict[str, tuple[ModuleType, ...]] = {}
_by_kind: dict[str, tuple[ModuleType, ...]] = {}


def family(name: str) -> tuple[ModuleType, ...]:
    """The rule modules of one family (imported on first use)."""
    if name not in _loaded:
        _loaded[name] = importlib.import_module(f".{name}", __name__).RULES
    return _loaded[name]


def rules_for_kind(kind: str) -> tuple[ModuleType, ...]:
    """Every rule that runs on documents of ``kind``, in registry order."""
    if kind not in _by_kind:
        _by_kind[kind] = tuple(
            rule
            for name, kinds in FAMILIES.items()
            if kind in kinds
            for rule in family(name)
            if kind in rule.KINDS
        )
    return _by_kind[kind]


def __getattr__(name: str) -> Any:
    # RULES and BY_CODE (every rule) load all families: planc rules, explain, the site, SARIF.
    if name == "RULES":
        return tuple(rule for fam in FAMILIES for rule in family(fam))
    if name == "BY_CODE":
        return {r.CODE: r for fam in FAMILIES for r in family(fam)}
    raise AttributeError(name)


# Codes produced outside rule modules (loading and configuration), documented here.
BUILTIN_CODES: dict[str, tuple[str, str, str]] = {
    "CM000": ("unreadable", "error", "The file cannot be read, is too large, or is not UTF-8."),
    "CM001": ("front-matter-yaml", "error", "Front-matter (or a YAML file) is not valid YAML."),
    "CF001": ("config-syntax", "error", "pyproject.toml is not valid TOML."),
    "CF002": ("config-unknown-key", "error", "[tool.planc] names an unknown key, rule or option."),
    "CF003": ("config-value", "error", "[tool.planc] has a value of the wrong type or range."),
    # Compile-time codes outside the compile rule family (profile files).
    "CP001": ("cluster-profile", "error", "A cluster profile file is invalid (YAML or schema)."),
}

# Why each code of loading and configuration has its severity (rule modules say it in their
# docstrings, ``Severity: <level> — <why>``; README "Severity policy").
BUILTIN_REASONS: dict[str, str] = {
    "CM000": "a file planc cannot read cannot be checked or compiled at all.",
    "CM001": "YAML that does not parse states nothing planc can compile.",
    "CF001": "a configuration planc cannot read would silently change what is checked.",
    "CF002": "an unknown key, rule or option (most often a typo) would be ignored silently.",
    "CF003": "a value of the wrong type or range cannot be applied as written.",
    "CP001": "an invalid profile cannot be compiled for.",
}


def severity_reason(code: str) -> str:
    """Why ``code`` has its default severity: the ``Severity: <level> — <why>`` paragraph of
    its rule's docstring (whitespace folded), or the reason of a loading/configuration code;
    ``""`` for an unknown code."""
    if code in BUILTIN_REASONS:
        return BUILTIN_REASONS[code]
    rule = __getattr__("BY_CODE").get(code)
    doc = (getattr(rule, "__doc__", None) or "") if rule is not None else ""
    for para in doc.split("\n\n"):
        text = " ".join(para.split())
        if text.startswith("Severity:"):
            return text.split("—", 1)[-1].strip()
    return ""


def get(code_or_name: str) -> ModuleType | None:
    """The rule module with this code, name or alias (case-insensitive), else ``None``."""
    want = code_or_name.strip()
    by_code = __getattr__("BY_CODE")
    if want.upper() in by_code:
        return by_code[want.upper()]
    for rule in __getattr__("RULES"):
        if want.lower() == rule.NAME or want.lower() in getattr(rule, "ALIASES", ()):
            return rule
    return None
