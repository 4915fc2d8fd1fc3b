"""Training and evaluation use the same system prompt.

Every ``System prompt`` bullet of the plan (Configuration, and any evaluation-specific one)
must state the same text. Source: seed 004 "Training Options" ("The same system prompt used
during training MUST be used during evaluation for fair comparison").

Severity: error — seed 004: "The same system prompt used during training MUST be used during
evaluation".

Failing::

    - **System prompt**: "You are a helpful assistant."
    - **Evaluation system prompt**: ""

Passing::

    - **System prompt**: "You are a helpful assistant." (used during both training and evaluation)
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan_of

CODE = "RG014"
NAME = "system-prompt-consistency"
SEVERITY = "error"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan is None:
        return
    prompts = plan.system_prompts
    if len(prompts) < 2:
        return
    first = prompts[0]
    for p in prompts[1:]:
        if p.value.strip() != first.value.strip():
            yield Finding(p.line, p.column,
                          f"system prompt {p.value!r} differs from {first.value!r} "
                          f"(line {first.line}); training and evaluation must use the same one")
