"""A run name must be one safe path component ([A-Za-z0-9._+-], no '/').

Run names become folder names, SLURM job names and tracker keys; a name that could
escape the output folder, or a plan that expands to no runs, cannot be compiled.

Severity: error — a run name that is not one path component cannot be a folder: the plan
cannot be compiled as written.

Failing::

    | ../escape | Llama-3.2-1B-Instruct | 4 | 16 | Fine-tuned | ~22 min |

Passing::

    | Llama-3.2-1B-Instruct_rank4 | Llama-3.2-1B-Instruct | 4 | 16 | Fine-tuned | ~22 min |
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._shared import compile_findings

CODE = "EX003"
NAME = "expand-run-name"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    yield from compile_findings(ctx, CODE)
