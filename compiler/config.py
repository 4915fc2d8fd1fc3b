"""``[tool.planc]`` in the nearest ``pyproject.toml`` → typed :class:`Settings`.

Every problem is gathered (MkDocs ``config/base.py`` style) and returned as diagnostics
located in ``pyproject.toml``; unknown keys are named, with a "did you mean" for near misses.

Keys::

    [tool.planc]
    select = ["PL", "TK001"]          # code prefixes or codes to run (default: all)
    ignore = ["PL011"]                # code prefixes or codes to skip
    exclude = ["plans/drafts/*"]      # glob patterns (relative to the project root)
    paths = ["plans"]                 # what `planc lint` checks with no arguments
    strict = false                    # warnings fail the run too
    cache = true                      # content-hash cache for repeated lints
    clusters = "clusters"             # folder of cluster profiles (compile)
    cluster = "della"                 # default cluster profile name
    models = "models.yaml"            # project model registry entries (compile)
    templates = "templates"           # project template overrides (compile)
    out = "build/plans"               # default compile output folder
    max_runs = 100000                 # runs (and evaluation jobs) one group may expand to

    [tool.planc.severity]
    PL011 = "error"

    [tool.planc.rules.RG020]          # per-rule options
    tolerance = 0.15
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, Severity

KNOWN_KEYS = {
    "select": list,
    "ignore": list,
    "exclude": list,
    "paths": list,
    "strict": bool,
    "cache": bool,
    "severity": dict,
    "rules": dict,
    "clusters": str,
    "cluster": str,
    "models": str,
    "templates": str,
    "out": str,
    "max_runs": int,
}
SEVERITIES = {"error", "warning", "info", "off"}
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass
class Settings:
    """Typed ``[tool.planc]`` settings. ``root`` is the folder of the pyproject (or cwd)."""

    root: Path = field(default_factory=Path.cwd)
    pyproject: Path | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    paths: tuple[str, ...] = ("plans",)
    strict: bool = False
    cache: bool = False
    severity: dict[str, str] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    clusters: str = "clusters"
    cluster: str | None = None
    models: str | None = None
    templates: str = "templates"
    out: str = "build/plans"
    max_runs: int = 100_000  # compiler.expand.DEFAULT_MAX_RUNS (EX015 beyond it)

    def enabled(self, code: str) -> bool:
        """Whether the rule ``code`` runs: selected (or no selection) and not ignored."""
        if self.severity.get(code) == "off":
            return False
        if self.select and not any(code.startswith(s) for s in self.select):
            return False
        return not any(code.startswith(s) for s in self.ignore)

    def severity_for(self, code: str, default: str) -> Severity:
        return Severity(self.severity.get(code, default))

    def fingerprint(self) -> str:
        """A stable string of everything that changes lint results (for the cache key)."""
        return repr(
            (self.select, self.ignore, self.max_runs, sorted(self.severity.items()),
             sorted((k, sorted(v.items())) for k, v in self.rules.items()))
        )


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` that has a ``[tool.planc]`` table,
    else the nearest one at all, else ``None``."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    first = None
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            first = first or candidate
            try:
                data = tomllib.loads(candidate.read_text("utf-8"))
                if isinstance(data.get("tool"), dict) and "planc" in data["tool"]:
                    return candidate
            except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
                return candidate
    return first


def _key_line(text: str, key: str) -> int:
    # tomllib keeps no positions; locate the key's first assignment for the diagnostic.
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith(f"{key} ") or s.startswith(f"{key}=") or s.startswith(f"[tool.planc.{key}"):
            return i
    return 1


def load_settings(start: Path | None = None, known_codes: set[str] | None = None,
                  known_options: Mapping[str, Mapping[str, Any]] | None = None
                  ) -> tuple[Settings, list[Diagnostic]]:
    """Read ``[tool.planc]`` from the nearest pyproject.toml (searching up from ``start``).

    Returns settings and a list of configuration diagnostics (``CF001`` syntax, ``CF002``
    unknown key, ``CF003`` bad value); all are gathered, none raised. ``known_options``
    (rule code → its ``OPTIONS`` defaults) enables checking ``[tool.planc.rules.CODE]``
    option names (CF002) and value types against the defaults (CF003).
    """
    start = start or Path.cwd()
    path = find_pyproject(start)
    settings = Settings(root=(path.parent if path else Path.cwd()), pyproject=path)
    diags: list[Diagnostic] = []
    if path is None:
        return settings, diags
    rel = _rel(path)
    text = path.read_text("utf-8", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, col = _toml_error_position(exc)
        diags.append(Diagnostic(rel, line, col, "CF001", Severity.ERROR,
                                f"invalid TOML: {exc}", "config-syntax"))
        return settings, diags
    table = data.get("tool", {}).get("planc", {})
    if not isinstance(table, dict):
        diags.append(Diagnostic(rel, 1, 1, "CF003", Severity.ERROR,
                                "[tool.planc] must be a table", "config-value"))
        return settings, diags

    def bad(key: str, message: str, code: str = "CF003", name: str = "config-value",
            entry: str | None = None) -> None:
        line = _key_line(text, key) if entry is None else _entry_line(text, key, entry)
        diags.append(Diagnostic(rel, line, 1, code, Severity.ERROR, message, name))

    for key, value in table.items():
        if key not in KNOWN_KEYS:
            near = difflib.get_close_matches(key, list(KNOWN_KEYS), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            bad(key, f"unknown key {key!r} in [tool.planc]{hint}", "CF002", "config-unknown-key")
            continue
        if not isinstance(value, KNOWN_KEYS[key]) or (
                KNOWN_KEYS[key] is int and isinstance(value, bool)):
            bad(key, f"[tool.planc] {key} must be a {KNOWN_KEYS[key].__name__}, "
                     f"not {type(value).__name__}")
            continue
        if key in ("select", "ignore", "exclude", "paths"):
            if not all(isinstance(v, str) for v in value):
                bad(key, f"[tool.planc] {key} must be a list of strings")
                continue
            setattr(settings, key, tuple(value))
        elif key == "max_runs" and value < 1:
            bad(key, f"[tool.planc] max_runs must be at least 1, not {value}")
        elif key == "severity":
            for code, level in value.items():
                if level not in SEVERITIES:
                    bad(key, f"severity of {code} must be one of {sorted(SEVERITIES)}, "
                             f"not {level!r}", entry=code)
                elif known_codes is not None and code not in known_codes:
                    bad(key, f"severity set for unknown rule {code!r}", "CF002",
                        "config-unknown-key", entry=code)
                else:
                    settings.severity[code] = level
        elif key == "rules":
            for code, opts in value.items():
                if known_codes is not None and code not in known_codes:
                    bad(key, f"options set for unknown rule {code!r}", "CF002",
                        "config-unknown-key", entry=code)
                elif not isinstance(opts, dict):
                    bad(key, f"options of {code} must be a table", entry=code)
                elif known_options is not None and code in known_options:
                    good = _check_options(code, opts, known_options[code], text, rel, diags)
                    if good:
                        settings.rules[code] = good
                else:
                    settings.rules[code] = dict(opts)
        else:
            setattr(settings, key, value)
    return settings, diags


def _toml_error_position(exc: tomllib.TOMLDecodeError) -> tuple[int, int]:
    """1-based (line, column) of a TOML syntax error.

    Python 3.14 gives ``lineno``/``colno``; before that tomllib only writes the position
    into the message ("... (at line 3, column 1)"), so it is read from there.
    """
    line = getattr(exc, "lineno", None)
    col = getattr(exc, "colno", None)
    if isinstance(line, int) and isinstance(col, int):
        return max(1, line), max(1, col)
    m = _TOML_AT.search(str(exc))
    if m:
        return max(1, int(m.group(1))), max(1, int(m.group(2)))
    return 1, 1


def _entry_line(text: str, table: str, name: str) -> int:
    """Line of ``name`` in ``[tool.planc.<table>]``, or of a ``[tool.planc.<table>.<name>]``
    header; else the line of the table itself (tomllib keeps no positions)."""
    lines = text.splitlines()
    header = f"[tool.planc.{table}]"
    sub = f"[tool.planc.{table}.{name}]"
    for i, line in enumerate(lines):
        compact = line.strip().replace(" ", "")
        if compact in (sub, f'[tool.planc.{table}."{name}"]'):
            return i + 1
        if compact == header:
            for j in range(i + 1, len(lines)):
                s = lines[j].strip()
                if s.startswith("["):
                    break
                if s.startswith((f"{name} ", f"{name}=", f'"{name}"')):
                    return j + 1
    return _key_line(text, table.split(".")[0])


def _type_ok(value: Any, default: Any) -> bool:
    if default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if isinstance(default, int):
        return isinstance(value, int)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, (list, tuple)):
        return isinstance(value, list)
    return isinstance(value, type(default))


def _check_options(code: str, opts: dict[str, Any], defaults: Mapping[str, Any], text: str,
                   rel: str, diags: list[Diagnostic]) -> dict[str, Any]:
    """The valid options of rule ``code``; a diagnostic for each unknown or mistyped one."""
    good: dict[str, Any] = {}
    for name, value in opts.items():
        line = _entry_line(text, f"rules.{code}", name)
        if name not in defaults:
            near = difflib.get_close_matches(name, list(defaults), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            diags.append(Diagnostic(rel, line, 1, "CF002", Severity.ERROR,
                                    f"rule {code} has no option {name!r}{hint}",
                                    "config-unknown-key"))
        elif not _type_ok(value, defaults[name]):
            want = type(defaults[name]).__name__
            diags.append(Diagnostic(rel, line, 1, "CF003", Severity.ERROR,
                                    f"option {name} of {code} must be a {want}, "
                                    f"not {type(value).__name__}", "config-value"))
        else:
            good[name] = value
    return good


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
