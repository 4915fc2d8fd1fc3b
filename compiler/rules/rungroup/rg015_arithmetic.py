"""Arithmetic the plan writes out is right: ``a × b ÷ c = d``, scenario and summary totals.

Checked in Evaluations and Compute Estimates:

- every statement ``<numbers joined by × ÷ / * + and parentheses> = <number>`` (``≈`` too),
  with units and words between the numbers ignored (``2 runs × 2 epochs × 2.4 GiB = 9.6
  GiB``); the clause starts after the last ``:``, ``,``, ``;`` or open parenthesis;
- Wall-Clock scenarios: ``Total`` = ``Training`` + ``Evaluations`` (minutes and hours);
- the Summary table: Training + Evaluations = Total per row (the Disk Space total may add a
  safety margin of up to 20%, seed 004 "Add 10-20% buffer").

A statement is wrong when it differs by more than ``tolerance`` (fraction, default 0.02) and
by more than half a unit of its last written digit. Source: seed 004 "Resource Estimation"
formulas and the template's worked figures.

Fix (safe): a wrong result of a written-out statement (``8,000/16 = 400``) is replaced by the
value computed from the statement's own inputs, in the stated number's style (as many
decimals; thousands commas when it or the inputs have them): ``= 500``. Safe because the
result is derived from the numbers written beside it and nothing reads the result back: the
inputs stay as written. Summary-table and scenario totals have no fix (which cell is wrong
is not known).

Severity: error — a written-out calculation that does not hold is a false statement in the
document (``12,000 / 16 = 800`` must not pass pre-commit; README "Severity policy").

Failing::

    - Steps per epoch: 8,000/16 = 400 steps

Passing::

    - Steps per epoch: 8,000/16 = 500 steps
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Iterator

from ...document import Document, ListItem
from ...fix import Fix, replace_in_line
from ...models.rungroup_doc import gib, strip_md
from ..base import Context, Finding
from ._shared import fmt, plan_of

CODE = "RG015"
NAME = "estimate-arithmetic"
SEVERITY = "error"
KINDS = ("run-group",)
OPTIONS: dict[str, object] = {"tolerance": 0.02}

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_WORD = re.compile(r"\d*[A-Za-z_%$][\w.%/\-]*")
_X = re.compile(r"(?<=[\d)\s])x(?=[\s\d(])")
_EXPR_OK = re.compile(r"^[\d.\s()+*/]+$")
_RIGHT = re.compile(r"^[\s~*`]*(\d+(?:\.\d+)?)")
_OPS = {ast.Add: operator.add, ast.Mult: operator.mul, ast.Div: operator.truediv}
_TIME = re.compile(r"~?\s*(\d+(?:\.\d+)?)\s*(minutes?|mins?|hours?|hrs?|h)\b", re.I)
_SIZE = re.compile(r"~?\s*(\d+(?:\.\d+)?)\s*(GiB|GB|MiB|MB|TiB|TB)\b")


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_eval(node.left), _eval(node.right))
    raise ValueError("unsupported")


def evaluate(expr: str) -> float | None:
    """Value of an arithmetic clause with units/words removed, ``None`` if it is not one.

    ``"8,000/16"`` → 500.0; ``"2 runs × 2 epochs × 2.4 GiB"`` → 9.6; ``"batch_size"`` → None.
    Needs at least two numbers and one operator.
    """
    s = _THOUSANDS.sub("", expr).replace("×", "*").replace("÷", "/").replace("~", "")
    s = _X.sub("*", s)
    s = _WORD.sub(" ", s).replace("`", "")
    if not _EXPR_OK.match(s) or not re.search(r"[*/+]", s) \
            or len(re.findall(r"\d+(?:\.\d+)?", s)) < 2:
        return None
    try:
        return _eval(ast.parse(s.strip(), mode="eval"))
    except (SyntaxError, ValueError, ZeroDivisionError, RecursionError):
        return None


def _left_clause(text: str, end: int) -> str:
    depth = 0
    i = end - 1
    while i >= 0:
        c = text[i]
        if c == ")":
            depth += 1
        elif c == "(":
            if depth == 0:
                break
            depth -= 1
        elif c in ":;=≈" or (c == "," and not (i > 0 and text[i - 1].isdigit()
                                                 and text[i + 1:i + 4].isdigit())):
            break
        i -= 1
    return text[i + 1:end]


def _ok(stated: str, computed: float, tol: float) -> bool:
    value = float(stated)
    decimals = len(stated.split(".", 1)[1]) if "." in stated else 0
    slack = max(tol * abs(computed), 0.5 * 10 ** (-decimals))
    return abs(value - computed) <= slack + 1e-9


def iter_statements(text: str) -> Iterator[tuple[int, str, float, str]]:
    """(offset of the stated number, left clause, computed value, stated text) per ``=``."""
    for m in re.finditer(r"[=≈]", text):
        left = _left_clause(text, m.start())
        computed = evaluate(left)
        if computed is None:
            continue
        r = _RIGHT.match(_THOUSANDS.sub("", text[m.end():m.end() + 40]))
        if not r:
            continue
        rest = text[m.end():]
        off = m.end() + (len(rest) - len(rest.lstrip(" ~*`")))
        yield off, left.strip(), computed, r.group(1)


_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])|\d+(?:\.\d+)?")


def restate(number: str, value: float, commas: bool = False) -> str:
    """``value`` written in the style of ``number``: as many decimals, thousands commas when
    ``number`` has them or ``commas`` (the statement's inputs have them):
    ``restate("1,200", 1500.0)`` → ``"1,500"``, ``restate("1", 2000.0, True)`` → ``"2,000"``."""
    decimals = len(number.split(".", 1)[1]) if "." in number else 0
    comma = "," if "," in number or commas else ""
    return f"{value:{comma}.{decimals}f}"


def _result_fix(doc: Document, line: int, col: int, rest: str, computed: float,
                commas: bool) -> Fix | None:
    m = _NUMBER.match(rest)
    if m is None or not doc.line_text(line)[col - 1:].startswith(m.group(0)):
        return None  # the stated number is not where the finding points: no guess
    return replace_in_line(doc, line, m.group(0), restate(m.group(0), computed, commas),
                           after=col)


def _amount(cell: str) -> tuple[float, str] | None:
    """(value, kind) of a summary cell: minutes for times, GiB for sizes, else plain."""
    cell = strip_md(cell).replace(",", "")
    if m := _TIME.search(cell):
        v = float(m.group(1))
        return (v * 60 if m.group(2).lower().startswith("h") else v), "time"
    if m := _SIZE.search(cell):
        return gib(float(m.group(1)), m.group(2)), "size"
    m = re.search(r"\d+(?:\.\d+)?", cell)
    return (float(m.group(0)), "plain") if m else None


def _lines(doc: Document, toks) -> Iterator[tuple[int, str]]:  # type: ignore[no-untyped-def]
    for line, content in doc.iter_inline(toks):
        for n, part in enumerate(content.split("\n")):
            yield line + n, part


def check(ctx: Context) -> Iterator[Finding]:
    doc = ctx.doc
    plan = plan_of(ctx)
    if plan is None:
        return
    tol = float(ctx.options.get("tolerance", 0.02))
    wanted = {"evaluations", "compute estimates"}
    for sec in plan.sections:
        if sec.title.strip().lower() not in wanted:
            continue
        toks = doc.section_tokens(sec)
        for line, text in _lines(doc, toks):
            if "=" not in text and "≈" not in text:
                continue
            for off, left, computed, stated in iter_statements(text):
                if not _ok(stated, computed, tol):
                    raw = doc.line_text(line)
                    col = raw.find(text[off:off + 12]) + 1 if text[off:off + 12] in raw else \
                        doc.col_of(line)
                    yield Finding(line, col, f"{left} is {fmt(computed)}, not {stated}", None,
                                  _result_fix(doc, line, col, text[off:], computed,
                                              bool(_THOUSANDS.search(left))))
        if sec.title.strip().lower() == "compute estimates":
            yield from _scenarios(ctx, plan.estimates.items, tol)
    for key, (line, cells) in plan.estimates.summary.items():
        if len(cells) < 4:
            continue
        a, b, t = _amount(cells[1]), _amount(cells[2]), _amount(cells[3])
        if a is None or b is None or t is None or len({a[1], b[1], t[1]}) != 1:
            continue
        want = a[0] + b[0]
        lo, hi = want * (1 - tol), want * (1 + tol)
        if "disk" in key:
            hi = want * 1.2 * (1 + tol)
        if not lo - 0.05 <= t[0] <= hi + 0.05:
            cell = strip_md(cells[3])
            yield Finding(line, doc.col_of(line, cell),
                          f"Summary '{strip_md(cells[0])}': {strip_md(cells[1])} + "
                          f"{strip_md(cells[2])} does not give {cell}")


def _scenarios(ctx: Context, items: list[ListItem], tol: float) -> Iterator[Finding]:
    doc = ctx.doc
    parts: dict[str, tuple[float, int]] = {}
    for item in items:
        low = strip_md(item.text).lower()
        key = low.split(":", 1)[0].strip()
        if key in ("training", "evaluations") and ":" in low:
            m = _TIME.search(low.rsplit("=", 1)[-1])
            if m:
                v = float(m.group(1))
                parts[key] = (v * 60 if m.group(2).startswith("h") else v, item.line)
        elif key == "total" and "training" in parts and "evaluations" in parts:
            m = _TIME.search(low.split(":", 1)[1])
            if m and parts["training"][1] < item.line and parts["evaluations"][1] < item.line:
                hours = m.group(2).startswith("h")
                want = (parts["training"][0] + parts["evaluations"][0]) / (60 if hours else 1)
                if not _ok(m.group(1), want, tol):
                    yield Finding(item.line, doc.col_of(item.line, m.group(1)),
                                  f"scenario total {m.group(1)} {m.group(2)} is not training + "
                                  f"evaluations = {fmt(want)} {m.group(2)}")
            parts.clear()
