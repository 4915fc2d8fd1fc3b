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

    [tool.planc.severity]
    PL011 = "error"

    [tool.planc.rules.RG020]          # per-rule options
    tolerance = 0.15
"""

from __future__ import annotations

import difflib
import tomllib
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
}
SEVERITIES = {"error", "warning", "info", "off"}


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
            (self.select, self.ignore, sorted(self.severity.items()),
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
                if "tool" in (data := tomllib.loads(candidate.read_text("utf-8"))) and "planc" in data["tool"]:
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


def load_settings(start: Path | None = None, known_codes: set[str] | None = None
                  ) -> tuple[Settings, list[Diagnostic]]:
    """Read ``[tool.planc]`` from the nearest pyproject.toml (searching up from ``start``).

    Returns settings and a list of configuration diagnostics (``CF001`` syntax, ``CF002``
    unknown key, ``CF003`` bad value); all are gathered, none raised.
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
        line = getattr(exc, "lineno", 1) or 1
        col = getattr(exc, "colno", 1) or 1
        diags.append(Diagnostic(rel, line, col, "CF001", Severity.ERROR,
                                f"invalid TOML: {exc}", "config-syntax"))
        return settings, diags
    table = data.get("tool", {}).get("planc", {})
    if not isinstance(table, dict):
        diags.append(Diagnostic(rel, 1, 1, "CF003", Severity.ERROR,
                                "[tool.planc] must be a table", "config-value"))
        return settings, diags

    def bad(key: str, message: str, code: str = "CF003", name: str = "config-value") -> None:
        diags.append(Diagnostic(rel, _key_line(text, key), 1, code, Severity.ERROR, message, name))

    for key, value in table.items():
        if key not in KNOWN_KEYS:
            near = difflib.get_close_matches(key, list(KNOWN_KEYS), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            bad(key, f"unknown key {key!r} in [tool.planc]{hint}", "CF002", "config-unknown-key")
            continue
        if not isinstance(value, KNOWN_KEYS[key]):
            bad(key, f"[tool.planc] {key} must be a {KNOWN_KEYS[key].__name__}, "
                     f"not {type(value).__name__}")
            continue
        if key in ("select", "ignore", "exclude", "paths"):
            if not all(isinstance(v, str) for v in value):
                bad(key, f"[tool.planc] {key} must be a list of strings")
                continue
            setattr(settings, key, tuple(value))
        elif key == "severity":
            for code, level in value.items():
                if level not in SEVERITIES:
                    bad(key, f"severity of {code} must be one of {sorted(SEVERITIES)}, not {level!r}")
                elif known_codes is not None and code not in known_codes:
                    bad(key, f"severity set for unknown rule {code!r}", "CF002", "config-unknown-key")
                else:
                    settings.severity[code] = level
        elif key == "rules":
            for code, opts in value.items():
                if known_codes is not None and code not in known_codes:
                    bad(key, f"options set for unknown rule {code!r}", "CF002", "config-unknown-key")
                elif not isinstance(opts, dict):
                    bad(key, f"options of {code} must be a table")
                else:
                    settings.rules[code] = dict(opts)
        else:
            setattr(settings, key, value)
    return settings, diags


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
