"""A seed-003 plan ends with a Shared Metrics and Analytics Contract of four items.

``## Shared Metrics and Analytics Contract`` lists ``Primary metrics``, ``Secondary
diagnostics``, ``Statistical checks`` and ``Required artifacts``, each with a value: the
analytics every task reports against.

Severity: error — seed 003's required structure ends with the Shared Metrics and Analytics
Contract.

Failing::

    ## Shared Metrics and Analytics Contract
    - Primary metrics: held-out accuracy
    - Statistical checks:

Passing::

    ## Shared Metrics and Analytics Contract
    - Primary metrics: held-out accuracy, mean over seeds 0–4
    - Secondary diagnostics: macro-F1, train seconds
    - Statistical checks: 95% t interval over seeds; paired t-test against the baseline
    - Required artifacts: results/sweep.csv, analysis/accuracy_vs_alpha.svg

Seed: 003 (Required Plan Structure; Define a compact analytics contract).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._common import plan_of

CODE = "TK017"
NAME = "metrics-contract"
SEVERITY = "error"
KINDS = ("tasks",)
OPTIONS: dict[str, object] = {}

_ITEMS = {
    "primary": "Primary metrics",
    "secondary": "Secondary diagnostics",
    "statistical": "Statistical checks",
    "artifacts": "Required artifacts",
}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan.form != "phased":
        return
    if plan.contract is None:
        line, col = plan.anchor()
        yield Finding(line, col,
                      "task plan has no '## Shared Metrics and Analytics Contract' section",
                      "add it with Primary metrics, Secondary diagnostics, Statistical checks "
                      "and Required artifacts")
        return
    found = set()
    for item in plan.contract_items:
        if item.kind is None:
            continue
        found.add(item.kind)
        if not item.value:
            yield Finding(item.line, item.column, f"contract item '{item.key}' is empty",
                          "fill in the value")
    missing = [label for kind, label in _ITEMS.items() if kind not in found]
    if missing:
        yield Finding(plan.contract.line, plan.contract.column,
                      "analytics contract lacks " + ", ".join(missing),
                      "add one '- Name: value' item for each")
