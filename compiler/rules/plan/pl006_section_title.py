"""Section headings use the seed's exact titles.

Seed 001: "these exact headers". A heading that nearly matches one (``### Risks and
Mitigations``, ``### Parameters``, ``### Success criteria:``) is read as that section, and
reported here with the title to use. Case, a trailing colon and the 💡 emoji of
"Workflow Improvements" are not required.

Severity: error — seed 000: "these exact headers"; a section under another title is not
found by the tools that read the format.

Failing::

    ### Risks and Mitigations

Passing::

    ### Risks & Mitigations
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models.plan import SECTION_TITLES
from ..base import Context, Finding
from ._shared import plan

CODE = "PL006"
NAME = "section-title"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    for sec in plan(ctx).sections:
        if sec.key and not sec.exact:
            want = SECTION_TITLES[sec.key]
            yield Finding(sec.line, sec.column, f"section title '{sec.title}' is not the seed's",
                          f"did you mean '### {want}'?")
