"""Estimates not backed by prior runs say they are estimates.

When the Compute Estimates section names no prior run directory (a backticked path after
"prior run(s)", as the template's "Based on actual prior runs from `{prior_run_directory}`";
absolute or relative), it must say its figures are estimated, preliminary or conservative,
and it must not claim to be "based on actual" SLURM logs or prior runs. Source: seed 004
"Estimate Validation" ("OR: If no prior runs, clearly noted as 'estimated, not verified'")
and "If no prior runs available" ("Clearly document in the plan: 'Estimates are
preliminary'").

Severity: warning — seed 004: "Make conservative estimates, clearly note they're
preliminary"; how an author hedges is a matter of wording.

Failing::

    ## Compute Estimates
    **Note**: Estimates based on actual SLURM logs from prior runs with identical configurations.

Passing::

    ## Compute Estimates
    **Note**: Preliminary estimates; no prior runs exist for these models.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import plan_of

CODE = "RG017"
NAME = "estimate-hedging"
SEVERITY = "warning"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    plan = plan_of(ctx)
    if plan is None:
        return
    est = plan.estimates
    if not est.section_line or est.backed:
        return
    sec = next(s for s in plan.sections if s.line == est.section_line)
    if not est.hedged:
        yield Finding(sec.line, sec.column,
                      "the estimates name no prior run and do not say they are estimated",
                      "say 'preliminary estimates' or name the prior run directory")
    for claim in est.claims:
        yield Finding(claim.line, claim.column,
                      "claims to be based on actual prior runs but names no prior run directory",
                      "name the prior run directory (`/abs/path`) or call the figures preliminary")
