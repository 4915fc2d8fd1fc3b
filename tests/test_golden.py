"""Golden files of every artifact planc compiles for the shipped example plans.

``PLANC_UPDATE_GOLDEN=1 pytest tests/test_golden.py`` rewrites ``tests/golden/``; without
it, any difference (a file added, missing or changed) fails, so a committed golden tree is
never out of date. In ``manifest.json``, ``git_commit`` and ``inputs_sha256`` are
normalised to null (they change with every commit and every change to planc's code).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from compiler.config import Settings
from compiler.expand import Options
from compiler.pipeline import compile_plan

from .conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"
PLAN = ROOT / "plans" / "cap_8L_llama32_lora_comparison" / "runs_plan.md"
SWEEP = ROOT / "plans" / "lr-sweep" / "plan.md"
CASES = {
    "cap_8L_llama32_lora_comparison": (PLAN, {}),
    "cap_8L_llama32_lora_comparison@della-array": (PLAN, {"cluster": "della",
                                                          "layout": "array"}),
    "lr-sweep": (SWEEP, {}),
}
UPDATE = os.environ.get("PLANC_UPDATE_GOLDEN") == "1"


def compiled_tree(tmp: Path, plan: Path, opts: dict[str, str]) -> dict[str, bytes]:
    """Compile ``plan`` into ``tmp`` and return ``{relpath: bytes}`` of the group folder."""
    res = compile_plan(plan, Settings(root=ROOT), out=tmp, options=Options(**opts))
    assert res.report is not None, [d.message for d in res.diagnostics]
    out: dict[str, bytes] = {}
    for p in sorted(res.group_dir.rglob("*")):
        if not p.is_file() or p.name.endswith(".lock"):
            continue
        rel = p.relative_to(res.group_dir).as_posix()
        data = p.read_bytes()
        if rel == "manifest.json":
            m = json.loads(data)
            m["git_commit"] = None
            m["inputs_sha256"] = None
            data = (json.dumps(m, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        out[rel] = data
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_files_are_up_to_date(case: str, tmp_path: Path) -> None:
    plan, opts = CASES[case]
    got = compiled_tree(tmp_path, plan, opts)
    folder = GOLDEN / case
    if UPDATE:
        shutil.rmtree(folder, ignore_errors=True)
        for rel, data in got.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
    want = {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}
    assert want, f"no golden files for {case}; run with PLANC_UPDATE_GOLDEN=1"
    assert sorted(got) == sorted(want), "files added or missing; PLANC_UPDATE_GOLDEN=1 " \
                                         "regenerates (review the diff)"
    changed = [rel for rel in got if got[rel] != want[rel]]
    assert changed == [], "out of date; PLANC_UPDATE_GOLDEN=1 regenerates (review the diff)"


def test_golden_covers_every_artifact_kind() -> None:
    names = {p.name for p in GOLDEN.rglob("*") if p.is_file()}
    for expected in ("finetune.yaml", "setup_finetune.yaml", "eval.yaml", "README.md",
                     "runs_status.yaml", "manifest.json", "finetune.slurm", "eval.slurm",
                     "submit_all.sh", "launch_local.sh", "run_local.sh"):
        assert expected in names, expected
