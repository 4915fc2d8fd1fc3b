"""``planc cluster detect``: NVML through an injected fake ``pynvml``, the real no-library
path, and SLURM partitions/GRES from recorded ``sinfo`` output."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from compiler import gpus
from compiler.models.cluster import ClusterProfile
from tests.conftest import ROOT, run_planc

DATA = Path(__file__).parent / "data" / "slurm"


def fake_nvml(devices: list[dict], init_error: str | None = None,
              fail_on_index: int | None = None) -> types.SimpleNamespace:
    """A stand-in for the ``pynvml`` module: devices are dicts with name, uuid, total/used
    bytes, util and procs (pids); records init/shutdown calls."""

    class NVMLError(Exception):
        pass

    class NVMLError_LibraryNotFound(NVMLError):  # noqa: N801 - pynvml's own naming
        def __str__(self) -> str:
            return "NVML Shared Library Not Found"

    class NVMLError_NotSupported(NVMLError):  # noqa: N801
        pass

    calls: list[str] = []

    def init() -> None:
        calls.append("init")
        if init_error == "library":
            raise NVMLError_LibraryNotFound()

    def handle(i: int) -> int:
        if fail_on_index == i:
            raise NVMLError("Unknown Error")
        return i

    def util(h: int) -> types.SimpleNamespace:
        if devices[h].get("util") is None:
            raise NVMLError_NotSupported()
        return types.SimpleNamespace(gpu=devices[h]["util"], memory=0)

    return types.SimpleNamespace(
        NVMLError=NVMLError, calls=calls,
        nvmlInit=init,
        nvmlShutdown=lambda: calls.append("shutdown"),
        nvmlSystemGetDriverVersion=lambda: "550.54.15",
        nvmlDeviceGetCount=lambda: len(devices),
        nvmlDeviceGetHandleByIndex=handle,
        nvmlDeviceGetName=lambda h: devices[h]["name"].encode(),  # bytes, as older releases
        nvmlDeviceGetUUID=lambda h: devices[h]["uuid"],
        nvmlDeviceGetMemoryInfo=lambda h: types.SimpleNamespace(
            total=devices[h]["total"], used=devices[h]["used"],
            free=devices[h]["total"] - devices[h]["used"]),
        nvmlDeviceGetUtilizationRates=util,
        nvmlDeviceGetComputeRunningProcesses=lambda h: [
            types.SimpleNamespace(pid=p, usedGpuMemory=None) for p in devices[h]["procs"]],
        nvmlDeviceGetGraphicsRunningProcesses=lambda h: [
            types.SimpleNamespace(pid=p, usedGpuMemory=None) for p in devices[h].get("gfx", [])],
    )


GIB = 1024 ** 3
H100 = {"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-aaaa", "total": 80 * GIB,
        "used": 1 * GIB, "util": 3, "procs": []}
BUSY = {"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-bbbb", "total": 80 * GIB,
        "used": 40 * GIB, "util": None, "procs": [11, 12], "gfx": [12, 13]}


def no_slurm(argv, cwd=None, env=None):
    raise gpus.SlurmError("sinfo not found")


def recorded_sinfo(argv, cwd=None, env=None):
    name = "sinfo_nodes.txt" if "-N" in argv else "sinfo_partitions.txt"
    return subprocess.CompletedProcess(argv, 0, (DATA / name).read_text(), "")


def test_nvml_devices_give_local_gpu() -> None:
    nvml = fake_nvml([H100, BUSY])
    c = gpus.detect_cluster(env={}, runner=no_slurm, nvml=nvml)
    assert (c["type"], c["server_type"], c["gpu_count"], c["confidence"]) == (
        "local_gpu", "local_gpu", 2, 0.78)
    assert c["status"] == "healthy" and c["node_count"] == 1 and c["head_node"]
    rows = c["details"]["gpus"]
    assert rows[0] == {"index": 0, "name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-aaaa",
                       "memory_total_mb": 81920, "memory_used_mb": 1024, "utilization_gpu": 3,
                       "process_count": 0}
    assert rows[1]["process_count"] == 3  # compute 11, 12 + graphics 13 (12 counted once)
    assert rows[1]["utilization_gpu"] is None
    assert c["details"]["nvml"]["driver_version"] == "550.54.15"
    assert nvml.calls == ["init", "shutdown"]
    prof = gpus.profile_from_cluster(c, "box")
    assert isinstance(prof, ClusterProfile)
    assert (prof.type, prof.gpu_count, prof.gpu_memory_gib, prof.gpu_type) == (
        "local_gpu", 2, 80.0, "NVIDIA H100 80GB HBM3")


def test_one_gpu_confidence() -> None:
    c = gpus.detect_cluster(env={}, runner=no_slurm, nvml=fake_nvml([H100]))
    assert (c["type"], c["confidence"]) == ("local_gpu", 0.68)


def test_library_missing_is_cpu_only_with_unknown_count() -> None:
    nvml = fake_nvml([H100], init_error="library")
    c = gpus.detect_cluster(env={}, runner=no_slurm, nvml=nvml)
    assert (c["type"], c["server_type"], c["gpu_count"], c["confidence"]) == (
        "cpu_only", "unknown", None, 0.35)
    assert c["details"]["nvml"]["reason"] == ("NVMLError_LibraryNotFound: NVML Shared "
                                              "Library Not Found")
    assert nvml.calls == ["init"]
    assert gpus.profile_from_cluster(c).defaults.gpus == 0


def test_zero_devices_is_cpu_only_with_count_zero() -> None:
    nvml = fake_nvml([])
    c = gpus.detect_cluster(env={}, runner=no_slurm, nvml=nvml)
    assert (c["type"], c["gpu_count"]) == ("cpu_only", 0)
    assert nvml.calls == ["init", "shutdown"]


def test_error_during_enumeration_still_shuts_down() -> None:
    nvml = fake_nvml([H100, H100], fail_on_index=1)
    inv = gpus.nvml_inventory(nvml)
    assert inv["mode"] == "cpu_only" and inv["reason"] == "NVMLError: Unknown Error"
    assert nvml.calls == ["init", "shutdown"]


def test_import_error_is_cpu_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml → ImportError
    inv = gpus.nvml_inventory()
    assert inv == {"source": "none", "mode": "cpu_only", "driver_version": None, "gpus": [],
                   "reason": "nvidia-ml-py (pynvml) is not installed", "library": False}


def test_real_nvml_on_this_machine() -> None:
    """The real library path: on a GPU-less host NVML's shared library is missing."""
    inv = gpus.nvml_inventory()
    if Path("/dev/nvidiactl").exists():
        assert inv["mode"] == "gpu" and inv["gpus"], inv
    else:
        assert inv["mode"] == "cpu_only"
        assert inv["reason"].startswith("NVMLError") or "not installed" in inv["reason"]


