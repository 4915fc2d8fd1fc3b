"""Rules for documents of kind `rungroup`; the tuple below is the registry for this kind."""

from __future__ import annotations

from types import ModuleType

RULES: tuple[ModuleType, ...] = ()
