"""Content-hash cache for ``planc lint`` (``[tool.planc] cache = true``).

A file's diagnostics are stored under a key that covers everything its lint result depends
on, so a stale entry can never hide a finding:

- the file's bytes and the path it is linted under (diagnostics carry the path, and the
  kind of a ``*.yaml`` file comes from its name);
- the bytes of the sibling that cross-file rules read: ``runs_plan.md`` for a
  ``runs_status.yaml`` (status rules cross-check the plan) and ``runs_status.yaml`` for a
  markdown file;
- the planc version and a fingerprint of the rule set: every rule module's ``CODE``,
  ``NAME``, ``SEVERITY``, ``KINDS`` and ``OPTIONS``, plus the sha256 of every file of the
  ``compiler`` package (rules, loader, models, engine, built-in data), so editing a rule
  invalidates the cache even when the version does not change;
- :meth:`compiler.config.Settings.fingerprint` (select, ignore, severities, rule options)
  and the cluster/model settings with the bytes of the files they name (cluster rules check
  resources against those profiles).

Entries are JSON files ``.planc_cache/lint/<key[:2]>/<key>.json`` under the project root
(``settings.root``), written atomically (temporary file + ``os.replace``) so parallel
``planc`` processes (pre-commit) never read half an entry. A corrupted or unreadable entry
is a miss, never an error. Internal errors (``PC999``) are never cached. The folder holds a
``.gitignore`` and a ``CACHEDIR.TAG`` (pytest/ruff convention) so it is never committed or
backed up. Delete the folder to clear the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from . import __version__, layout
from .config import Settings
from .diagnostics import Diagnostic, Severity
from .document import MAX_BYTES, read_bounded
from .fix import Fix

CACHE_DIR = ".planc_cache"
FORMAT = 2  # bump when the entry layout changes
_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by planc.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)
_source_hash: str | None = None


def _package_source_hash() -> str:
    """sha256 over (relative name, bytes) of every file in the ``compiler`` package: the
    sources and the package data rules read (``data/models.yaml``, the built-in model
    registry). Computed once per process (sources do not change under a running linter).
    """
    global _source_hash
    if _source_hash is None:
        h = hashlib.sha256()
        stack: list[tuple[str, Any]] = [("", resources.files("compiler"))]
        entries: list[tuple[str, bytes]] = []
        while stack:
            prefix, folder = stack.pop()
            for item in folder.iterdir():
                name = f"{prefix}{item.name}"
                if item.is_dir():
                    if item.name != "__pycache__":
                        stack.append((name + "/", item))
                elif not item.name.endswith((".pyc", ".pyo")):
                    entries.append((name, item.read_bytes()))
        for name, data in sorted(entries):
            h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        _source_hash = h.hexdigest()
    return _source_hash


def rules_fingerprint() -> str:
    """A string that changes whenever any rule's declaration or any planc source changes."""
    from .rules import RULES

    decl = [
        (r.CODE, r.NAME, r.SEVERITY, tuple(r.KINDS),
         sorted((str(k), repr(v)) for k, v in getattr(r, "OPTIONS", {}).items()))
        for r in RULES
    ]
    return repr((__version__, decl, _package_source_hash()))


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "-"


def _settings_fingerprint(settings: Settings) -> str:
    """Settings that change results, plus the bytes of the cluster profiles and model registry."""
    extra: list[tuple[str, str]] = []
    clusters = settings.root / settings.clusters
    if clusters.is_dir():
        for p in sorted(clusters.rglob("*")):
            if p.is_file():
                extra.append((str(p.relative_to(clusters)), _file_digest(p)))
    if settings.models:
        extra.append(("models", _file_digest(settings.root / settings.models)))
    return repr((settings.fingerprint(), settings.cluster, settings.clusters, settings.models,
                 extra))


def _sibling(path: Path) -> Path:
    if layout.is_status_file(path):
        return path.with_name(layout.RUN_PLAN)
    return path.with_name(layout.STATUS_FILE)


