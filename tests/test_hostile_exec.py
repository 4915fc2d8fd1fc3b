"""Hostile trackers never make planc run or submit anything outside the group, and a job the
scheduler accepted is never lost (issue 15, items 4 and 10). Fake SLURM commands on PATH
record every call; the full disk is a real, small tmpfs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import IN_CI, need_or_skip, run_planc
from tests.test_submit_status import calls, fake_slurm, make_group  # noqa: F401 (fixture)


def _add_run_key(group: Path, key: str, stage: str = "finetune") -> None:
    path = group / "runs_status.yaml"
    data = yaml.safe_load(path.read_text())
    data["runs"][key] = {stage: {"status": "pending"}}
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.mark.parametrize("key", ["/abs/evil", "../evil", "a/../../evil", "..", "x y"])
def test_submit_never_submits_a_script_named_by_a_path_key(
        tmp_path: Path, fake_slurm: Path, key: str) -> None:  # noqa: F811
    evil = Path("/abs/evil") if key.startswith("/") else tmp_path / "evil"
    group = make_group(tmp_path, {"r1": {"finetune": "pending"}})
    target = group / key if not key.startswith("/") else Path(key)
    try:
        target.mkdir(parents=True, exist_ok=True)
        (target / "finetune.slurm").write_text("#!/bin/bash\necho evil\n")
    except OSError:
        pass
    _add_run_key(group, key)
    proc = run_planc("submit", str(group), env={"PATH": os.environ["PATH"],
                                                 "FAKE_SLURM_DIR": str(fake_slurm)})
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "skipped" in proc.stderr and repr(key) in proc.stderr
    for call in calls(fake_slurm, "sbatch"):
        assert Path(call["cwd"]).resolve() == (group / "r1").resolve(), call
    if key.startswith("/"):
        shutil.rmtree("/abs", ignore_errors=True)
    del evil


def test_run_local_never_executes_a_launcher_named_by_a_path_key(tmp_path: Path) -> None:
    proj = Path(__file__).resolve().parent.parent
    out = tmp_path / "out"
    proc = run_planc("compile", "--out", str(out), str(proj / "plans/lr-sweep/plan.md"))
    assert proc.returncode == 0, proc.stderr
    group = out / "lr-sweep"
    data = yaml.safe_load((group / "runs_status.yaml").read_text())
    for rec in data["runs"].values():
        rec["run"]["status"] = "completed"  # only the hostile key is due
    evil = tmp_path / "evil"
    evil.mkdir()
    marker = tmp_path / "ran"
    (evil / "run_local.sh").write_text(f"#!/bin/bash\ntouch {marker}\n")
    data["runs"][str(evil)] = {"run": {"status": "pending"}}
    (group / "runs_status.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    proc = run_planc("run", str(group), "--local", timeout=120)
    assert "Traceback" not in proc.stderr
    assert not marker.exists()
    assert str(evil) in proc.stdout + proc.stderr


@pytest.fixture
def full_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 1 MiB tmpfs that the test fills completely."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                        capture_output=True).returncode == 0
    if not ok:
        if IN_CI and os.geteuid() == 0:
            pytest.fail("CI runs as root and must be able to mount a tmpfs")
        need_or_skip(False, "mounting a tmpfs needs root")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_full_disk_during_submit_prints_every_accepted_job_id(
        full_disk: Path, fake_slurm: Path) -> None:  # noqa: F811
    group = make_group(full_disk, {"r1": {"finetune": "pending", "evals": ["cap"]},
                                   "r2": {"finetune": "pending"}})
    filler = full_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)  # fill the disk to the last block
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    before = (group / "runs_status.yaml").read_bytes()
    proc = run_planc("submit", str(group), env={"PATH": os.environ["PATH"],
                                                 "FAKE_SLURM_DIR": str(fake_slurm)})
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, proc.stdout + proc.stderr
    accepted = [c for c in calls(fake_slurm, "sbatch")]
    assert len(accepted) == 1  # the first job, then planc stops submitting
    assert "submitted 100: r1/finetune (NOT RECORDED" in proc.stdout
    assert "could not be recorded" in proc.stderr
    assert (group / "runs_status.yaml").read_bytes() == before  # nothing half-written
