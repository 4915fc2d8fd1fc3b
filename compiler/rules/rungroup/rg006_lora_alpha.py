"""LoRA alpha is 2 × rank.

Checked where the plan states alpha: the Configuration bullet (one value when every run has
the same rank, or a per-rank list such as ``8 (rank 4), 128 (rank 64)``) and an optional
``LoRA Alpha`` column of All Runs. A bullet without a number (``auto-set to 2 × rank``) is
accepted. Source: seed 004 ("LoRA alpha: Auto-set to 2 × rank by setup_finetune.py";
checklist "LoRA alpha correctly calculated (2 × rank)").

Severity: error — seed 004: "LoRA alpha: Auto-set to 2 × rank by setup_finetune.py"; another
alpha states something the tool will not do.

Failing::

    - **LoRA alpha**: 16 (auto-set to 2 × rank)        # runs use ranks 4 and 64

Passing::

    - **LoRA alpha**: 8 (rank 4), 128 (rank 64) (auto-set to 2 × rank)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...models.rungroup_doc import parse_int
from ..base import Context, Finding
from ._shared import plan_of

CODE = "RG006"
NAME = "lora-alpha"
SEVERITY = "error"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {}

_PAIR = re.compile(r"(\d+)\s*\(\s*rank\s*(\d+)\s*\)", re.I)
_PAIR2 = re.compile(r"rank\s*(\d+)\s*(?:→|->|:|=)\s*(?:alpha\s*)?(\d+)", re.I)


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    plan = plan_of(ctx)
    if plan is None:
        return
    ranks = sorted({r.lora_rank for r in plan.finetuned if r.lora_rank is not None})
    for row in plan.finetuned:
        cell = row.cells.get("lora alpha")
        alpha = parse_int(cell) if cell else None
        if alpha is not None and row.lora_rank is not None and alpha != 2 * row.lora_rank:
            yield Finding(row.line, doc.col_of(row.line, f"| {cell}") + 2,
                          f"run {row.name!r}: LoRA alpha {alpha} is not 2 × rank "
                          f"{row.lora_rank} = {2 * row.lora_rank}")
    stated = plan.config.get("lora alpha")
    if stated is None:
        return
    text = stated.value
    pairs = [(int(a), int(r)) for a, r in _PAIR.findall(text)]
    pairs += [(int(a), int(r)) for r, a in _PAIR2.findall(text)]
    if pairs:
        for alpha, rank in pairs:
            if alpha != 2 * rank:
                yield Finding(stated.line, doc.col_of(stated.line, str(alpha)),
                              f"LoRA alpha {alpha} for rank {rank} is not "
                              f"2 × {rank} = {2 * rank}")
        listed = {r for _, r in pairs}
        for rank in ranks:
            if rank not in listed:
                yield Finding(stated.line, stated.column,
                              f"LoRA alpha lists no value for rank {rank} "
                              f"(2 × {rank} = {2 * rank})")
        return
    head = text.split("(", 1)[0]
    alpha = parse_int(head)
    if alpha is None or not ranks:
        return
    if len(ranks) > 1:
        yield Finding(stated.line, stated.column,
                      f"one LoRA alpha ({alpha}) for ranks {', '.join(map(str, ranks))}; alpha is "
                      "2 × rank, so it differs per rank",
                      "list it per rank: " + ", ".join(f"{2 * r} (rank {r})" for r in ranks))
    elif alpha != 2 * ranks[0]:
        yield Finding(stated.line, stated.column,
                      f"LoRA alpha {alpha} is not 2 × rank {ranks[0]} = {2 * ranks[0]}")
