"""The one diagnostic type, and the reporters that format lists of them.

Every finding planc makes (YAML errors, schema errors, rule findings, configuration
problems) is a :class:`Diagnostic`. Reporters only format; they never decide what is an
error. Formats follow flake8/yamllint (``text``), GitHub workflow commands (``github``),
a JSON array (``json``), SARIF 2.1.0 (``sarif``) and GitLab's code-quality report
(``gitlab``, the Code Climate subset GitLab reads).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is. ``error`` fails a run, ``warning`` fails only with ``--strict``."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """A finding at a 1-based ``line`` and ``column`` of the file at ``path``.

    ``code`` is a rule code such as ``PL003``; ``name`` is the rule's readable name;
    ``fix`` is an optional one-line suggestion shown after the message; ``autofix`` the
    structured fix ``planc lint --fix`` applies (:class:`compiler.fix.Fix`), if any.
    """

    path: str
    line: int
    column: int
    code: str
    severity: Severity
    message: str
    name: str = ""
    fix: str | None = None
    # A compiler.fix.Fix; typed Any so this leaf module imports nothing of planc's.
    autofix: Any = field(default=None, compare=False)

    def to_json(self) -> dict[str, object]:
        data = {k: getattr(self, k) for k in
                ("path", "line", "column", "code", "severity", "message", "name", "fix")}
        data["severity"] = self.severity.value
        if self.autofix is not None:  # only with a fix: the JSON of other findings is unchanged
            data["autofix"] = self.autofix.to_json()
        return data


def sort_key(d: Diagnostic) -> tuple[str, int, int, str, str]:
    return (d.path, d.line, d.column, d.code, d.message)


def format_text(diagnostics: Sequence[Diagnostic]) -> str:
    """``path:line:col: CODE message`` one per line (flake8 style), never wrapped."""
    out = []
    for d in diagnostics:
        msg = d.message if not d.fix else f"{d.message} (fix: {d.fix})"
        msg = msg.replace("\n", " ")
        out.append(f"{d.path}:{d.line}:{d.column}: {d.code} [{d.severity.value}] {msg}")
    return "\n".join(out) + ("\n" if out else "")


def format_json(diagnostics: Sequence[Diagnostic]) -> str:
    """One JSON array of objects with path, line, column, code, severity, message, name, fix."""
    return json.dumps([d.to_json() for d in diagnostics], indent=2, ensure_ascii=False) + "\n"


def _gh_escape(value: str, *, prop: bool = False) -> str:
    # GitHub workflow command escaping (actions/toolkit core/src/command.ts).
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def format_github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow annotations (``::error file=…,line=…,col=…,title=…::msg``)."""
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    out = []
    for d in diagnostics:
        props = ",".join(
            [
                f"file={_gh_escape(d.path, prop=True)}",
                f"line={d.line}",
                f"col={d.column}",
                f"title={_gh_escape(f'{d.code} {d.name}'.strip(), prop=True)}",
            ]
        )
        out.append(f"::{level[d.severity]} {props}::{_gh_escape(d.message)}")
    return "\n".join(out) + ("\n" if out else "")


def format_sarif(diagnostics: Sequence[Diagnostic], rules: Iterable[object] = ()) -> str:
    """A SARIF 2.1.0 log with one run; ``rules`` are rule modules (CODE, NAME, SEVERITY)."""
    from . import __version__

    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
    rule_list = []
    index: dict[str, int] = {}
    for rule in rules:
        code = rule.CODE  # type: ignore[attr-defined]
        index[code] = len(rule_list)
        doc = (rule.__doc__ or "").strip().splitlines()
        rule_list.append(
            {
                "id": code,
                "name": rule.NAME,  # type: ignore[attr-defined]
                "shortDescription": {"text": doc[0] if doc else rule.NAME},  # type: ignore[attr-defined]
                "defaultConfiguration": {"level": level[Severity(rule.SEVERITY)]},  # type: ignore[attr-defined]
            }
        )
    results = []
    for d in diagnostics:
        result: dict[str, object] = {
            "ruleId": d.code,
            "level": level[d.severity],
            "message": {"text": d.message + (f" (fix: {d.fix})" if d.fix else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": d.path.replace("\\", "/")},
                        "region": {"startLine": d.line, "startColumn": d.column},
                    }
                }
            ],
        }
        if d.code in index:
            result["ruleIndex"] = index[d.code]
        if d.autofix is not None:
            result["fixes"] = [_sarif_fix(d)]
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "planc",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/planc/",
                        "rules": rule_list,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _sarif_fix(d: Diagnostic) -> dict[str, object]:
    """A SARIF 2.1.0 ``fix`` object (§3.55): one ``artifactChange`` whose ``replacements``
    delete a line/column region and insert the new text."""
    assert d.autofix is not None
    return {
        "description": {"text": (d.fix or "apply the fix") + f" ({d.autofix.applicability})"},
        "artifactChanges": [{
            "artifactLocation": {"uri": d.path.replace("\\", "/")},
            "replacements": [
                {"deletedRegion": {"startLine": e.line, "startColumn": e.column,
                                   "endLine": e.end_line, "endColumn": e.end_column},
                 "insertedContent": {"text": e.content}}
                for e in d.autofix.edits
            ],
        }],
    }


def format_gitlab(diagnostics: Sequence[Diagnostic]) -> str:
    """A GitLab code-quality report: a JSON array of Code Climate issues with the fields
    GitLab reads (``description``, ``check_name``, ``fingerprint``, ``severity``,
    ``location.path``, ``location.lines.begin``).

    Severities: error → ``major``, warning → ``minor``, info → ``info`` (GitLab's scale is
    info, minor, major, critical, blocker). The fingerprint is the sha256 of the path, line,
    column, code and message: stable across runs, so GitLab can tell new findings from
    fixed ones, and distinct for two findings of one rule in one file (GitLab shows only
    the first of several issues sharing a fingerprint).
    """
    level = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}
    issues = []
    for d in diagnostics:
        path = d.path.replace("\\", "/")
        key = "\0".join([path, str(d.line), str(d.column), d.code, d.message])
        issues.append(
            {
                "type": "issue",
                "description": f"{d.code} {d.message}" + (f" (fix: {d.fix})" if d.fix else ""),
                "check_name": d.code,
                "fingerprint": hashlib.sha256(key.encode("utf-8")).hexdigest(),
                "severity": level[d.severity],
                "location": {"path": path, "lines": {"begin": d.line}},
            }
        )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


FORMATS = ("text", "json", "github", "sarif", "gitlab")


def render(diagnostics: Sequence[Diagnostic], fmt: str, rules: Iterable[object] = ()) -> str:
    """Format ``diagnostics`` in one of :data:`FORMATS`. Raises ``ValueError`` otherwise."""
    if fmt == "text":
        return format_text(diagnostics)
    if fmt == "json":
        return format_json(diagnostics)
    if fmt == "github":
        return format_github(diagnostics)
    if fmt == "sarif":
        return format_sarif(diagnostics, rules)
    if fmt == "gitlab":
        return format_gitlab(diagnostics)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
