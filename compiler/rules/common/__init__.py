"""Rules common to every document kind."""

from __future__ import annotations

from types import ModuleType

from . import (
    cm002_unknown_key,
    cm003_schema,
    cm004_mojibake,
    cm005_placeholder,
    cm006_secret,
    cm007_unknown_kind,
    cm008_planc_command,
)

RULES: tuple[ModuleType, ...] = (
    cm002_unknown_key,
    cm003_schema,
    cm004_mojibake,
    cm005_placeholder,
    cm006_secret,
    cm007_unknown_kind,
    cm008_planc_command,
)
