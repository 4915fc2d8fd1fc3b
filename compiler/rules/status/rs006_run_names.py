"""The tracker has exactly the runs of the ``runs_plan.md`` beside it.

Runs of the plan missing from the tracker are reported at ``runs:``; runs the plan does not
have are reported at their key. Skipped when no run plan lies beside the file. Source: seed
004 checklist ("All run names match between plan and status files").

Severity: error — tracker and plan name different runs: the two documents contradict each
other.

Failing::

    runs:
      Llama-3.2-1B-Instruct_r4: …          # the plan names Llama-3.2-1B-Instruct_rank4

Passing::

    runs:
      Llama-3.2-1B-Instruct_rank4: …
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import key_pos, runs_of, sibling_plan

CODE = "RS006"
NAME = "status-run-names"
SEVERITY = "error"
KINDS = ("status",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = sibling_plan(ctx)
    if plan is None or not plan.runs:
        return
    data = ctx.doc.yaml_data
    if not isinstance(data, dict) or "runs" not in data:
        return
    runs = runs_of(ctx)
    names = [r.name for r in plan.runs if r.name]
    line, col = key_pos(ctx, ["runs"])
    for name in names:
        if name not in runs:
            yield Finding(line, col, f"run {name!r} of runs_plan.md is missing",
                          "run planc compile to add it")
    wanted = set(names)
    for name in runs:
        if str(name) not in wanted:
            kl, kc = key_pos(ctx, ["runs", name])
            yield Finding(kl, kc, f"run {name!r} is not in runs_plan.md")
