"""LoRA alpha is 2 × rank.

Checked where the plan states alpha: the Configuration bullet (one value when every run has
the same rank, or a per-rank list such as ``8 (rank 4), 128 (rank 64)``) and an optional
``LoRA Alpha`` column of All Runs. A bullet without a number (``auto-set to 2 × rank``) is
accepted. Source: seed 004 ("LoRA alpha: Auto-set to 2 × rank by setup_finetune.py";
checklist "LoRA alpha correctly calculated (2 × rank)").

Severity: error — seed 004: "LoRA alpha: Auto-set to 2 × rank by setup_finetune.py"; another
alpha states something the tool will not do.

Fix (safe): a stated alpha number that is not 2 × its rank (an All Runs ``LoRA Alpha`` cell,
an ``8 (rank 4)`` pair, or the single value when every run has one rank) is replaced by
2 × rank; a single alpha stated for several ranks becomes the per-rank list
``8 (rank 4), 128 (rank 64)``. Safe because setup_finetune.py sets alpha to 2 × rank
whatever the document says: the fix makes the statement true and changes no run.

Failing::

    - **LoRA alpha**: 16 (auto-set to 2 × rank)        # runs use ranks 4 and 64

Passing::

    - **LoRA alpha**: 8 (rank 4), 128 (rank 64) (auto-set to 2 × rank)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...fix import Edit, Fix, edit_at, replace_in_line
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
            col = doc.col_of(row.line, f"| {cell}") + 2
            yield Finding(row.line, col,
                          f"run {row.name!r}: LoRA alpha {alpha} is not 2 × rank "
                          f"{row.lora_rank} = {2 * row.lora_rank}", None,
                          _cell_fix(ctx, row, cell, 2 * row.lora_rank))
    stated = plan.config.get("lora alpha")
    if stated is None:
        return
    text = stated.value
    pairs = [(int(a), int(r), m.start(1), m.group(1)) for m in _PAIR.finditer(text)
             for a, r in [m.groups()]]
    pairs += [(int(a), int(r), m.start(2), m.group(2)) for m in _PAIR2.finditer(text)
              for r, a in [m.groups()]]
    base = doc.line_text(stated.line).find(text)
    if pairs:
        for alpha, rank, at, digits in pairs:
            if alpha != 2 * rank:
                fix = (replace_in_line(doc, stated.line, digits, str(2 * rank),
                                       after=base + at + 1) if base >= 0 else None)
                yield Finding(stated.line, doc.col_of(stated.line, str(alpha)),
                              f"LoRA alpha {alpha} for rank {rank} is not "
                              f"2 × {rank} = {2 * rank}", None, fix)
        listed = {p[1] for p in pairs}
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
    m = re.match(r"\s*(\d+)(?![\d.,])", head)
    ok = m is not None and base >= 0 and int(m.group(1)) == alpha
    if len(ranks) > 1:
        listed = ", ".join(f"{2 * r} (rank {r})" for r in ranks)
        fix = (replace_in_line(doc, stated.line, m.group(1), listed, after=base + m.start(1) + 1)
               if m and ok else None)
        yield Finding(stated.line, stated.column,
                      f"one LoRA alpha ({alpha}) for ranks {', '.join(map(str, ranks))}; alpha is "
                      "2 × rank, so it differs per rank", "list it per rank: " + listed, fix)
    elif alpha != 2 * ranks[0]:
        fix = (replace_in_line(doc, stated.line, m.group(1), str(2 * ranks[0]),
                               after=base + m.start(1) + 1) if m and ok else None)
        yield Finding(stated.line, stated.column,
                      f"LoRA alpha {alpha} is not 2 × rank {ranks[0]} = {2 * ranks[0]}",
                      None, fix)


def _cell_fix(ctx: Context, row: object, cell: str, want: int) -> Fix | None:
    """Replace the ``LoRA Alpha`` cell of ``row`` (found by its column index among the
    row's ``|``-separated cells, never by searching for its text, which may also be the
    rank's) by ``want``; ``None`` unless the cell is a bare number."""
    cells = list(row.cells)  # type: ignore[attr-defined]
    if not cell.isdigit() or "lora alpha" not in cells:
        return None
    index = cells.index("lora alpha")
    line = row.line  # type: ignore[attr-defined]
    text = ctx.doc.line_text(line)
    pipes = [m.start() for m in re.finditer(r"(?<!\\)\|", text)]
    if not text.lstrip().startswith("|") or index + 1 >= len(pipes):
        return None
    seg_start, seg_end = pipes[index] + 1, pipes[index + 1]
    seg = text[seg_start:seg_end]
    if seg.strip() != cell:
        return None
    edit: Edit | None = edit_at(ctx.doc, line, seg_start + len(seg) - len(seg.lstrip()) + 1,
                                cell, str(want))
    return Fix((edit,)) if edit else None
