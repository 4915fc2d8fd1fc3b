"""The Approach is a numbered list of steps.

Seed 001, ``### Approach``: ``1. **Step 1 title** — Description of what to do``, "as many
steps as needed"; "every step should be executable". Bullets or bare paragraphs lose the
step numbers that the rest of the plan and the reviewer refer to.

Severity: error — seed 000's exact structure makes the Approach a numbered list of steps,
the order the plan is carried out in.

Failing::

    ### Approach
    - **Baseline** — run the default config
    - **Sweep** — run the grid

Passing::

    ### Approach
    1. **Baseline** — run the default config
    2. **Sweep** — run the grid
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan

CODE = "PL013"
NAME = "approach-numbered"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    model = plan(ctx)
    sec = model.section("approach")
    if sec is None:
        return
    if not model.approach:
        yield Finding(sec.line, sec.column, "the Approach has no numbered steps",
                      "write '1. **Step title** — what to do'")
        return
    for step in model.approach:
        if not step.ordered:
            yield Finding(step.line, step.column, "Approach step is a bullet, not a numbered step",
                          "number the steps: '1. **Step title** — what to do'")