def test_slurm_from_recorded_sinfo() -> None:
    c = gpus.detect_cluster(env={}, runner=recorded_sinfo, nvml=fake_nvml([]))
    assert (c["type"], c["confidence"], c["node_count"], c["gpu_count"], c["status"]) == (
        "slurm", 0.8, 1, 2, "healthy")
    parts = c["details"]["partitions"]
    assert parts[0] == {"name": "debug", "default": True, "available": "up",
                        "time_limit": "infinite", "nodes": 1, "cpus": 8, "memory_mb": 22944,
                        "gres": [{"name": "gpu", "type": None, "count": 2}]}
    assert [p["name"] for p in parts] == ["debug", "gpu"]
    prof = gpus.profile_from_cluster(c, "ci")
    assert [(p.name, p.default, p.max_time, p.gpus_per_node) for p in prof.partitions] == [
        ("debug", True, None, 2), ("gpu", False, None, 2)]
    # inside a job (SLURM_* variables) the confidence is higher
    c = gpus.detect_cluster(env={"SLURM_JOB_ID": "5"}, runner=recorded_sinfo, nvml=fake_nvml([]))
    assert (c["type"], c["confidence"]) == ("slurm", 0.9)


def test_manual_type_and_aliases() -> None:
    c = gpus.detect_cluster(env={"RESEARCH_AGENT_CLUSTER_TYPE": "Local-GPU-Cluster"},
                            runner=no_slurm, nvml=fake_nvml([]))
    assert (c["type"], c["source"], c["status"], c["confidence"]) == (
        "local_gpu", "manual", "healthy", 0.98)
    c = gpus.detect_cluster(env={"RESEARCH_AGENT_CLUSTER_TYPE": "unknown"}, runner=no_slurm,
                            nvml=fake_nvml([]))
    assert c["source"] == "detected" and c["type"] == "cpu_only"
    assert gpus.normalize_type("k8s") == "kubernetes"


def test_degraded_nodes() -> None:
    def drained(argv, cwd=None, env=None):
        text = ("n1|idle|8|1000|gpu:a100:4(S:0-1)\nn2|drained|8|1000|gpu:a100:4(S:0-1)\n"
                if "-N" in argv else "gpu*|up|2-00:00:00|2|8|1000|gpu:a100:4(S:0-1)\n")
        return subprocess.CompletedProcess(argv, 0, text, "")

    c = gpus.detect_cluster(env={}, runner=drained, nvml=fake_nvml([]))
    assert (c["status"], c["gpu_count"], c["details"]["gpu_names"]) == ("degraded", 8, ["a100"])
    prof = gpus.profile_from_cluster(c)
    assert (prof.partitions[0].max_time, prof.partitions[0].gpu_type) == ("2-00:00:00", "a100")


@pytest.mark.parametrize("text,expected", [
    ("gpu:2", [("gpu", None, 2)]),
    ("gpu:a100:4(S:0-1)", [("gpu", "a100", 4)]),
    ("gpu:a100:4(S:0-1),gpu:v100:2,mps:100", [("gpu", "a100", 4), ("gpu", "v100", 2),
                                              ("mps", None, 100)]),
    ("gpu", [("gpu", None, 1)]),
    ("(null)", []),
    ("", []),
])
def test_parse_gres(text: str, expected: list) -> None:
    assert [(g["name"], g["type"], g["count"]) for g in gpus.parse_gres(text)] == expected


def test_lint_and_import_never_load_pynvml(tmp_path: Path) -> None:
    code = ("import sys, io, contextlib\nimport compiler.gpus, compiler.commands.cluster\n"
            "from compiler.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), "
            "contextlib.redirect_stderr(io.StringIO()):\n"
            "    main(['lint', 'plans'])\n"
            "print('pynvml' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_cluster_detect_command() -> None:
    proc = run_planc("cluster", "detect", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["cluster"]["type"] in ("slurm", "local_gpu", "cpu_only")
    ClusterProfile.model_validate(out["profile"])
    text = run_planc("cluster", "detect")
    assert text.returncode == 0 and text.stdout.startswith("type: ")
    prof = run_planc("cluster", "detect", "--profile", "--name", "here")
    assert prof.returncode == 0 and "name: here" in prof.stdout
    assert run_planc("cluster").returncode == 2
