"""Each Approach step is ``**title** — description``.

Seed 001: ``1. **Step 1 title** — Description of what to do``. The title is bold and is
separated from the description by an em dash (an en dash ``–`` is accepted too). Reported: a
step without a bold title, another separator (``:``, ``-``), or no description.

Severity: error — seed 000's exact structure: ``**Step title** — description``; a step
without its title and description cannot be listed or tracked as written.

Failing::

    1. Run the baseline
    2. **Sweep**: launch the grid
    3. **Analyse** —

Passing::

    1. **Baseline** — run the default config once per seed
    2. **Sweep** — create the sweep and one tracked run per configuration
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan

CODE = "PL014"
NAME = "approach-step-format"
SEVERITY = "error"
KINDS = ("plan",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    for step in plan(ctx).approach:
        if not step.bold:
            first = step.text.split("\n", 1)[0][:20]
            yield Finding(step.line, doc.col_of(step.line, first),
                          "Approach step has no bold title",
                          "write '**Step title** — description'")
            continue
        if step.dash not in ("—", "–"):
            shown = f"'{step.dash}'" if step.dash else "nothing"
            col = _after_bold(doc.line_text(step.line), step.title or "")
            yield Finding(step.line, col,
                          f"the step title is followed by {shown}, not an em dash",
                          f"write '**{step.title}** — …'")
            continue
        if not step.description:
            yield Finding(step.line, doc.col_of(step.line, step.dash),
                          f"Approach step '{step.title}' has no description",
                          "say what to do after the dash")


def _after_bold(line: str, title: str) -> int:
    """1-based column just after the bold title's closing ``**``/``__`` on ``line`` (of the
    colon when it sits inside the bold)."""
    for mark in ("**", "__"):
        start = line.find(mark + title)
        if start >= 0:
            close = line.find(mark, start + 2 + len(title))
            if close >= 0:
                # "**Title:**": point at the colon inside the bold
                return close if line[close - 1] == ":" else close + 3
    return len(line) - len(line.lstrip()) + 1
