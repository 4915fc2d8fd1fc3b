"""CL rules: plans checked against cluster profiles, with exact positions.

Fixtures live in ``tests/fixtures/cluster/plans/{good,bad}`` (``.expected`` files as in
``tests/test_fixtures.py``) and run with the project root ``tests/fixtures/cluster`` so that
its ``clusters/`` folder holds the profiles they name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.clusters import load_profile, parse_profile
from compiler.config import Settings
from compiler.lint import lint_paths
from compiler.rules import BY_CODE
from compiler.rules.cluster import RULES

from .conftest import FIXTURES, ROOT
from .test_fixtures import _expected

CASES = FIXTURES / "cluster" / "plans"
CROOT = FIXTURES / "cluster"


def _cases(kind: str) -> list[Path]:
    return sorted((CASES / kind).glob("*.md"))


@pytest.mark.parametrize("path", _cases("good"), ids=lambda p: p.name)
def test_good_cluster_fixture_has_no_cl_findings(path: Path) -> None:
    diags = lint_paths([path], Settings(root=CROOT, select=("CL",)))
    assert [f"{d.line}:{d.column}: {d.code} {d.message}" for d in diags] == []


@pytest.mark.parametrize("path", _cases("bad"), ids=lambda p: p.name)
def test_bad_cluster_fixture(path: Path) -> None:
    want, select = _expected(path.with_suffix(".expected"))
    diags = lint_paths([path], Settings(root=CROOT, select=select or ("CL",)))
    got = sorted(f"{d.line}:{d.column}: {d.code}" for d in diags)
    assert got == want, "\n".join(f"{d.line}:{d.column}: {d.code} {d.message}" for d in diags)


def test_every_cl_rule_has_a_failing_fixture() -> None:
    covered = {p.name.split("_", 1)[0].upper() for p in _cases("bad")} | {"CL007", "CL012"}
    assert {r.CODE for r in RULES} <= covered
    for r in RULES:
        assert BY_CODE[r.CODE] is r
        doc = r.__doc__ or ""
        assert "Failing::" in doc and "Passing::" in doc


def test_no_profile_means_no_findings(tmp_path: Path) -> None:
    plan = tmp_path / "p.md"
    plan.write_text((CASES / "bad" / "cl005_gpus.md").read_text("utf-8").replace(
        "  cluster: fx-gpu\n", ""), "utf-8")
    assert lint_paths([plan], Settings(root=CROOT, select=("CL",))) == []
    # the project default names the profile instead
    diags = lint_paths([plan], Settings(root=CROOT, select=("CL",), cluster="fx-gpu"))
    assert [d.code for d in diags] == ["CL005"]


def _shipped_with(tmp_path: Path, old: str, new: str) -> Path:
    src = ROOT / "plans" / "cap_8L_llama32_lora_comparison" / "runs_plan.md"
    text = src.read_text("utf-8")
    assert old in text
    p = tmp_path / "runs_plan.md"
    p.write_text(text.replace(old, new), "utf-8")
    return p


def test_stated_gpu_hours_are_compared_with_the_estimate(tmp_path: Path) -> None:
    settings = Settings(root=CROOT, select=("CL007",), cluster="fx-gpu")
    shipped = ROOT / "plans" / "cap_8L_llama32_lora_comparison" / "runs_plan.md"
    assert lint_paths([shipped], settings) == []
    bad = _shipped_with(tmp_path, "- **Total GPU hours**: 2.3 GPU hours",
                        "- **Total GPU hours**: 0.5 GPU hours")
    diags = lint_paths([bad], settings)
    assert [(d.code, d.line) for d in diags] == [("CL007", 130)]
    assert "0.5 training GPU hours" in diags[0].message
    assert "speeds this plan states" in diags[0].message
    loose = Settings(root=CROOT, select=("CL007",), cluster="fx-gpu",
                     rules={"CL007": {"tolerance": 5.0}})
    assert lint_paths([bad], loose) == []


def test_profile_errors_carry_yaml_positions() -> None:
    prof, diags = parse_profile("name: x\ntype: slurm\npartitions:\n  - {name: gpu, "
                                "max_time: forever}\n", "x.yaml", "x")
    assert prof is None
    assert [(d.code, d.line, d.column) for d in diags] == [("CP001", 4, 17)]
    prof, diags = parse_profile("name: y\ntype: slurm\n", "x.yaml", "x")
    assert prof is None and "differs from its file name" in diags[0].message
    prof, diags = parse_profile("a: [\n", "x.yaml")
    assert prof is None and diags[0].line == 2


def test_shipped_profiles_load() -> None:
    settings = Settings(root=ROOT)
    for name in ("della", "local-cpu", "ci-slurm"):
        prof, diags = load_profile(name, settings)
        assert diags == [] and prof is not None and prof.name == name
    ci, _ = load_profile("ci-slurm", settings)
    assert [(p.name, p.max_time, p.gpus_per_node) for p in ci.partitions] == [
        ("debug", "01:00:00", 2)]
    _, diags = load_profile("../etc/passwd", settings)
    assert diags and diags[0].code == "CP001"


def test_qos_cap_names_its_remedies_and_the_drip_profile_is_quiet(tmp_path: Path) -> None:
    bad = CASES / "bad" / "cl011_jobs.md"
    [d] = lint_paths([bad], Settings(root=CROOT, select=("CL011",)))
    assert d.message == ("the group submits 4 jobs at once; QoS 'normal' allows 3 per user "
                         "(MaxSubmitJobsPerUser)")
    assert d.fix == ("drip-feed it: `planc submit --max-queued 3` (or max_queued: 3 in the "
                     "cluster profile); an array throttle (%N) does not help, as SLURM counts "
                     "every array task")
    # the array layout puts the same 4 jobs (array tasks) against the cap
    arr = bad.read_text("utf-8").replace("compute:\n", "layout: array\narray_throttle: 1\n"
                                         "compute:\n")
    assert "array_throttle: 1" in arr
    Path(tmp_path / "cl011_array.md").write_text(arr, "utf-8")
    [a] = lint_paths([tmp_path / "cl011_array.md"], Settings(root=CROOT, select=("CL011",)))
    assert a.message == d.message
    assert lint_paths([CASES / "good" / "drip.md"], Settings(root=CROOT, select=("CL",))) == []


def test_node_limits_messages() -> None:
    [m] = lint_paths([CASES / "bad" / "cl008_mem.md"], Settings(root=CROOT, select=("CL008",)))
    assert m.severity.value == "error" and "mem 4000G" in m.message and "1000G" in m.message
    [c] = lint_paths([CASES / "bad" / "cl009_cpus.md"], Settings(root=CROOT, select=("CL009",)))
    assert "500 CPUs" in c.message and "has 64" in c.message


def test_parse_mem_and_queue_cap() -> None:
    from compiler.models.cluster import ClusterProfile, parse_mem_mib

    assert parse_mem_mib("4000G") == 4000 * 1024
    assert parse_mem_mib("512") == 512 and parse_mem_mib("1T") == 1024 * 1024
    assert parse_mem_mib("22899M") == 22899
    with pytest.raises(ValueError):
        parse_mem_mib("lots")
    prof = ClusterProfile.model_validate({"type": "slurm", "qos_limits": {
        "normal": {"max_submit_jobs_per_user": 25}}})
    assert prof.queue_cap() == 25
    assert prof.model_copy(update={"max_queued": 10}).queue_cap() == 10
    assert prof.model_copy(update={"qos": "long"}).queue_cap() is None


def test_cl012_request_over_four_times_measured_use(tmp_path: Path) -> None:
    """CL012's failing case needs an efficiency.json beside the run group, so it is built
    here rather than in the shared bad/ folder."""
    import shutil

    from compiler.efficiency import store_report

    shutil.copytree(CROOT / "clusters", tmp_path / "clusters")
    plan = tmp_path / "runs_plan.md"
    plan.write_text((CASES / "bad" / "cl005_gpus.md").read_text("utf-8").replace(
        "  gpus: 8\n", "  gpus: 1\n  mem: 32G\n"), "utf-8")
    settings = Settings(root=tmp_path, select=("CL012",))
    assert lint_paths([plan], settings) == []  # nothing measured yet
    run = "Llama-3.2-1B-Instruct_rank4"
    store_report(tmp_path, {"note": "1 job(s) read from sacct", "stages": [
        {"run": run, "stage": "finetune", "elapsed_s": 600, "max_rss_mib": 1536},
        {"run": run, "stage": "evaluations/cap_epoch_0", "elapsed_s": None,
         "max_rss_mib": None}]})
    got = [(d.line, d.column, d.severity.value, d.message) for d in lint_paths([plan], settings)]
    assert got == [
        (16, 3, "warning", f"time 02:00:00 is 12.0 × what finetune of run {run} used last "
         "time (600 s, efficiency.json)"),
        (18, 3, "warning", f"mem 32G is 21.3 × what finetune of run {run} used last time "
         "(1536 MiB, efficiency.json)")]


def test_gpu_type_reaches_the_gres_request(tmp_path: Path) -> None:
    """``compute.gpu_type`` compiles to ``--gres=gpu:<type>:<n>`` (issue 14, GPU type)."""
    import shutil

    from .conftest import run_planc

    (tmp_path / "pyproject.toml").write_text("[tool.planc]\n", "utf-8")
    shutil.copytree(CROOT / "clusters", tmp_path / "clusters")
    plan = tmp_path / "fits.md"
    shutil.copy(CASES / "good" / "fits.md", plan)
    out = tmp_path / "out"
    proc = run_planc("compile", "--out", str(out), str(plan), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    scripts = sorted(out.rglob("*.slurm"))
    assert scripts
    for script in scripts:
        assert "#SBATCH --gres=gpu:A100:1" in script.read_text("utf-8"), script
