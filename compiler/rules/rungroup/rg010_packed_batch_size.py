"""With packing on, batch sizes stay within the seed's conservative defaults.

Seed 004 "Batch Size Estimation" defaults for ``packed=True``: 80 GB GPUs 1B → 4–8,
3B → 2–4, 7B+ → 2; 40 GB GPUs 1B → 2–4, 3B → 2, 7B+ → 1; 32 GB or less → 1. ("This is why
batch_size=16 with packed=True caused OOM!") Checked per fine-tuned run of All Runs; the
model size is read from the model name. Option ``gpu_memory_gb`` (default 80) picks the row.

Severity: warning — seed 004's conservative batch sizes with packing are a starting point
("Start conservative"); measured runs may justify larger ones.

Failing::

    - **Dataset packing**: True - short examples
    | Llama-3.2-1B-Instruct_rank4 | Llama-3.2-1B-Instruct | 4 | 16 | Fine-tuned | ~20 min |

Passing::

    - **Dataset packing**: True - short examples
    | Llama-3.2-1B-Instruct_rank4 | Llama-3.2-1B-Instruct | 4 | 8 | Fine-tuned | ~20 min |
"""

from __future__ import annotations

from collections.abc import Iterator

from ...models.rungroup_doc import parse_bool
from ..base import Context, Finding
from ._shared import model_size_b, plan_of

CODE = "RG010"
NAME = "packed-batch-size"
SEVERITY = "warning"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {"gpu_memory_gb": 80}


def max_packed_batch(size_b: float, gpu_gb: float) -> int:
    """The seed 004 upper default batch size with packing for a model of ``size_b`` billion
    parameters on a GPU with ``gpu_gb`` GB."""
    tier = 0 if size_b < 2 else (1 if size_b < 5 else 2)
    if gpu_gb >= 80:
        return (8, 4, 2)[tier]
    if gpu_gb >= 40:
        return (4, 2, 1)[tier]
    return 1


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    plan = plan_of(ctx)
    if plan is None:
        return
    packing = plan.config.get("dataset packing")
    if packing is None or parse_bool(packing.value) is not True:
        return
    gpu_gb = float(ctx.options.get("gpu_memory_gb", 80))
    for row in plan.finetuned:
        size = model_size_b(row.model or row.name)
        if size is None or row.batch_size is None:
            continue
        limit = max_packed_batch(size, gpu_gb)
        if row.batch_size > limit:
            cell = row.cells.get("batch size", str(row.batch_size))
            yield Finding(row.line, doc.col_of(row.line, f"| {cell} |") + 2,
                          f"run {row.name!r}: batch size {row.batch_size} with packing exceeds the "
                          f"seed's default of at most {limit} for a {size:g}B model on "
                          f"{gpu_gb:g} GB GPUs",
                          f"start with {limit} (or turn packing off) and scale up after a test run")
