"""Run the rules over documents, apply configuration and inline suppressions.

Shape: ``discover(paths) → [Path]``, ``lint_file(path, settings) → [Diagnostic]``,
``lint_paths(paths, settings) → [Diagnostic]`` (files in parallel over all cores when there
are many). A rule that crashes on some input is a planc bug: it becomes one ``PC999``
diagnostic for that file instead of a traceback, and the run exits 2.

Inline suppression (HTML comments in markdown, ``#`` comments in YAML)::

    <!-- planc: ignore PL011 -->          this line and the next non-blank line
    <!-- planc: ignore-file PL011, TK004 -->   the whole file
    <!-- planc: ignore-file PL -->        a code prefix: every PL rule
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from . import layout
from .config import Settings
from .diagnostics import Diagnostic, Severity, sort_key
from .document import Document, load
from .rules import rules_for_kind
from .rules.base import Context

INTERNAL_ERROR = "PC999"
_SUPPRESS = re.compile(
    r"planc:\s*(ignore-file|ignore)\s+((?:[A-Z]{2}\d{0,3}|all)(?:\s*,\s*(?:[A-Z]{2}\d{0,3}|all))*)"
)
STATUS_NAMES = layout.STATUS_NAMES
_PARALLEL_MIN_FILES = 24


def discover(paths: Sequence[str | Path], settings: Settings | None = None) -> list[Path]:
    """Files to lint under ``paths``: ``*.md``, ``runs_status.yaml`` and cruijff_kit's
    ``experiment_summary*.yaml`` in folders (recursive,
    hidden folders skipped), any file named explicitly. Sorted, de-duplicated, minus
    ``exclude`` globs."""
    found: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in files:
                    if (name.endswith(".md") or name in STATUS_NAMES
                            or _is_experiment_summary(name)):
                        found.add(Path(root) / name)
        else:
            found.add(p)
    out = sorted(found)
    if settings and settings.exclude:
        out = [f for f in out if not any(fnmatch.fnmatch(str(f), g) for g in settings.exclude)]
    return out


def _is_experiment_summary(name: str) -> bool:
    """cruijff_kit's plan file: ``experiment_summary*.yaml`` (or ``.yml``)."""
    return name.startswith("experiment_summary") and name.endswith((".yaml", ".yml"))


def _suppressions(doc: Document) -> tuple[set[str], dict[int, set[str]]]:
    whole: set[str] = set()
    by_line: dict[int, set[str]] = {}
    if "planc:" not in doc.text:
        return whole, by_line
    for n, line in enumerate(doc.lines, 1):
        for m in _SUPPRESS.finditer(line):
            codes = {c.strip() for c in m.group(2).split(",")}
            if m.group(1) == "ignore-file":
                whole |= codes
                continue
            by_line.setdefault(n, set()).update(codes)
            nxt = n + 1
            while nxt <= len(doc.lines) and not doc.lines[nxt - 1].strip():
                nxt += 1
            by_line.setdefault(nxt, set()).update(codes)
    return whole, by_line


def _matches(code: str, patterns: set[str]) -> bool:
    return any(p == "all" or code.startswith(p) for p in patterns)


def rule_options(rule: ModuleType, settings: Settings) -> dict[str, Any]:
    opts = dict(getattr(rule, "OPTIONS", {}))
    opts.update(settings.rules.get(rule.CODE, {}))
    return opts


