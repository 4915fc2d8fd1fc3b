"""``planc lint --fix`` / ``--diff`` / ``--unsafe-fixes`` (compiler/fix.py, compiler/fixer.py).

Goldens: ``tests/fixtures/fix/<case>/<name>`` is the document before, ``<stem>.after<ext>``
the document after ``--fix --unsafe-fixes`` (reviewed by hand: each differs from the
before-file only in the fixed span).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from compiler.config import load_settings
from compiler.fix import Edit, Fix, apply_fixes
from compiler.fixer import fix_file
from compiler.lint import lint_file

from .conftest import FIXTURES, run_planc

FIX = FIXTURES / "fix"
# case → (rule code, safe?)
CASES = {
    "rs003": ("RS003", False),
    "rg006": ("RG006", True),
    "rg015": ("RG015", True),
    "rg003": ("RG003", True),
    "pl022": ("PL022", True),
    "pl022_note": ("PL022", False),
    "cm004": ("CM004", True),
    "crlf": ("PL022", True),
}


def _before(case: str) -> Path:
    return next(p for p in (FIX / case).iterdir() if ".after" not in p.name)


def _after(case: str) -> Path:
    b = _before(case)
    return b.with_name(b.stem + ".after" + b.suffix)


def _copy(case: str, tmp_path: Path) -> Path:
    dst = tmp_path / _before(case).name
    shutil.copyfile(_before(case), dst)
    return dst


def _settings(path: Path):  # type: ignore[no-untyped-def]
    return load_settings(path.parent)[0]


def _codes(path: Path) -> list[str]:
    return [d.code for d in lint_file(path, _settings(path))]


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_fix_and_idempotence(case: str, tmp_path: Path) -> None:
    code, safe = CASES[case]
    path = _copy(case, tmp_path)
    found = _codes(path).count(code)
    assert found
    first = fix_file(path, _settings(path), unsafe=True)
    assert first.after == _after(case).read_bytes()
    assert first.fixed[code] >= 1
    path.write_bytes(first.after)
    # Fewer findings remain (rg015 keeps a Summary-table total and rs003 a list id,
    # which have no fix).
    assert _codes(path).count(code) == (1 if case in ("rg015", "rs003") else 0) < found
    second = fix_file(path, _settings(path), unsafe=True)
    assert not second.changed and not second.fixed  # a second --fix changes nothing
    # Safe fixes apply without --unsafe-fixes; unsafe ones only with it.
    shutil.copyfile(_before(case), path)
    safe_only = fix_file(path, _settings(path), unsafe=False)
    assert safe_only.changed is safe
    if not safe:
        assert safe_only.after == _before(case).read_bytes()


@pytest.mark.parametrize("case", sorted(CASES))
def test_byte_minimal(case: str) -> None:
    """Only the fixed span differs: the same line count, and on every differing line the
    bytes between the common prefix and suffix are a short run (the fixed token)."""
    before = _before(case).read_bytes()
    after = _after(case).read_bytes()
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(a) == len(b)
    changed = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    assert 1 <= len(changed) <= 2
    for x, y in changed:
        assert x.endswith(b"\r\n") == y.endswith(b"\r\n")
        p = 0
        while x[p] == y[p]:
            p += 1
        q = 0
        while x[-1 - q] == y[-1 - q] and q < min(len(x), len(y)) - p:
            q += 1
        assert 0 < len(x) - p - q <= 16, (x, y)


def test_crlf_stays_crlf() -> None:
    after = _after("crlf").read_bytes()
    assert after.count(b"\r\n") == after.count(b"\n") > 10
    assert after.replace(b"\r\n", b"\n") == _after("pl022").read_bytes()


def test_bom_and_trailing_text_kept(tmp_path: Path) -> None:
    path = tmp_path / "plan.md"
    body = _before("pl022").read_bytes()
    path.write_bytes(b"\xef\xbb\xbf" + body.rstrip(b"\n"))  # BOM, no final newline
    r = fix_file(path, _settings(path))
    assert r.after == b"\xef\xbb\xbf" + _after("pl022").read_bytes().rstrip(b"\n")


@pytest.mark.parametrize("text", [
    "schema_version: 1\nruns:\n  r:\n    finetune: {job_id: 4812345.0\n",       # bad YAML
    "---\nsweep: [\n---\n## Plan: x\n\n- **Runs**: 8\n",                        # bad front matter
])
def test_unparseable_file_untouched(text: str, tmp_path: Path) -> None:
    name = "runs_status.yaml" if text.startswith("schema") else "plan.md"
    path = tmp_path / name
    path.write_text(text)
    assert {"CM000", "CM001"} & set(_codes(path))
    r = fix_file(path, _settings(path), unsafe=True)
    assert not r.changed and r.after == path.read_bytes() == text.encode()
    proc = run_planc("lint", "--fix", "--unsafe-fixes", str(path))
    assert path.read_bytes() == text.encode()
    assert proc.returncode == 1


def test_ignored_and_suppressed_findings_are_not_fixed(tmp_path: Path) -> None:
    path = _copy("pl022", tmp_path)
    settings = _settings(path)
    settings.ignore = (*settings.ignore, "PL022")
    assert not fix_file(path, settings).changed
    text = path.read_text().replace("- **Runs**: 8", "<!-- planc: ignore PL022 -->\n- **Runs**: 8")
    path.write_text(text)
    assert not fix_file(path, _settings(path)).changed


def test_not_utf8_untouched(tmp_path: Path) -> None:
    path = tmp_path / "plan.md"
    raw = _before("cm004").read_bytes() + b"\xff\xfe bad\n"
    path.write_bytes(raw)
    assert not fix_file(path, _settings(path), unsafe=True).changed


def test_integer_job_id_gets_no_finding_and_no_fix(tmp_path: Path) -> None:
    path = tmp_path / "runs_status.yaml"
    text = _before("rs003").read_text().replace("4812345.0", "4812345")
    path.write_text(text)
    assert "RS003" in _codes(path)  # the list id is still an error…
    r = fix_file(path, _settings(path), unsafe=True)
    assert not r.changed  # …with no mechanical fix; the integer id is left alone


def test_cli_diff_writes_nothing_and_exits_1(tmp_path: Path) -> None:
    path = _copy("rg015", tmp_path)
    before = path.read_bytes()
    proc = run_planc("lint", "--diff", str(path))
    assert proc.returncode == 1
    assert path.read_bytes() == before
    assert proc.stdout == (
        f"--- {path}\n+++ {path}\n@@ -111,7 +111,7 @@\n"
        " \n"
        " **Llama-3.2-1B-Instruct models:**\n"
        " - Assumed speed (no prior run data): 8,000 samples, batch_size=16, speed=0.8 it/s "
        "(estimated)\n"
        "-- Steps per epoch: 8,000/16 = 400 steps\n"
        "+- Steps per epoch: 8,000/16 = 500 steps\n"
        " - Time per epoch: ~11 minutes (500 ÷ 0.8 = 625 s, plus checkpointing overhead)\n"
        " - **2 epochs × 2 runs**: ~22 minutes per run (can run in parallel)\n"
        " - **Sequential**: 2 runs × 22 min = 44 minutes\n"
    )
    assert "would fix 1 finding(s) in 1 file(s)" in proc.stderr
    # An unsafe-only file: no diff (exit 0) unless --unsafe-fixes.
    status = _copy("rs003", tmp_path)
    assert run_planc("lint", "--diff", str(status)).returncode == 0
    proc = run_planc("lint", "--diff", "--unsafe-fixes", str(status))
    assert proc.returncode == 1 and '+    finetune: {status: submitted, job_id: "4812345"' \
        in proc.stdout


def test_cli_fix_exit_codes(tmp_path: Path) -> None:
    # Everything fixable fixed → exit 0 (ruff: "all present violations were fixed").
    path = _copy("pl022", tmp_path)
    proc = run_planc("lint", "--fix", "--select", "PL022", str(path))
    assert proc.returncode == 0, proc.stdout
    assert path.read_bytes() == _after("pl022").read_bytes()
    assert "fixed 1 finding(s) in 1 file(s)" in proc.stderr
    assert "0 error(s)" in proc.stderr
    # Findings remain (the unsafe fix was not applied, the list id has none) → exit 1.
    status = _copy("rs003", tmp_path)
    proc = run_planc("lint", "--fix", str(status))
    assert proc.returncode == 1 and status.read_bytes() == _before("rs003").read_bytes()
    assert proc.stdout.count("RS003") == 2
    proc = run_planc("lint", "--fix", "--unsafe-fixes", str(status))
    assert proc.returncode == 1 and proc.stdout.count("RS003") == 1  # the list remains


def test_json_and_sarif_carry_fixes(tmp_path: Path) -> None:
    path = _copy("rg003", tmp_path)
    data = json.loads(run_planc("lint", "-f", "json", "--select", "RG003", str(path)).stdout)
    fixed = [d for d in data if "autofix" in d]
    assert len(fixed) == 1
    assert fixed[0]["autofix"]["applicability"] == "safe"
    edit = fixed[0]["autofix"]["edits"][0]
    assert (edit["line"], edit["column"], edit["end_column"], edit["content"]) == (5, 19, 20, "6")
    assert all("autofix" not in d for d in data if d is not fixed[0])
    sarif = json.loads(run_planc("lint", "-f", "sarif", "--select", "RG003", str(path)).stdout)
    results = sarif["runs"][0]["results"]
    rep = [r["fixes"][0]["artifactChanges"][0]["replacements"][0] for r in results if "fixes" in r]
    assert rep == [{"deletedRegion": {"startLine": 5, "startColumn": 19, "endLine": 5,
                                      "endColumn": 20}, "insertedContent": {"text": "6"}}]


def test_overlapping_fixes_apply_one_per_pass() -> None:
    a = Fix((Edit(0, 3, "xyz"),))
    b = Fix((Edit(2, 5, "Q"),))
    c = Fix((Edit(6, 7, "Z"),))
    text, taken = apply_fixes("abcdefgh", "abcdefgh", [b, c, a])
    assert text == "xyzdefZh" and taken == [a, c]
    crlf, _ = apply_fixes("ab\r\ncd\r\n", "ab\ncd\n", [Fix((Edit(3, 5, "x\ny"),))])
    assert crlf == "ab\r\nx\r\ny\r\n"


# -- hypothesis: planted fixable errors ----------------------------------------------------
_PLAN = """## 📋 Plan: Rank sweep

