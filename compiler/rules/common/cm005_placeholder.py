"""Template placeholders must be filled in.

A plan written from a seed template sometimes keeps its slots: ``{run_group_name}``,
``<N>``, ``<metric name>``, ``{{goal}}``. Code spans, code blocks and HTML comments are not
checked (a command template like ``python train.py --lr {lr}`` belongs in code).

Severity: error — a template placeholder left in states nothing, and the document cannot be
run as written.

Failing::

    - GPU count: <N>
    - **Runs**: {total_count}

Passing::

    - GPU count: 4
    - **Runs**: 24
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..base import Context, Finding

CODE = "CM005"
NAME = "unfilled-placeholder"
SEVERITY = "error"
KINDS = ("plan", "tasks", "run-group")
OPTIONS: dict[str, object] = {}

_BRACES = re.compile(r"\{\{\s*[A-Za-z_][\w.]*\s*\}\}|\{[A-Za-z_][A-Za-z0-9_]*\}")
# Angle-bracket slots markdown-it keeps as text because they are not valid HTML tags:
# <plan_id>, <criterion 1>, <number of runs/experiments>.
_ANGLE_TEXT = re.compile(r"<[A-Za-z][A-Za-z0-9 _/.,'-]{0,60}>")
_TAG = re.compile(r"^<\s*/?\s*([A-Za-z][\w-]*)")
# Standard HTML elements plus the agent output tags of seeds 002/003.
_HTML = set(
    "a abbr address area article aside audio b base bdi bdo blockquote body br button canvas "
    "caption cite code col colgroup data datalist dd del details dfn dialog div dl dt em embed "
    "fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 head header hr html i iframe img "
    "input ins kbd label legend li link main map mark meta meter nav noscript object ol "
    "optgroup option output p param picture pre progress q rp rt ruby s samp script section "
    "select small source span strong sub summary sup table tbody td template textarea tfoot th "
    "thead time title tr track u ul var video wbr center font "
    "plan promise reflection continue memories".split()
)


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    for tok in doc.tokens:
        if tok.type == "html_block":
            # "- <N>" at the start of a list item parses as an HTML block, not inline text
            m = _TAG.match(tok.content.strip())
            if m and m.group(1).lower() not in _HTML and ">" in tok.content:
                text = tok.content.strip().split(">", 1)[0] + ">"
                yield _finding(doc, doc.line_of(tok), text)
            continue
        if tok.type != "inline" or not tok.children:
            continue
        line = doc.line_of(tok)
        for child in tok.children:
            if child.type == "text":
                for m in _BRACES.finditer(child.content):
                    yield _finding(doc, line, m.group(0))
                if "<" in child.content:
                    for m in _ANGLE_TEXT.finditer(child.content):
                        yield _finding(doc, line, m.group(0))
            elif child.type == "html_inline":
                m = _TAG.match(child.content)
                if m and m.group(1).lower() not in _HTML:
                    yield _finding(doc, line, child.content)
            elif child.type == "softbreak":
                line += 1


def _finding(doc, line: int, text: str) -> Finding:  # type: ignore[no-untyped-def]
    return Finding(
        line,
        doc.col_of(line, text),
        f"unfilled template placeholder {text}",
        "replace it with the real value",
    )
