"""Every required section of the seed format is present.

Seed 001 requires, in this order: Objective, Compute Setup, Approach, Metrics, Success
Criteria, Risks & Mitigations, Estimated Effort and 💡 Workflow Improvements (Parameters to
Sweep is optional: "Include this section only if parameter sweeps are relevant"). A
heading that only resembles one of these (``### Risks and Mitigations``) counts as present
here and is reported by PL006 instead. The finding points at the heading the missing
section should precede (or at the last line when it belongs at the end).

Severity: error — seed 000: the plan "MUST follow this exact structure with these exact
headers".

Failing::

    ## 📋 Plan: LoRA rank sweep
    ### Objective
    Find the best LoRA rank.
    ### Approach
    ...

Passing::

    ## 📋 Plan: LoRA rank sweep
    ### Objective
    Find the best LoRA rank.
    ### Compute Setup
    ...
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models.plan import SECTION_ORDER, SECTIONS
from ..base import Context, Finding
from ._shared import plan

CODE = "PL003"
NAME = "section-missing"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    model = plan(ctx)
    present = {s.key for s in model.sections if s.key}
    for key, title, required in SECTIONS:
        if not required or key in present:
            continue
        following = [s for s in model.sections
                     if s.key and SECTION_ORDER[s.key] > SECTION_ORDER[key]]
        if following:
            nxt = following[0]
            yield Finding(nxt.line, 1, f"missing section '### {title}'",
                          f"add it before '{nxt.title}'")
        else:
            line = _last_line(ctx)
            yield Finding(line, 1, f"missing section '### {title}'", "add it at the end")


def _last_line(ctx: Context) -> int:
    lines = ctx.doc.lines
    n = len(lines)
    while n > 1 and not lines[n - 1].strip():
        n -= 1
    return max(n, 1)