def file_key(path: Path, data: bytes, base: str) -> str:
    """The cache key of ``path`` with contents ``data`` under the global fingerprint ``base``."""
    h = hashlib.sha256()
    h.update(base.encode())
    h.update(b"\0path\0" + str(path).encode("utf-8", "surrogateescape"))
    h.update(b"\0sibling\0")
    sibling, _why = read_bounded(_sibling(path), MAX_BYTES * 16)  # never a FIFO, never unbounded
    h.update(b"<none>" if sibling is None else sibling)
    h.update(b"\0data\0")
    h.update(data)
    return h.hexdigest()


def _entry_path(folder: Path, key: str) -> Path:
    return folder / "lint" / key[:2] / f"{key}.json"


def _read_entry(path: Path, file: str) -> list[Diagnostic] | None:
    """The cached diagnostics, or ``None`` when the entry is missing or malformed."""
    try:
        data = json.loads(path.read_text("utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return None
        out = []
        for d in data["diagnostics"]:
            autofix = d.get("autofix")
            out.append(Diagnostic(file, int(d["line"]), int(d["column"]), str(d["code"]),
                                  Severity(d["severity"]), str(d["message"]), str(d["name"]),
                                  None if d["fix"] is None else str(d["fix"]),
                                  None if autofix is None else Fix.from_json(autofix)))
        return out
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_entry(path: Path, diags: Sequence[Diagnostic]) -> None:
    payload = {
        "format": FORMAT,
        "diagnostics": [
            {"line": d.line, "column": d.column, "code": d.code, "severity": d.severity.value,
             "message": d.message, "name": d.name, "fix": d.fix,
             **({"autofix": d.autofix.to_json()} if d.autofix is not None else {})}
            for d in diags
        ],
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, ensure_ascii=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # a read-only project still lints; it just is not cached


def _prepare(folder: Path) -> None:
    try:
        if not (folder / "CACHEDIR.TAG").exists():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "CACHEDIR.TAG").write_text(_CACHEDIR_TAG, "utf-8")
            (folder / ".gitignore").write_text("# created by planc\n*\n", "utf-8")
    except OSError:
        pass


def lint_cached(files: Sequence[str | Path], settings: Settings, jobs: int | None = None
                ) -> list[Diagnostic]:
    """Like :func:`compiler.lint.lint_paths`, reusing stored results for unchanged files.

    Returns the diagnostics in file order (each file's sorted), exactly what ``lint_paths``
    would return. Files that cannot be read are linted (and report ``CM000``) uncached.
    """
    from .lint import INTERNAL_ERROR, lint_paths

    folder = settings.root / CACHE_DIR
    base = repr((FORMAT, rules_fingerprint(), _settings_fingerprint(settings)))
    names = [str(f) for f in files]
    results: dict[str, list[Diagnostic]] = {}
    keys: dict[str, str] = {}
    misses: list[str] = []
    for name in names:
        p = Path(name)
        data, _why = read_bounded(p)
        if data is None:  # not a regular file, too large or unreadable: lint says which
            misses.append(name)
            continue
        key = file_key(p, data, base)
        cached = _read_entry(_entry_path(folder, key), name)
        if cached is None:
            keys[name] = key
            misses.append(name)
        else:
            results[name] = cached
    if misses:
        fresh: dict[str, list[Diagnostic]] = {n: [] for n in misses}
        for d in lint_paths(misses, settings, jobs):
            fresh.setdefault(d.path, []).append(d)
        _prepare(folder)
        for name in misses:
            diags = fresh[name]
            results[name] = diags
            key = keys.get(name)
            if key is None or any(d.code == INTERNAL_ERROR for d in diags):
                continue
            # the file may have changed while it was linted: store only a stable result
            now, _why = read_bounded(Path(name))
            if now is None or file_key(Path(name), now, base) != key:
                continue
            _write_entry(_entry_path(folder, key), diags)
        # Diagnostics whose path is not one of the names (none today) are kept, not lost.
        for path, diags in fresh.items():
            if path not in results:
                results[path] = diags
    out: list[Diagnostic] = []
    seen: set[str] = set()
    for name in names:
        if name not in seen:
            seen.add(name)
            out.extend(results.get(name, []))
    for path, diags in results.items():
        if path not in seen:
            out.extend(diags)
    return out
