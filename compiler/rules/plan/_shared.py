"""Shared helpers of the plan rules: the parsed model and the text a section holds."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...document import Document
from ...models.plan import PlanModel, PlanSection, parse_plan
from ..base import Context


def plan(ctx: Context) -> PlanModel:
    """The plan model of the context's document, parsed once per document."""
    return ctx.model("plan", parse_plan)


def iter_text(doc: Document, sec: PlanSection | None = None, start: int = 0
              ) -> Iterator[tuple[int, str, bool]]:
    """``(first line, text, is_code)`` for every inline block (paragraph, list item,
    heading, table cell) and every code block in ``sec`` (default: the body from token
    ``start``, e.g. the plan's ``body_start``).

    Inline text keeps its line breaks; the caller adds the offset of a match's line."""
    toks = doc.tokens[start:] if sec is None else doc.tokens[sec.start : sec.end]
    for tok in toks:
        if tok.type == "inline":
            yield doc.line_of(tok), tok.content, False
        elif tok.type in ("fence", "code_block"):
            # the fence's own line holds the ``` marker; content starts one line later
            offset = 1 if tok.type == "fence" else 0
            yield doc.line_of(tok) + offset, tok.content, True


def position(doc: Document, line: int, text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) in the file of ``text[index]`` where ``text`` starts on
    ``line`` (a block's content: its first line may start after a list marker)."""
    before = text[:index]
    nl = before.count("\n")
    row = line + nl
    tail_start = before.rfind("\n") + 1
    fragment = text[tail_start : tail_start + 20].split("\n", 1)[0]
    base = doc.line_text(row).find(fragment) if fragment else -1
    if base < 0:
        return row, doc.col_of(row)
    return row, base + (index - tail_start) + 1


_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)


def plan_text(doc: Document, start: int) -> list[tuple[int, str, bool]]:
    """:func:`iter_text` from token ``start`` as a list, built once per document (three
    rules scan the same blocks)."""
    return doc.cached(f"plan_text:{start}", lambda d: list(iter_text(d, start=start)))


def iter_code(doc: Document, start: int = 0) -> Iterator[tuple[int, str, int, int]]:
    """``(first line, text, start, end)`` for every code block and inline code span of the
    body from token ``start``: the code is ``text[start:end]``, and ``(line, text, index)``
    goes to :func:`position` to locate a match."""
    for line, text, is_code in plan_text(doc, start):
        if is_code:
            yield line, text, 0, len(text)
        elif "`" in text:
            for m in _SPAN.finditer(text):
                yield line, text, m.start(2), m.end(2)
