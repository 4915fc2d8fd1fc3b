"""Validation during training needs a validation split in the dataset.

Source: seed 004 "Training Options" ("Validation requires dataset with validation split")
and "Required Ingredients → Dataset".

Severity: error — validation during training without a validation split cannot be run as
written.

Failing::

    - **Splits**: train (8,000), test (2,000)
    - **Validation during training**: yes

Passing::

    - **Splits**: train (8,000), validation (1,000), test (1,000)
    - **Validation during training**: yes
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models.rungroup_doc import parse_bool
from ..base import Context, Finding
from ._shared import plan_of

CODE = "RG009"
NAME = "validation-split"
SEVERITY = "error"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan is None:
        return
    v = plan.config.get("validation during training")
    if v is None or parse_bool(v.value) is not True:
        return
    if not plan.splits_line:
        yield Finding(v.line, v.column, "validation during training, but the Dataset states "
                      "no splits", "add '- **Splits**: train (n), validation (n), test (n)'")
    elif plan.dataset_splits.get("validation", 0) <= 0:
        yield Finding(v.line, v.column,
                      "validation during training, but the dataset has no validation split "
                      f"(line {plan.splits_line})",
                      "add a validation split or turn validation off")
