"""Load a plan file into a :class:`Document`: front-matter, markdown-it tokens, sections.

A document is parsed once. Markdown goes through markdown-it-py (CommonMark + tables, with
mdit-py-plugins' front-matter plugin); front-matter YAML is *composed* once with PyYAML's C
loader when present, so the node tree (with line/column marks) maps schema errors back to
the file, and then constructed from that same tree. Problems found while loading (bad
encoding, bad YAML, an oversized file) become diagnostics on the document; loading never
raises for bad input.

Agent transcripts that contain ``<plan> … </plan>`` (seed 002/003 output contract) are
parsed from the first such block, the way the research-agent server extracts it
(``re.search(r"<plan>([\\s\\S]*?)</plan>", text)``); line numbers still point into the
transcript.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from .diagnostics import Diagnostic, Severity

try:  # the C loader is ~10x faster; fall back to the pure-Python one
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader  # type: ignore[assignment]

KINDS = ("plan", "tasks", "run-group", "status")
#: cruijff_kit's ``experiment_summary.yaml`` (compiler.models.experiment_summary)
ESUM_KIND = "experiment-summary"
MAX_BYTES = 4 * 1024 * 1024  # a plan over 4 MiB is not a plan
MAX_YAML_NODES = 200_000  # plus the text's length: bounds alias expansion ("billion laughs")
# markdown-it's time and memory grow with structure, not only bytes (100,000 task lines:
# 14 s and 400 MB; a 20,000-column table: 25 s and 1.3 GB). A markdown body beyond one of
# these bounds is reported (CM000) and not parsed. Block nesting is bounded by markdown-it's
# own ``maxNesting`` (20).
MAX_MARKDOWN_BYTES = 512 * 1024  # of the parsed body (a transcript's <plan> block)
MAX_LINES = 20_000
MAX_TABLE_CELLS = 50_000  # "|" characters in the body: a table's columns x rows
MAX_TABLE_COLUMNS = 1_000  # "|" characters on one line

_MD = MarkdownIt("commonmark", {"html": True}).enable("table").use(front_matter_plugin)
# "📋 Plan:" (or its mojibake "ðŸ“‹ Plan:"): a symbol prefix, never a word ("Test Plan:",
# "Implementation Plan:" are other documents)
_PLAN_TITLE = re.compile(r"^(?:[^\sA-Za-z0-9]\S*\s+)?Plan:\s*", re.UNICODE)
# section titles of the seed formats: a kind's title alone is not enough to claim a kind
_PLAN_SECTIONS = frozenset({
    "objective", "compute setup", "approach", "parameters to sweep", "metrics",
    "success criteria", "risks & mitigations", "risks and mitigations", "estimated effort",
    "workflow improvements"})
_RUN_GROUP_SECTIONS = frozenset({
    "overview", "variables", "all runs", "resources", "models", "dataset", "evaluations",
    "evaluation tasks", "evaluation matrix", "configuration", "compute estimates",
    "quick reference", "directory structure"})
_PHASE = re.compile(r"^Phase\s+\d+", re.IGNORECASE)
_CHECKBOX = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[[^\]]{0,2}\]")
_ABORT = "ABORT_EARLY_DOCS_CHECK_FAILED"


class YAMLTooLarge(ValueError):
    """Raised when a YAML node tree has more than :data:`MAX_YAML_NODES` nodes."""


class YAMLDuplicateKey(yaml.constructor.ConstructorError):
    """A mapping states one key twice. YAML forbids it and a loader would keep only the
    last value silently (a tracker would lose the first record at planc's next write)."""


@dataclass(frozen=True, slots=True)
class Section:
    """A heading and the tokens under it (up to the next heading of the same or higher level).

    ``line`` is the heading's 1-based line in the original file; ``start``/``end`` index
    :attr:`Document.tokens` (``start`` is the first token after ``heading_close``).
    """

    level: int
    title: str
    line: int
    column: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ListItem:
    """A list item's first paragraph text, its 1-based line, and the list it belongs to."""

    text: str
    line: int
    column: int
    ordered: bool
    depth: int
    marker: str
    number: int | None


@dataclass(frozen=True, slots=True)
class TableRow:
    cells: tuple[str, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Table:
    """A pipe table: header cells, body rows (each with its 1-based line)."""

    header: tuple[str, ...]
    rows: tuple[TableRow, ...]
    line: int

    def column(self, name: str) -> int | None:
        """Index of the header cell equal to ``name`` (case-insensitive), else ``None``."""
        low = name.strip().lower()
        for i, cell in enumerate(self.header):
            if cell.strip().lower() == low:
                return i
        return None


@dataclass
class Document:
    """One parsed file.

    ``text`` is the full original text (decoded, newlines normalised to ``\\n``);
    ``lines`` its lines. ``tokens`` are markdown-it block tokens whose ``map`` is relative
    to the parsed body; :meth:`line_of` turns a token into a 1-based file line.
    ``front_matter`` is the constructed mapping (or ``None``), ``fm_node`` its YAML node
    tree and ``fm_line`` the 0-based file line where the YAML text starts.
    """

    path: str
    text: str
    lines: list[str]
    kind: str | None = None
    kind_source: str = "none"  # front-matter | structure | filename | none
    front_matter: dict[str, Any] | None = None
    fm_node: yaml.Node | None = None
    fm_line: int = 0
    tokens: list[Token] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    line_offset: int = 0  # lines before the parsed body (for <plan> extraction)
    extracted: bool = False
    diagnostics: list[Diagnostic] = field(default_factory=list)
    yaml_data: Any = None  # for kind "status": the whole YAML document
    yaml_node: yaml.Node | None = None
    # 0-based file line where ``yaml_node``'s text starts: 0 for a YAML file, ``fm_line``
    # for an experiment summary given as markdown front-matter
    yaml_line: int = 0
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # -- positions -----------------------------------------------------------------
    def line_of(self, token: Token) -> int:
        """1-based file line of a block token (``token.map`` is body-relative)."""
        if token.map is None:
            return 1 + self.line_offset
        return token.map[0] + 1 + self.line_offset

    def line_text(self, line: int) -> str:
        """The original text of 1-based ``line`` ('' when out of range)."""
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1]
        return ""

    def col_of(self, line: int, needle: str | None = None) -> int:
        """1-based column of ``needle`` on ``line``, or of its first non-blank character."""
        text = self.line_text(line)
        if needle:
            idx = text.find(needle)
            if idx >= 0:
                return idx + 1
        stripped = len(text) - len(text.lstrip())
        return stripped + 1

    def diag(
        self,
        line: int,
        column: int,
        code: str,
        severity: Severity,
        message: str,
        name: str = "",
        fix: str | None = None,
    ) -> Diagnostic:
        return Diagnostic(self.path, line, column, code, severity, message, name, fix)

    # -- structure -------------------------------------------------------------------
    def section(self, title: str, level: int | None = None) -> Section | None:
        """The first section whose normalised title equals ``title``."""
        want = normalise_title(title)
        for sec in self.sections:
            if (level is None or sec.level == level) and normalise_title(sec.title) == want:
                return sec
        return None

    def section_tokens(self, section: Section) -> list[Token]:
        return self.tokens[section.start : section.end]

    def iter_list_items(self, tokens: Sequence[Token] | None = None) -> Iterator[ListItem]:
        """List items in ``tokens`` (default: the whole body), outer and nested, in order."""
        toks = self.tokens if tokens is None else tokens
        stack: list[tuple[bool, int]] = []  # (ordered, next number)
        pending: tuple[int, str, int | None] | None = None
        for tok in toks:
            t = tok.type
            if t in ("bullet_list_open", "ordered_list_open"):
                start = int(tok.attrGet("start") or 1) if t == "ordered_list_open" else 1
                stack.append((t == "ordered_list_open", start))
            elif t in ("bullet_list_close", "ordered_list_close"):
                if stack:
                    stack.pop()
            elif t == "list_item_open" and stack:
                ordered, num = stack[-1]
                stack[-1] = (ordered, num + 1)
                number = (
                    int(tok.info) if ordered and tok.info.isdigit() else (num if ordered else None)
                )
                pending = (self.line_of(tok), tok.markup, number)
            elif t == "list_item_close":
                pending = None  # an empty item must not take the next block's text
            elif t == "inline" and pending is not None:
                line, marker, number = pending
                pending = None
                ordered = stack[-1][0] if stack else False
                yield ListItem(
                    text=tok.content,
                    line=line,
                    column=self.col_of(line),
                    ordered=ordered,
                    depth=len(stack),
                    marker=marker,
                    number=number,
                )

    def iter_tables(self, tokens: Sequence[Token] | None = None) -> Iterator[Table]:
        """Pipe tables in ``tokens`` (default: the whole body)."""
        toks = self.tokens if tokens is None else tokens
        header: list[str] = []
        rows: list[TableRow] = []
        row: list[str] = []
        row_line = 0
        table_line = 0
        in_head = False
        for tok in toks:
            t = tok.type
            if t == "table_open":
                header, rows, table_line = [], [], self.line_of(tok)
            elif t == "thead_open":
                in_head = True
            elif t == "thead_close":
                in_head = False
            elif t == "tr_open":
                row, row_line = [], self.line_of(tok)
            elif t == "inline" and tok.level >= 4:
                row.append(tok.content.strip())
            elif t == "tr_close":
                if in_head:
                    header = row
                else:
                    rows.append(TableRow(tuple(row), row_line))
            elif t == "table_close":
                yield Table(tuple(header), tuple(rows), table_line)

    def iter_inline(self, tokens: Sequence[Token] | None = None) -> Iterator[tuple[int, str]]:
        """(1-based line, content) of every inline token that is not inside a table."""
        toks = self.tokens if tokens is None else tokens
        for tok in toks:
            if tok.type == "inline" and tok.level < 4:
                yield self.line_of(tok), tok.content

    def cached(self, key: str, build: Any) -> Any:
        """Memoise a derived structure (parsed model) per document."""
        if key not in self._cache:
            self._cache[key] = build(self)
        return self._cache[key]


def normalise_title(title: str) -> str:
    """Lower-case, collapse spaces, drop a leading emoji or mojibake prefix and trailing ':'."""
    t = " ".join(title.strip().split()).lower()
    return t.rstrip(":")


# -- YAML ------------------------------------------------------------------------------
def compose_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """Compose ``text`` once and construct the data from the same node tree.

    Returns ``(node, data)``. Raises ``yaml.YAMLError`` on a syntax error, on a value that
    cannot be constructed (a 5,000-digit integer, the date 2025-13-45) and on a duplicate
    mapping key (:class:`YAMLDuplicateKey`, at the second occurrence), and
    :class:`YAMLTooLarge` when the tree (with aliases expanded) has more nodes than
    :data:`MAX_YAML_NODES` plus the text's length.
    """
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        # Without aliases a tree cannot have more nodes than the text has characters, so
        # this bound only stops alias expansion, whatever the document's size.
        _check_size(node, MAX_YAML_NODES + len(text))
        try:
            data = loader.construct_document(node)
        except (ValueError, OverflowError) as exc:  # int("9" * 5000), date(2025, 13, 45)
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read a value: {exc}", _bad_scalar(node)) from exc
        return node, data
    finally:
        loader.dispose()


def _check_size(root: yaml.Node, limit: int) -> None:
    """Count nodes (bounded by ``limit``) and reject duplicate keys in one walk."""
    count = 0
    stack = [root]
    seen_maps: set[int] = set()
    while stack:
        node = stack.pop()
        count += 1
        if count > limit:
            raise YAMLTooLarge(f"YAML has more than {limit} nodes (alias expansion?)")
        if isinstance(node, yaml.MappingNode):
            if id(node) not in seen_maps:  # an alias repeats a node; check it once
                seen_maps.add(id(node))
                _check_duplicates(node)
            for k, v in node.value:
                stack.append(k)
                stack.append(v)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _check_duplicates(node: yaml.MappingNode) -> None:
    first: dict[tuple[str, str], yaml.Node] = {}
    for key, _value in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        ident = (key.tag, key.value)
        if ident in first:
            line = first[ident].start_mark.line + 1
            raise YAMLDuplicateKey(
                None, None, f"duplicate key {key.value!r} (first stated on line {line} of "
                "this YAML); YAML keeps only one of them", key.start_mark)
        first[ident] = key


def _bad_scalar(root: yaml.Node) -> Any:
    """The mark of the first scalar a constructor cannot turn into a value, else the root's."""
    stack = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.SafeLoader("").construct_object(node)  # type: ignore[no-untyped-call]
            except (ValueError, OverflowError, yaml.YAMLError):
                return node.start_mark
        elif isinstance(node, yaml.MappingNode):
            for k, v in reversed(node.value):
                stack.extend((v, k))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return root.start_mark


def node_position(root: yaml.Node | None, loc: Sequence[Any]) -> tuple[int, int, bool]:
    """0-based (line, column) of the YAML node at ``loc`` (a pydantic error ``loc``).

    Mapping steps land on the *key* node, sequence steps on the item. When a step does not
    exist, the nearest parent's position is returned and the third value is ``False``.
    """
    if root is None:
        return 0, 0, False
    node: yaml.Node = root
    pos = (root.start_mark.line, root.start_mark.column)
    for step in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(step):
                    pos = (key.start_mark.line, key.start_mark.column)
                    node = value
                    break
            else:
                return pos[0], pos[1], False
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if 0 <= step < len(node.value):
                node = node.value[step]
                pos = (node.start_mark.line, node.start_mark.column)
            else:
                return pos[0], pos[1], False
        else:
            return pos[0], pos[1], False
    return pos[0], pos[1], True


def data_path(data: Any, loc: Sequence[Any]) -> tuple[Any, ...]:
    """The steps of a pydantic error ``loc`` that exist in ``data``.

    Union members add their type names to ``loc`` and a missing key is not in the data;
    both are dropped, so :func:`node_position` lands on the nearest existing parent.
    """
    out: list[Any] = []
    node = data
    for step in loc:
        if isinstance(node, dict) and step in node:
            out.append(step)
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            out.append(step)
            node = node[step]
    return tuple(out)


def value_position(root: yaml.Node | None, loc: Sequence[Any]) -> tuple[int, int] | None:
    """0-based (line, column) of the *value* node at ``loc``, or ``None`` when absent."""
    node = root
    for step in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(step):
                    node = value
                    break
            else:
                return None
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if 0 <= step < len(node.value):
                node = node.value[step]
            else:
                return None
        else:
            return None
    if node is None:
        return None
    return node.start_mark.line, node.start_mark.column


# -- loading ---------------------------------------------------------------------------
def decode(raw: bytes) -> tuple[str, str | None]:
    """UTF-8 decode (BOM stripped, CRLF → LF). Returns (text, problem or None)."""
    problem = None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = raw.decode("utf-8", errors="replace")
        problem = f"file is not valid UTF-8 (byte {exc.start}: {exc.reason})"
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, problem


def load(path: str | Path, text: str | None = None, kind: str | None = None) -> Document:
    """Load the file at ``path`` (or ``text`` given for it) into a :class:`Document`.

    Never raises for bad content: unreadable files, bad encoding, bad YAML and oversized
    files become diagnostics (codes ``CM000``/``CM001``). ``kind`` forces the kind.
    """
    p = str(path)
    problem = None
    if text is None:
        raw, unreadable = read_bounded(Path(path))
        if raw is None:
            doc = Document(path=p, text="", lines=[])
            doc.diagnostics.append(
                doc.diag(1, 1, "CM000", Severity.ERROR, unreadable or "cannot read file",
                         "unreadable"))
            return doc
        text, problem = decode(raw)
    else:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    doc = Document(path=p, text=text, lines=text.split("\n"))
    if problem:
        doc.diagnostics.append(doc.diag(1, 1, "CM000", Severity.ERROR, problem, "unreadable"))
    if kind in ("status", ESUM_KIND) or (kind is None and p.endswith((".yaml", ".yml"))):
        _load_yaml_document(doc, kind)
        return doc
    _load_markdown(doc, forced_kind=kind)
    return doc


def read_bounded(path: Path, limit: int = MAX_BYTES) -> tuple[bytes | None, str | None]:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    Returns ``(bytes, None)``, or ``(None, why)`` for a file that is not a regular file (a
    FIFO would block the reader forever, ``/dev/zero`` never ends), is larger than
    ``limit``, or cannot be read. The file is opened without blocking and checked with
    ``fstat`` on the open descriptor, so a FIFO put in place after a check cannot block.
    """
    import os
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        return None, f"cannot read file: {exc.strerror or exc}"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, "not a regular file (a FIFO, device or socket); planc reads files only"
        if st.st_size > limit:
            return None, f"file is {st.st_size} bytes; planc reads at most {limit}"
        chunks = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while being read
                return None, f"file is over {limit} bytes; planc reads at most {limit}"
        return b"".join(chunks), None
    except OSError as exc:
        return None, f"cannot read file: {exc.strerror or exc}"
    finally:
        os.close(fd)


def markdown_too_large(body: str) -> str | None:
    """Why markdown-it must not parse ``body`` (bytes, lines or table cells beyond the
    bounds at the top of this module), or ``None``. Linear in the body."""
    if len(body) > MAX_MARKDOWN_BYTES:
        return (f"the markdown is {len(body)} characters; planc parses at most "
                f"{MAX_MARKDOWN_BYTES}")
    lines = body.count("\n") + 1
    if lines > MAX_LINES:
        return f"the markdown has {lines} lines; planc parses at most {MAX_LINES}"
    pipes = body.count("|")
    if pipes > MAX_TABLE_CELLS:
        return (f"the markdown has {pipes} table cell separators ('|'); planc parses at "
                f"most {MAX_TABLE_CELLS}")
    if pipes > MAX_TABLE_COLUMNS:
        for n, line in enumerate(body.split("\n"), 1):
            if line.count("|") > MAX_TABLE_COLUMNS:
                return (f"line {n} of the markdown has {line.count('|')} table columns; "
                        f"planc parses at most {MAX_TABLE_COLUMNS}")
    return None


def mark_position(text: str, mark: Any) -> tuple[int, int]:
    """0-based (line, column) of a YAML mark, counting only ``\\n`` as a line break.

    YAML also breaks lines at U+0085, U+2028 and U+2029, so its own ``mark.line`` drifts
    from the editor's line after such a character; the character ``index`` does not. A
    mark past the end of the text (end of stream) is clamped to the last character.
    """
    index = getattr(mark, "index", None)
    if not isinstance(index, int):
        return getattr(mark, "line", 0), getattr(mark, "column", 0)
    index = max(0, min(index, len(text)))
    line = text.count("\n", 0, index)
    column = index - (text.rfind("\n", 0, index) + 1)
    return line, column


def _yaml_error(doc: Document, exc: Exception, line0: int, text: str) -> None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line_off, col = mark_position(text, mark) if mark is not None else (0, 0)
    line = line_off + line0 + 1
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    msg = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    doc.diagnostics.append(
        doc.diag(line, col + 1, "CM001", Severity.ERROR, msg, "front-matter-yaml")
    )


def yaml_kind_by_name(name: str) -> str | None:
    """The kind a YAML file's name states: ``runs_status*.yaml`` → ``status``,
    ``experiment_summary*.yaml`` → ``experiment-summary`` (cruijff_kit's plan), else None."""
    stem = name.lower().rsplit(".", 1)[0]
    if stem.startswith("runs_status"):
        return "status"
    if stem.startswith("experiment_summary"):
        return ESUM_KIND
    return None


def yaml_kind_by_shape(data: Any) -> str | None:
    """The kind a YAML document's top level shows: a tracker (``runs`` mapping beside
    ``run_group``/``schema_version``, or a ``runs`` mapping of mappings — seed 004's
    template) → ``status``; an ``experiment`` mapping with at least two of ``runs``,
    ``evaluation``, ``controls``, ``models`` (cruijff_kit's design template) →
    ``experiment-summary``; else None."""
    if not isinstance(data, dict):
        return None
    runs = data.get("runs")
    if isinstance(runs, dict) and (
        "run_group" in data or "schema_version" in data
        or (runs and all(isinstance(v, dict) for v in runs.values()))
    ):
        return "status"
    if isinstance(data.get("experiment"), dict) and sum(
        k in data for k in ("runs", "evaluation", "controls", "models")
    ) >= 2:
        return ESUM_KIND
    return None


#: front-matter keys every kind shares (compiler.models.frontmatter.CommonFrontMatter); an
#: experiment summary in front-matter may carry them beside its own schema
_COMMON_FM_KEYS = frozenset({"kind", "title", "id", "description", "author", "created",
                             "updated", "tags", "status", "primary_metric", "direction",
                             "criteria"})


def _esum_front_matter(fm: Any) -> bool:
    """Whether front-matter ``fm`` is cruijff_kit's experiment_summary schema rather than
    planc's run-group front-matter: summary-shaped (:func:`yaml_kind_by_shape`) and using
    a key only that schema has (``controls`` or ``models`` as a mapping, ``tools``,
    ``output``)."""
    if not isinstance(fm, dict) or yaml_kind_by_shape(fm) != ESUM_KIND:
        return False
    return (isinstance(fm.get("controls"), dict) or isinstance(fm.get("models"), dict)
            or "tools" in fm or "output" in fm)


def _load_yaml_document(doc: Document, forced: str | None = None) -> None:
    """Compose a YAML file and decide its kind: ``forced``, else its file name
    (:func:`yaml_kind_by_name`), else its shape (:func:`yaml_kind_by_shape`); a YAML file
    that is neither is kind ``unknown`` (CM007 says it is not a planc document) rather
    than a tracker with a cascade of schema errors (issue 10, item 2)."""
    by_name = forced or yaml_kind_by_name(Path(doc.path).name)
    doc.kind, doc.kind_source = by_name or "status", "argument" if forced else "filename"
    try:
        doc.yaml_node, doc.yaml_data = compose_yaml(doc.text)
    except yaml.YAMLError as exc:
        _yaml_error(doc, exc, 0, doc.text)
    except YAMLTooLarge as exc:
        doc.diagnostics.append(
            doc.diag(1, 1, "CM001", Severity.ERROR, str(exc), "front-matter-yaml")
        )
    if by_name is None and not doc.diagnostics:
        shaped = yaml_kind_by_shape(doc.yaml_data)
        doc.kind, doc.kind_source = (shaped, "structure") if shaped else ("unknown", "yaml")


def plan_block(text: str) -> tuple[int, int] | None:
    """``(start, end)`` of the text inside the first ``<plan> … </plan>`` pair, else None.

    The same block as ``re.search(r"<plan>([\\s\\S]*?)</plan>", text)`` (the leftmost
    ``<plan>`` that a ``</plan>`` follows is the first ``<plan>`` when any is), found in
    linear time: the regex retries from every ``<plan>`` and is quadratic without a close.
    """
    start = text.find("<plan>")
    if start < 0:
        return None
    end = text.find("</plan>", start + 6)
    if end < 0:
        return None
    return start + 6, end


_FM_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:(\s|$)")


def _unclosed_front_matter(body: str) -> int | None:
    """0-based line of a ``---`` that opens front-matter which is never closed (the next
    non-blank line is a ``key:``), else None. markdown-it then reads it as text, which
    would hide the ``kind:`` and every setting in it."""
    if not body.startswith("---"):
        return None
    lines = body.split("\n", 50)
    if lines[0].rstrip() != "---":
        return None
    for line in lines[1:50]:
        if line.strip():
            return 0 if _FM_KEY.match(line) else None
    return None


def _load_markdown(doc: Document, forced_kind: str | None) -> None:
    body = doc.text
    block = plan_block(body)
    if block and not _starts_with_kind_heading(body[: block[0] - 6]):
        doc.line_offset = body.count("\n", 0, block[0])
        doc.extracted = True
        body = body[block[0] : block[1]]
    too_large = markdown_too_large(body)
    if too_large:
        doc.diagnostics.append(
            doc.diag(1 + doc.line_offset, 1, "CM000", Severity.ERROR, too_large, "unreadable"))
        if forced_kind:
            doc.kind, doc.kind_source = forced_kind, "argument"
        return
    tokens = _MD.parse(body)
    if tokens and tokens[0].type == "front_matter":
        fm = tokens.pop(0)
        doc.fm_line = (fm.map[0] if fm.map else 0) + 1 + doc.line_offset
        try:
            doc.fm_node, data = compose_yaml(fm.content)
        except yaml.YAMLError as exc:
            _yaml_error(doc, exc, doc.fm_line, fm.content)
            data = None
        except YAMLTooLarge as exc:
            doc.diagnostics.append(
                doc.diag(doc.fm_line, 1, "CM001", Severity.ERROR, str(exc), "front-matter-yaml")
            )
            data = None
        if data is None:
            doc.front_matter = {} if doc.fm_node is None else None
        elif isinstance(data, dict):
            doc.front_matter = data
        else:
            doc.diagnostics.append(
                doc.diag(
                    doc.fm_line + 1,
                    1,
                    "CM003",
                    Severity.ERROR,
                    f"front-matter must be a mapping of keys to values, not {type(data).__name__}",
                    "front-matter-schema",
                )
            )
    elif (line0 := _unclosed_front_matter(body)) is not None:
        doc.diagnostics.append(
            doc.diag(line0 + 1 + doc.line_offset, 1, "CM001", Severity.ERROR,
                     "front-matter opened with '---' is never closed: add a '---' line after "
                     "the last key (until then every key in it is read as text)",
                     "front-matter-yaml"))
    doc.tokens = tokens
    doc.sections = _sections(doc)
    if forced_kind:
        doc.kind, doc.kind_source = forced_kind, "argument"
    elif _esum_front_matter(doc.front_matter):
        # cruijff_kit's experiment_summary.yaml pasted as front-matter (issue 10): the
        # ES rules and the compile read it as they read the YAML file, at file lines
        doc.kind, doc.kind_source = ESUM_KIND, "front-matter"
        doc.yaml_node, doc.yaml_line = doc.fm_node, doc.fm_line
        doc.yaml_data = {k: v for k, v in doc.front_matter.items()  # type: ignore[union-attr]
                         if k not in _COMMON_FM_KEYS}
    else:
        fm_kind = doc.front_matter.get("kind") if isinstance(doc.front_matter, dict) else None
        if isinstance(fm_kind, str) and fm_kind in KINDS:
            doc.kind, doc.kind_source = fm_kind, "front-matter"
        else:
            detected = detect_kind(doc)
            if detected:
                doc.kind, doc.kind_source = detected, "structure"


def _starts_with_kind_heading(prefix: str) -> bool:
    for line in prefix.split("\n"):
        s = line.strip()
        if (
            s.startswith("# Tasks")
            or s.startswith("# Run Plan:")
            or re.match(r"^##\s+\S*\s*Plan:", s)
        ):
            return True
    return False


def _sections(doc: Document) -> list[Section]:
    toks = doc.tokens
    heads: list[tuple[int, int, str, int]] = []  # (token index, level, title, line)
    for i, tok in enumerate(toks):
        if tok.type == "heading_open":
            title = toks[i + 1].content if i + 1 < len(toks) else ""
            heads.append((i, int(tok.tag[1]), title, doc.line_of(tok)))
    # A section ends at the next heading of the same or a higher level: one pass with a
    # stack of open sections (levels strictly increasing), linear in the headings.
    ends = [len(toks)] * len(heads)
    open_: list[int] = []
    for n, (i, level, _title, _line) in enumerate(heads):
        while open_ and heads[open_[-1]][1] >= level:
            ends[open_.pop()] = i
        open_.append(n)
    return [Section(level, title.strip(), line, doc.col_of(line), i + 3, ends[n])
            for n, (i, level, title, line) in enumerate(heads)]


def _section_name(title: str) -> str:
    t = re.sub(r"^[^\w(]+", "", normalise_title(title))  # drop a leading emoji or mojibake
    return t.split(" (")[0].strip()


def detect_kind(doc: Document) -> str | None:
    """Kind from structure, weighing the title with the sections the seed format has:
    ``## 📋 Plan:`` and at least one of seed 000's sections → plan; ``# Run Plan:`` and at
    least one of seed 004's sections → run-group; ``# Tasks`` with phases or a checkbox
    list, or a checklist with seed 003's abort sentinel → tasks. ``None`` (rule CM007, not
    a cascade of the kind's rules) when nothing matches clearly."""
    has_tasks_h1 = False
    has_phase = False
    names = {_section_name(sec.title) for sec in doc.sections}
    for sec in doc.sections:
        if sec.level == 1 and sec.title.startswith("Run Plan:"):
            if names & _RUN_GROUP_SECTIONS:
                return "run-group"
            continue
        if sec.level == 2 and _PLAN_TITLE.match(sec.title):
            if names & _PLAN_SECTIONS:
                return "plan"
            continue
        if sec.level == 1 and normalise_title(sec.title) == "tasks":
            has_tasks_h1 = True
        if sec.level == 2 and (_PHASE.match(sec.title) or normalise_title(sec.title) == "tasks"):
            has_phase = True
    if not has_tasks_h1 and _ABORT not in doc.text:
        return None
    # Checkbox lines outside code: a prompt that shows the task-list shape in a fence (as
    # research-agent's planning skills do) is not a task list.
    code = _code_lines(doc)
    boxes = [line for n, line in enumerate(doc.lines, 1)
             if n not in code and _CHECKBOX.match(line)]
    if any(_ABORT in line for line in boxes):
        return "tasks"  # seed 003 abort checklist, which need not have a title
    if has_tasks_h1 and (has_phase or boxes):
        return "tasks"
    return None


def _code_lines(doc: Document) -> set[int]:
    """1-based lines of the document inside fenced or indented code blocks."""
    out: set[int] = set()
    for tok in doc.tokens:
        if tok.type in ("fence", "code_block") and tok.map:
            start = doc.line_of(tok)
            out.update(range(start, start + tok.map[1] - tok.map[0]))
    return out