### Parameters to Sweep
| Parameter | Values | Why |
|---|---|---|
{rows}

### Estimated Effort
- **Runs**: {runs}
- **Time**: 2 h
- **Resources**: 1 GPU
"""


@hsettings(max_examples=15, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    off=st.integers(1, 50),
    moji=st.booleans(),
    crlf=st.booleans(),
)
def test_planted_errors_fixed(sizes: list[int], off: int, moji: bool, crlf: bool,
                              tmp_path: Path) -> None:
    names = ["rank", "lr", "seed"]
    rows = "\n".join(f"| `{names[i]}` | {', '.join(str(v + 1) for v in range(n))} | x |"
                     for i, n in enumerate(sizes))
    total = 1
    for n in sizes:
        total *= n
    text = _PLAN.format(rows=rows, runs=total + off)
    if moji:
        text = text.replace("Rank sweep", "Rank sweep — fast".encode().decode("cp1252"))
    if crlf:
        text = text.replace("\n", "\r\n")
    path = tmp_path / "plan.md"
    path.write_bytes(text.encode())
    planted = {"PL022"} | ({"CM004"} if moji else set())
    assert planted <= set(_codes(path))
    r = fix_file(path, _settings(path))
    path.write_bytes(r.after)
    assert not planted & set(_codes(path))
    assert (b"\r\n" in r.after) is crlf
    assert not fix_file(path, _settings(path), unsafe=True).changed


_GOOD_GROUP = FIXTURES / "rungroup" / "good" / "three_factor.md"
# A planted contradiction per code: (code, line text in the good fixture, format with k).
_PLANTS = {
    "RG003": ("- **Total Runs**: 10 (8 fine-tuned", "- **Total Runs**: {v} (8 fine-tuned"),
    "RG006": ("- **LoRA alpha**: 8 (rank 4)", "- **LoRA alpha**: {v} (rank 4)"),
    "RG015": ("- Steps per epoch: 8,000/4 = 2,000 steps",
              "- Steps per epoch: 8,000/4 = {v:,} steps"),
}
_RIGHT = {"RG003": 10, "RG006": 8, "RG015": 2000}


@hsettings(max_examples=10, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plants=st.dictionaries(st.sampled_from(sorted(_PLANTS)), st.integers(1, 9000), min_size=1),
    crlf=st.booleans(),
)
def test_planted_run_group_errors_fixed(plants: dict[str, int], crlf: bool,
                                        tmp_path: Path) -> None:
    text = _GOOD_GROUP.read_text()
    planted = set()
    for code, v in plants.items():
        if v == _RIGHT[code] or (code == "RG015" and abs(v - 2000) <= 40):
            continue  # within RG015's tolerance: not an error
        old, new = _PLANTS[code]
        assert old in text
        text = text.replace(old, new.format(v=v), 1)
        planted.add(code)
    if crlf:
        text = text.replace("\n", "\r\n")
    path = tmp_path / "runs_plan.md"
    path.write_bytes(text.encode())
    assert planted <= set(_codes(path))
    r = fix_file(path, _settings(path))
    path.write_bytes(r.after)
    assert not planted & set(_codes(path)), _codes(path)
    assert r.after == _GOOD_GROUP.read_bytes().replace(b"\n", b"\r\n" if crlf else b"\n")
    assert not fix_file(path, _settings(path), unsafe=True).changed


def test_rg006_table_cell_fix_edits_the_alpha_cell_not_the_rank(tmp_path: Path) -> None:
    """An alpha cell that reads like the rank (``| 4 | 4 |``) is found by its column, so the
    fix changes the alpha cell and leaves the LoRA Rank cell alone."""
    lines = _GOOD_GROUP.read_text().split("\n")
    out = []
    for line in lines:
        if line.startswith("| Run Name |"):
            line = line.replace("| LoRA Rank |", "| LoRA Rank | LoRA Alpha |")
        elif line.startswith("|----------|"):
            line = line.replace("|-----------|", "|-----------|---|", 1)
        elif line.startswith("| Llama") and "Fine-tuned" in line:
            parts = line.split(" | ")
            rank = int(parts[3])
            alpha = rank if line.startswith("| Llama-3.2-1B-Instruct_5L_rank4 ") else 2 * rank
            parts.insert(4, str(alpha))
            line = " | ".join(parts)
        elif line.startswith("| Llama") and "Control" in line:
            line = line.replace("| - | - |", "| - | - | - |", 1)
        out.append(line)
    path = tmp_path / "runs_plan.md"
    path.write_text("\n".join(out))
    assert _codes(path).count("RG006") == 1
    r = fix_file(path, _settings(path))
    assert r.fixed["RG006"] == 1
    fixed = r.after.decode().split("\n")
    row = next(x for x in fixed if x.startswith("| Llama-3.2-1B-Instruct_5L_rank4 "))
    assert "| 5L | 4 | 8 | 4 | Fine-tuned |" in row
    assert sum(a != b for a, b in zip(out, fixed, strict=True)) == 1


def test_plain_lint_counts_fixable_findings_with_and_without_cache(tmp_path: Path) -> None:
    """ruff's closing line: plain ``planc lint`` says how many findings ``--fix`` would fix,
    and the content-hash cache keeps the fixes (a cached second run says the same)."""
    plan = _copy("rg015", tmp_path)
    status = _copy("rs003", tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.planc]\ncache = true\n", "utf-8")
    first = run_planc("lint", str(plan), str(status))
    assert first.returncode == 1
    assert "[*] 1 fixable with `planc lint --fix` (1 more with `planc lint --fix " \
        "--unsafe-fixes`)" in first.stderr
    assert (tmp_path / ".planc_cache").is_dir()
    second = run_planc("lint", str(plan), str(status))
    assert (second.stdout, second.stderr) == (first.stdout, first.stderr)
    only_unsafe = run_planc("lint", "--no-cache", str(status))
    assert "[*] 1 fixable with `planc lint --fix --unsafe-fixes`" in only_unsafe.stderr
    fixed = run_planc("lint", "--fix", str(plan))
    assert "fixable" not in fixed.stderr
    assert "fixable" not in run_planc("lint", str(plan)).stderr  # nothing left to fix


def test_cached_fix_round_trips() -> None:
    fix = Fix((Edit(3, 5, "x", 1, 4, 1, 6), Edit(9, 9, "y\n", 2, 1, 2, 1)), "unsafe")
    assert Fix.from_json(json.loads(json.dumps(fix.to_json()))) == fix
    with pytest.raises(ValueError):
        Fix.from_json({"applicability": "maybe", "edits": [Edit(0, 1, "").to_json()]})
