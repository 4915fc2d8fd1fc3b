"""Issue 14 "Cluster limits": QoS limits read from sacctmgr into the profile, and the
efficiency report read from sacct and torchtune's log."""

from __future__ import annotations

import subprocess
from typing import Any

from compiler.backends.slurm import SlurmError
from compiler.clusters import QOS_FIELDS, detect_qos, parse_qos, parse_tres

# sacctmgr -n --parsable2 show qos format=Name,MaxSubmitJobsPerUser,MaxWall,MaxTRESPerUser,GrpTRES
QOS_LINES = ("normal|25|1-00:00:00|gres/gpu=8|\n"
             "gpu-short|4|01:00:00|cpu=64,gres/gpu=4,mem=500G|gres/gpu=32\n"
             "unlimited||||\n")


def _proc(rc: int, out: str = "", err: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(["sacctmgr"], rc, out, err)


def test_parse_qos_reads_each_limit() -> None:
    got = parse_qos(QOS_LINES)
    assert list(got) == ["normal", "gpu-short", "unlimited"]
    n = got["normal"]
    assert (n.max_submit_jobs_per_user, n.max_wall, n.max_tres_per_user, n.grp_tres) == \
        (25, "1-00:00:00", {"gres/gpu": 8}, {})
    s = got["gpu-short"]
    assert s.max_tres_per_user == {"cpu": 64, "gres/gpu": 4, "mem": 500 * 1024}
    assert s.grp_tres == {"gres/gpu": 32} and s.max_wall == "01:00:00"
    u = got["unlimited"]
    assert u.max_submit_jobs_per_user is None and u.max_wall is None


def test_parse_qos_skips_short_and_unreadable_lines() -> None:
    assert parse_qos("broken|1\nbad|3|forever||\n") == {}
    assert parse_tres("cpu=x,gres/gpu=2,junk") == {"gres/gpu": 2}


def test_detect_qos_asks_sacctmgr_for_the_fields_and_degrades() -> None:
    calls: list[list[str]] = []

    def runner(argv: list[str], cwd: Any) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        return _proc(0, QOS_LINES)

    limits, note = detect_qos(runner)
    assert calls == [["sacctmgr", "-n", "--parsable2", "show", "qos",
                      "format=" + ",".join(QOS_FIELDS)]]
    assert limits["normal"].max_submit_jobs_per_user == 25 and note == "3 QoS read from sacctmgr"
    # accounting disabled (the local SLURM without slurmdbd says exactly this)
    off = "You are not running a supported accounting_storage plugin\n"
    assert detect_qos(lambda a, c: _proc(1, "", off)) == (
        {}, "no QoS limits: You are not running a supported accounting_storage plugin")

    def missing(argv: list[str], cwd: Any) -> subprocess.CompletedProcess[str]:
        raise SlurmError("sacctmgr not found: is this a SLURM login node?")

    assert detect_qos(missing)[0] == {}
