"""Rules that check a run group or sweep against its cluster profile (codes ``CL``)."""

from __future__ import annotations

from types import ModuleType

RULES: tuple[ModuleType, ...] = ()
