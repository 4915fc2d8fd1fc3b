"""A run plan starts with ``# Run Plan: <name>`` and the name is not empty.

The run-group name names the output folder and the ``run_group`` of ``runs_status.yaml``
(seed 004 "Output Deliverables" template: ``# Run Plan: {run_group_name}``).

Severity: error — seed 004's template starts with ``# Run Plan: <name>``; the name
identifies the run group in every output.

Failing::

    # Run Plan:

    ## Overview

Passing::

    # Run Plan: cap_8L_llama32_lora_comparison

    ## Overview
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan_of

CODE = "RG001"
NAME = "run-plan-title"
SEVERITY = "error"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {}

_NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan is None:
        return
    if plan.name is None:
        yield Finding(1, 1, "the run plan has no '# Run Plan: <name>' title",
                      "start the file with '# Run Plan: <run_group_name>'")
        return
    name = plan.name.value
    if not name:
        yield Finding(plan.title_line, 1, "the run plan title names no run group",
                      "write '# Run Plan: <run_group_name>'")
    elif not _NAME_OK.match(name):
        yield Finding(plan.name.line, plan.name.column,
                      f"run group name {name!r} is not a folder name "
                      "(letters, digits, '.', '_', '-')")
