"""planc on real documents collected from public repositories (issue 10, Proof).

``tests/fixtures/real/MANIFEST.yaml`` lists each document with its provenance (repository,
path, commit, licence, sha256), why it is in the corpus and the findings a correct linter
gives on it (``expected``: code and line, judged by hand against the seeds and the README's
severity policy). Where planc today gives something else, the entry has an
``xfail_reason`` naming the false finding; that entry's comparison runs in
``test_known_discrepancy`` marked ``xfail(strict=True)``, so it fails loudly the day the
false finding is fixed and the entry must move to the plain expectations.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.config import Settings
from compiler.document import load
from compiler.lint import INTERNAL_ERROR, exit_code, lint_file

from .conftest import ROOT, run_planc

REAL = Path(__file__).parent / "fixtures" / "real"
MANIFEST: list[dict[str, Any]] = yaml.safe_load((REAL / "MANIFEST.yaml").read_text())["documents"]
SETTINGS = Settings(root=ROOT)

CLEAN = [e for e in MANIFEST if "xfail_reason" not in e]
KNOWN = [e for e in MANIFEST if "xfail_reason" in e]


def _marked(entries: list[dict[str, Any]]) -> list[Any]:
    """Entries with an ``xfail_reason`` wrapped in a strict xfail naming that reason."""
    return [pytest.param(e, marks=pytest.mark.xfail(strict=True, reason=e["xfail_reason"]))
            if "xfail_reason" in e else e for e in entries]


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return [e["file"] for e in entries]


def _findings(entry: dict[str, Any]) -> list[tuple[str, int, str]]:
    """planc's findings today as sorted (code, line, severity) triples."""
    diags = lint_file(REAL / entry["file"], SETTINGS)
    return sorted((d.code, d.line, d.severity.value) for d in diags)


def _compare(entry: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """Today's findings against the manifest's ``expected`` list: (unexpected, absent).

    An expected item is ``{code, line}``, or, for a finding whose code the fixing branch
    has not chosen yet, ``{code: "?", line, severity}``, which matches exactly one finding
    of that severity at that line."""
    actual = _findings(entry)
    missing: list[Any] = []
    for item in entry["expected"]:
        code, line = item["code"], int(item["line"])
        hit = next((a for a in actual if a[1] == line and (
            a[0] == code if code != "?" else a[2] == item["severity"])), None)
        if hit is None:
            missing.append(item)
        else:
            actual.remove(hit)
    return actual, missing


def test_manifest_lists_every_file_once() -> None:
    on_disk = sorted(p.relative_to(REAL).as_posix() for p in REAL.rglob("*")
                     if p.is_file() and p.name != "MANIFEST.yaml")
    listed = [e["file"] for e in MANIFEST]
    assert sorted(listed) == on_disk
    assert len(set(listed)) == len(listed)
    assert 30 <= len(listed) <= 60
    for e in MANIFEST:
        assert {"file", "repository", "path", "commit", "licence", "sha256", "why",
                "expected"} <= e.keys(), e["file"]


@pytest.mark.parametrize("entry", MANIFEST, ids=_ids(MANIFEST))
def test_document_is_byte_identical(entry: dict[str, Any]) -> None:
    data = (REAL / entry["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]


@pytest.mark.parametrize("entry", MANIFEST, ids=_ids(MANIFEST))
def test_lint_never_crashes(entry: dict[str, Any]) -> None:
    diags = lint_file(REAL / entry["file"], SETTINGS)
    assert [d for d in diags if d.code == INTERNAL_ERROR] == []
    for d in diags:
        assert d.line >= 1 and d.column >= 1, d


@pytest.mark.parametrize("entry", CLEAN, ids=_ids(CLEAN))
def test_expected_findings(entry: dict[str, Any]) -> None:
    unexpected, absent = _compare(entry)
    assert (unexpected, absent) == ([], []), f"unexpected {unexpected}; absent {absent}"


if KNOWN:  # none left today: a parameter-less test would only be reported as skipped
    @pytest.mark.parametrize("entry", _marked(KNOWN), ids=_ids(KNOWN))
    def test_known_discrepancy(entry: dict[str, Any]) -> None:
        """Strict xfail: planc today gives the false finding named in ``xfail_reason``."""
        unexpected, absent = _compare(entry)
        assert (unexpected, absent) == ([], []), f"unexpected {unexpected}; absent {absent}"


def test_cli_exit_codes_and_no_tracebacks() -> None:
    """The CLI once over the whole corpus (one process; 2 shared cores): no traceback, the
    exit code the in-process diagnostics imply, and per file the same (code, line) list."""
    files = [str(REAL / e["file"]) for e in MANIFEST]
    proc = run_planc("lint", "--format", "json", *files, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout
    in_process = {e["file"]: lint_file(REAL / e["file"], SETTINGS) for e in MANIFEST}
    assert proc.returncode == exit_code([d for ds in in_process.values() for d in ds])
    by_file: dict[str, list[tuple[str, int]]] = {e["file"]: [] for e in MANIFEST}
    for d in json.loads(proc.stdout):
        by_file[Path(d["path"]).resolve().relative_to(REAL.resolve()).as_posix()].append(
            (d["code"], d["line"]))
    for name, diags in in_process.items():
        assert sorted(by_file[name]) == sorted((d.code, d.line) for d in diags), name


COMPILABLE = ("plan", "run-group", "experiment-summary")
COMPILES = [e for e in MANIFEST if e.get("compiles")]


@pytest.mark.parametrize("entry", MANIFEST, ids=_ids(MANIFEST))
def test_clean_plans_and_run_groups_are_marked_compiles(entry: dict[str, Any]) -> None:
    """Every plan or run group that lints with exit 0 is listed with ``compiles: true``, so
    test_compiles below compiles it."""
    path = REAL / entry["file"]
    if load(path).kind in COMPILABLE and exit_code(lint_file(path, SETTINGS)) == 0:
        assert entry.get("compiles") is True, entry["file"]


@pytest.mark.parametrize("entry", _marked(COMPILES), ids=_ids(COMPILES))
def test_compiles(entry: dict[str, Any], tmp_path: Path) -> None:
    """A document the manifest marks ``compiles: true`` lints with exit 0 and compiles."""
    path = REAL / entry["file"]
    assert exit_code(lint_file(path, SETTINGS)) == 0
    proc = run_planc("compile", str(path), "--out", str(tmp_path / "out"), timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr
