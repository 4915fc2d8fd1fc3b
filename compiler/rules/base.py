"""What a rule module declares, and the context a rule's ``check`` receives.

A rule is a module (yamllint style) with:

- ``CODE`` (``"PL003"``), ``NAME`` (``"plan-compute-setup"``), ``SEVERITY``
  (``"error" | "warning" | "info"``), ``KINDS`` (document kinds it runs on), ``OPTIONS``
  (option name → default value), optional ``ALIASES``;
- ``check(ctx: Context) -> Iterator[Finding]``;
- a docstring whose first line is the summary, followed by a failing and a passing example.
  That docstring is the rule's documentation (``planc explain``, the site's rule pages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..document import Document
from ..fix import Fix


class Finding(NamedTuple):
    """A rule's finding at a 1-based ``line``/``column``; ``fix`` is an optional one-line
    suggestion for the reader; ``autofix`` is the structured, machine-applied form of it
    (:class:`compiler.fix.Fix`: span edits plus safe/unsafe), applied by ``planc lint --fix``."""

    line: int
    column: int
    message: str
    fix: str | None = None
    autofix: Fix | None = None


@dataclass
class Context:
    """What a rule sees: the document, its options (defaults merged with configuration),
    and the paths of sibling documents (for cross-file checks)."""

    doc: Document
    options: dict[str, Any] = field(default_factory=dict)
    settings: Any = None

    def model(self, key: str, build: Any) -> Any:
        """A parsed kind model, built once per document (``build(doc)``)."""
        return self.doc.cached(key, build)
