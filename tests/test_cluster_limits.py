"""Issue 14 "Cluster limits": QoS limits read from sacctmgr into the profile, and the
efficiency report read from sacct and torchtune's log."""

from __future__ import annotations

import re
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


# sacct -n --parsable2 -j 41,42 -o JobID,State,Elapsed,Timelimit,TotalCPU,AllocCPUS,MaxRSS,ReqMem
SACCT = ("41|COMPLETED|00:10:00|01:00:00|00:15:00|2||8G\n"
         "41.batch|COMPLETED|00:10:00||00:15:00|2|1536000K|\n"
         "41.extern|COMPLETED|00:10:00||00:00:00.002|2|1024K|\n"
         "42_3|CANCELLED by 0|1-00:00:00|UNLIMITED|12:00:00.500|1||2048M\n"
         "short|line\n")


def test_sacct_durations_and_sizes() -> None:
    from compiler.efficiency import parse_duration, parse_size_mib

    assert parse_duration("1-02:03:04") == 93784 and parse_duration("00:01.500") == 1.5
    assert parse_duration("UNLIMITED") is None and parse_duration("") is None
    assert parse_size_mib("1536000K") == 1500 and parse_size_mib("8G") == 8192
    assert parse_size_mib("4000Mn") == 4000 and parse_size_mib("") is None


def test_parse_sacct_usage_merges_steps_and_computes_efficiency() -> None:
    from compiler.efficiency import over_requests, parse_sacct_usage

    usage = parse_sacct_usage(SACCT)
    assert sorted(usage) == ["41", "42_3"]
    r = usage["41"].report()
    assert (r["elapsed_s"], r["time_limit_s"], r["max_rss_mib"], r["req_mem_mib"]) == \
        (600, 3600, 1500, 8192)
    assert r["time_used"] == round(600 / 3600, 4) and r["mem_used"] == round(1500 / 8192, 4)
    assert r["cpu_efficiency"] == 0.75  # 900 s of CPU over 600 s × 2 CPUs
    c = usage["42_3"].report()
    assert c["state"] == "CANCELLED" and c["time_used"] is None and c["mem_used"] is None
    assert c["cpu_efficiency"] == round(43200.5 / 86400, 4)
    rows = [dict(r, run="a", stage="fine-tune")]
    assert over_requests(rows) == [
        "a fine-tune: requested time 3600 s is 6.0 × the 600 s used",
        "a fine-tune: requested memory 8192 MiB is 5.5 × the 1500 MiB used"]


def test_query_usage_without_accounting_says_so() -> None:
    from compiler.efficiency import SACCT_FIELDS, query_usage

    seen: list[list[str]] = []

    def runner(argv: list[str], cwd: Any) -> subprocess.CompletedProcess[str]:
        seen.append(argv)
        return _proc(0, SACCT)

    usage, note = query_usage(["42_3", "41", "41"], runner)
    assert seen == [["sacct", "-n", "--parsable2", "-j", "41,42_3", "-o", ",".join(SACCT_FIELDS)]]
    assert note == "2 job(s) read from sacct" and usage["41"].alloc_cpus == 2
    off = query_usage(["1"], lambda a, c: _proc(0, "Slurm accounting storage is disabled\n"))
    assert off == ({}, "no accounting: Slurm accounting storage is disabled")


def test_group_report_reads_the_tracker_sacct_and_torchtune_peak(tmp_path: Any) -> None:
    from compiler.efficiency import format_report, group_report

    (tmp_path / "logs").mkdir()
    # torchtune 0.6.1 training.log_memory_stats (DEBUG lines as the console shows them)
    (tmp_path / "logs" / "ft-41.out").write_text(
        "INFO:torchtune.utils._logging:Memory stats after model init:\n"
        "\tGPU peak memory allocation: 2.47 GiB\n"
        "\tGPU peak memory reserved: 2.50 GiB\n"
        "\tGPU peak memory active: 2.47 GiB\n", "utf-8")
    (tmp_path / "runs_status.yaml").write_text(
        "runs:\n"
        "  r1:\n"
        "    finetune: {status: completed, job_id: '41', output: logs/ft-41.out}\n"
        "    evaluations:\n"
        "      cap_epoch_0: {status: completed, job_id: '42_3'}\n"
        "      cap_epoch_1: {status: pending}\n", "utf-8")
    rep = group_report(tmp_path, lambda a, c: _proc(0, SACCT))
    assert rep["note"] == "2 job(s) read from sacct"
    assert [(r["run"], r["stage"], r["job_id"]) for r in rep["stages"]] == [
        ("r1", "finetune", "41"), ("r1", "evaluations/cap_epoch_0", "42_3")]
    assert rep["stages"][0]["gpu_peak_gib"] == 2.47 and rep["stages"][0]["cpu_efficiency"] == 0.75
    text = format_report(rep)
    assert text[1] == ("  r1 finetune (job 41): time 17%, memory 18%, CPU 75%, "
                       "GPU peak 2.47 GiB")
    assert text[-1].startswith("  over-request: r1 finetune: requested memory 8192 MiB")


def test_site_shows_the_stored_efficiency_report(tmp_path: Any) -> None:
    from compiler.efficiency import store_report

    from .site_project import GROUP, build_project, build_site

    proj = build_project(tmp_path)
    store_report(proj / "build" / "plans" / GROUP, {"note": "1 job(s) read from sacct",
                                                    "stages": [{
        "run": "Llama-3.2-1B-Instruct_rank4", "stage": "finetune", "job_id": "41",
        "time_used": 0.1667, "mem_used": 0.1831, "cpu_efficiency": 0.75,
        "gpu_peak_gib": 2.47}]})
    proc = build_site(proj)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = (proj / "build" / "site" / "plans" / f"{GROUP}--runs_plan" / "index.html"
            ).read_text("utf-8")
    assert "Resource efficiency" in html
    row = re.search(r"<td>41</td>\s*<td>17%</td>\s*<td>18%</td>\s*<td>75%</td>\s*"
                    r"<td>2.47 GiB</td>", html)
    assert row is not None, html[html.find("Resource efficiency"):][:1500]