class _Plan(dict[str, list[tuple[ModuleType, Severity, dict[str, Any]]]]):
    """Per document kind, the enabled rules with their effective severity and options.

    Built once per batch of files (configuration lookups are per rule, not per rule and
    document); rules only read ``ctx.options``, so one options dict serves the batch. A
    kind's entry is made the first time a document of that kind is linted, so only the
    rule families that kind needs are imported (``rules.rules_for_kind``).
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def __missing__(self, kind: str) -> list[tuple[ModuleType, Severity, dict[str, Any]]]:
        settings = self.settings
        entries = [
            (rule, settings.severity_for(rule.CODE, rule.SEVERITY), rule_options(rule, settings))
            for rule in rules_for_kind(kind)
            if settings.enabled(rule.CODE)
        ]
        self[kind] = entries
        return entries


def _rule_plan(settings: Settings) -> _Plan:
    return _Plan(settings)


def lint_document(doc: Document, settings: Settings) -> list[Diagnostic]:
    """All diagnostics for one loaded document, sorted, after config and suppressions."""
    return _lint_document(doc, settings, _rule_plan(settings), {})


def _lint_document(doc: Document, settings: Settings, plan: _Plan, enabled: dict[str, bool]
                   ) -> list[Diagnostic]:
    diags: list[Diagnostic] = list(doc.diagnostics)
    path = doc.path
    for rule, severity, options in plan[doc.kind or "unknown"]:
        ctx = Context(doc=doc, options=options, settings=settings)
        code, name = rule.CODE, rule.NAME
        try:
            for f in rule.check(ctx):
                diags.append(Diagnostic(path, max(1, f.line), max(1, f.column), code,
                                        severity, f.message, name, f.fix, f.autofix))
        except Exception as exc:  # a rule bug must not hide the other findings
            diags.append(Diagnostic(path, 1, 1, INTERNAL_ERROR, Severity.ERROR,
                                    f"internal error in rule {code}: {type(exc).__name__}: {exc}",
                                    "internal-error"))
    whole, by_line = _suppressions(doc)
    if whole or by_line:
        diags = [
            d for d in diags
            if not _matches(d.code, whole) and not _matches(d.code, by_line.get(d.line, set()))
        ]
    # Loading diagnostics obey select/ignore too (CM000/CM001).
    kept = []
    for d in diags:
        ok = enabled.get(d.code)
        if ok is None:
            ok = enabled[d.code] = d.code == INTERNAL_ERROR or settings.enabled(d.code)
        if ok:
            kept.append(d)
    kept.sort(key=sort_key)
    return kept


def lint_file(path: str | Path, settings: Settings) -> list[Diagnostic]:
    """Load and lint one file."""
    return lint_document(load(path), settings)


def _lint_many(args: tuple[list[str], Settings]) -> list[Diagnostic]:
    paths, settings = args
    plan = _rule_plan(settings)
    enabled: dict[str, bool] = {}
    out: list[Diagnostic] = []
    for p in paths:
        out.extend(_lint_document(load(p), settings, plan, enabled))
    return out


def lint_paths(files: Iterable[str | Path], settings: Settings, jobs: int | None = None
               ) -> list[Diagnostic]:
    """Lint ``files``; with many files, split them over ``jobs`` processes (default: all
    cores). Results are in file order."""
    names = [str(f) for f in files]
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(names) < _PARALLEL_MIN_FILES:
        return _lint_many((names, settings))
    import multiprocessing

    chunk = max(1, len(names) // (jobs * 4))
    batches = [names[i : i + chunk] for i in range(0, len(names), chunk)]
    out: list[Diagnostic] = []
    # Workers ignore Ctrl-C: the parent alone turns it into KeyboardInterrupt (exit 130)
    # and terminates the workers instead of waiting for their batches.
    pool = multiprocessing.Pool(min(jobs, len(batches)), initializer=_ignore_sigint)
    try:
        for result in pool.imap(_lint_many, [(b, settings) for b in batches]):
            out.extend(result)
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()
    return out


def _ignore_sigint() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def exit_code(diagnostics: Sequence[Diagnostic], strict: bool = False) -> int:
    """0 clean, 1 errors (or warnings with ``strict``), 2 internal or configuration errors."""
    if any(d.code == INTERNAL_ERROR or d.code.startswith("CF") for d in diagnostics):
        return 2
    failing = {Severity.ERROR} | ({Severity.WARNING} if strict else set())
    return 1 if any(d.severity in failing for d in diagnostics) else 0
