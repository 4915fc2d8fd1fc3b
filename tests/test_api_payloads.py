"""research-agent tracker payloads (``api/*.json``) against the API reference.

The bodies are validated with pydantic models that restate the server's request schemas from
``../shared/reference/research-agent-api.md`` (§2 PlanCreate, §3 WildSweepCreate, §4 RunCreate
and GpuwrapConfig) with ``extra="forbid"``, so a misspelt or invented field fails; then the
values are checked per cluster type (gpuwrap rule of seed 001, one GPU per run on local_gpu,
``sbatch --wait`` on SLURM, ``cd`` and environment activation in every local command).
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from tests.test_scripts import MODELS, RANKS, render, run_group, sweep


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PlanCreate(Strict):
    title: StrictStr
    goal: StrictStr
    session_id: StrictStr | None = None
    sections: dict[str, Any] | None = None
    raw_markdown: StrictStr = ""


class WildSweepCreate(Strict):
    name: StrictStr = "Wild Loop Sweep"
    goal: StrictStr = ""
    chat_session_id: StrictStr | None = None


class GpuwrapConfig(Strict):
    enabled: StrictBool | None = None
    retries: int | None = Field(default=None, ge=-1)
    retry_delay_seconds: float | None = Field(default=None, gt=0, le=600)


class RunCreate(Strict):
    name: StrictStr
    command: StrictStr
    workdir: StrictStr | None = None
    sweep_id: StrictStr | None = None
    parent_run_id: StrictStr | None = None
    origin_alert_id: StrictStr | None = None
    chat_session_id: StrictStr | None = None
    auto_start: StrictBool = False
    gpuwrap_config: GpuwrapConfig | None = None


def bodies(files: dict[str, bytes]) -> tuple[dict, dict, dict[str, dict]]:
    plan = json.loads(files["api/plan.json"])
    sweep_body = json.loads(files["api/sweep.json"])
    runs = {p[len("api/runs/"):-len(".json")]: json.loads(b) for p, b in files.items()
            if p.startswith("api/runs/")}
    return plan, sweep_body, runs


@pytest.mark.parametrize("ctype", ["slurm", "local_gpu", "cpu_only"])
def test_bodies_match_the_request_schemas(ctype: str) -> None:
    m = run_group(ctype, activate="source /opt/venv/bin/activate")
    plan, sweep_body, runs = bodies(render(m))
    PlanCreate.model_validate(plan)
    WildSweepCreate.model_validate(sweep_body)
    assert set(runs) == {r.name for r in m.runs}
    for name, body in runs.items():
        RunCreate.model_validate(body)
        assert body["name"] == name
        assert body["sweep_id"] is None  # filled by submit_api.sh
        assert body["auto_start"] is False


def test_plan_and_sweep_values() -> None:
    m = run_group("slurm")
    plan, sweep_body, _ = bodies(render(m))
    assert plan["title"] == m.group and plan["session_id"] is None
    assert plan["sections"]["group"] == m.group
    assert [r["name"] for r in plan["sections"]["runs"]] == [r.name for r in m.runs]
    assert plan["sections"]["factors"] == {"model": list(MODELS), "lora_rank": list(RANKS)}
    assert sweep_body == {"name": m.group, "goal": "", "chat_session_id": None}
    s = sweep("local_gpu", settings={"title": "LR sweep", "goal": "find the best lr",
                                     "raw_markdown": "## 📋 Plan: LR sweep\n"})
    plan, sweep_body, _ = bodies(render(s))
    assert (plan["title"], plan["goal"], plan["raw_markdown"]) == (
        "LR sweep", "find the best lr", "## 📋 Plan: LR sweep\n")
    assert sweep_body["goal"] == "find the best lr"


def test_gpuwrap_by_cluster_type() -> None:
    expected = {"slurm": {"enabled": False}, "local_gpu": {"enabled": True}}
    for ctype in ("slurm", "local_gpu", "cpu_only"):
        _, _, runs = bodies(render(run_group(ctype)))
        for body in runs.values():
            if ctype == "cpu_only":
                assert "gpuwrap_config" not in body  # seed 001: not applicable
            else:
                assert body["gpuwrap_config"] == expected[ctype]


def test_auto_start_setting() -> None:
    _, _, runs = bodies(render(run_group("local_gpu", settings={"api_auto_start": True})))
    assert all(b["auto_start"] is True for b in runs.values())


def test_slurm_commands_wait_for_their_jobs() -> None:
    _, _, runs = bodies(render(run_group("slurm", settings={"out_root": "/abs/g"})))
    ft = runs["Llama-3.2-1B-Instruct_rank4"]
    assert ft["workdir"] == "/abs/g/Llama-3.2-1B-Instruct_rank4"
    assert ft["command"] == " && ".join(
        ["cd /abs/g/Llama-3.2-1B-Instruct_rank4", "sbatch --wait finetune.slurm"]
        + [f"(cd eval/{t}_epoch_{e} && sbatch --wait eval.slurm)"
           for t in ("cap", "rev") for e in (0, 1)])
    base = runs["Llama-3.2-1B-Instruct_base"]["command"]
    assert base == ("cd /abs/g/Llama-3.2-1B-Instruct_base && (cd eval/cap && sbatch --wait "
                    "eval.slurm) && (cd eval/rev && sbatch --wait eval.slurm)")
    assert "CUDA_VISIBLE_DEVICES" not in json.dumps(runs)


def test_local_gpu_commands_pin_one_gpu_each_round_robin() -> None:
    m = run_group("local_gpu", activate="source /opt/venv/bin/activate", gpu_count=2)
    _, _, runs = bodies(render(m))
    devices = []
    for r in m.runs:
        cmd = runs[r.name]["command"]
        parts = cmd.split(" && ")
        assert parts[0] == f'cd "$PLANC_GROUP_DIR"/{r.name}'
        assert parts[1] == "source /opt/venv/bin/activate"
        match = re.fullmatch(r"CUDA_VISIBLE_DEVICES=(\d+) bash run_local.sh", parts[2])
        assert match, cmd
        devices.append(match.group(1))
        assert runs[r.name]["workdir"] is None
    assert devices == ["0", "1", "0", "1", "0", "1"]


def test_local_multi_gpu_runs_get_consecutive_gpus() -> None:
    _, _, runs = bodies(render(run_group("local_gpu", gpus=2, gpu_count=4)))
    pins = [re.search(r"CUDA_VISIBLE_DEVICES=([\d,]+) ", b["command"]).group(1)
            for b in runs.values() if "rank" in b["name"]]
    assert pins == ["0,1", "2,3", "0,1", "2,3"]


def test_cpu_only_commands_have_no_gpu_flags() -> None:
    _, _, runs = bodies(render(run_group("cpu_only")))
    for body in runs.values():
        assert "CUDA" not in body["command"] and "gres" not in body["command"]
        assert body["command"].endswith(" && bash run_local.sh")


def test_commands_quote_the_group_folder() -> None:
    m = run_group("local_gpu", settings={"out_root": "/abs/exp dir/it's"})
    with pytest.raises(ValueError, match="#SBATCH"):
        render(run_group("slurm", settings={"out_root": "/abs/exp dir/it's"}))
    _, _, runs = bodies(render(m))
    cmd = runs["Llama-3.2-1B-Instruct_rank4"]["command"]
    words = shlex.split(cmd.split(" && ")[0])
    assert words == ["cd", "/abs/exp dir/it's/Llama-3.2-1B-Instruct_rank4"]


def test_sweep_run_bodies() -> None:
    _, _, runs = bodies(render(sweep("slurm", values=("a", "b"))))
    assert [b["command"] for b in runs.values()] == [
        'cd "$PLANC_GROUP_DIR"/lr0.001_v0 && sbatch --wait run.slurm',
        'cd "$PLANC_GROUP_DIR"/lr0.001_v1 && sbatch --wait run.slurm']


def test_local_sweep_commands_show_the_expanded_command() -> None:
    """Issue 12 (5): the UI shows the swept values, and the command activates the plan's
    environment (Compute Setup ``venv``) itself, from the project root."""
    m = sweep("cpu_only", values=("a", "b"), settings={"environment": "venv"})
    _, _, runs = bodies(render(m))
    for run in m.runs:
        cmd = runs[run.name]["command"]
        assert cmd == " && ".join([
            'cd "$PLANC_PROJECT_ROOT"', "source .venv/bin/activate",
            f'export PLANC_RUN_DIR="$PLANC_GROUP_DIR"/{run.name}', 'mkdir -p "$PLANC_RUN_DIR"',
            run.command])
    gpu = sweep("local_gpu", activate="source /opt/env/bin/activate", gpu_count=2,
                values=("a", "b"), settings={"environment": "venv", "project_root": "/p"})
    _, _, runs = bodies(render(gpu))
    cmds = [runs[r.name]["command"] for r in gpu.runs]
    assert all(c.startswith("cd /p && source /opt/env/bin/activate && ") for c in cmds)
    assert [re.search(r"export CUDA_VISIBLE_DEVICES=(\d+) && ", c).group(1) for c in cmds] == [
        "0", "1"]
    _, _, runs = bodies(render(sweep("cpu_only", settings={"environment": "system"})))
    assert "activate" not in next(iter(runs.values()))["command"]


def test_array_layout_commands_call_files_the_array_layout_writes() -> None:
    """Issue 12 (6): with ``layout: array`` a run's command submits its element of each
    array (``--array=<index>``), never per-run scripts that layout does not write."""
    for m in (run_group("slurm", layout="array"), sweep("slurm", layout="array",
                                                        values=("a", "b"))):
        files = render(m)
        _, _, runs = bodies(files)
        index = {line.split("\t")[1]: line.split("\t")[0]
                 for line in files["array_index.tsv"].decode().splitlines()
                 if line and not line.startswith("#")}
        for name, body in runs.items():
            parts = body["command"].split(" && ")
            assert parts[0] == 'cd "$PLANC_GROUP_DIR"'
            for part in parts[1:]:
                words = shlex.split(part)
                assert words[:3] == ["sbatch", "--wait", f"--array={index[name]}"], part
                assert words[3] in files, f"{name}: {words[3]} is not written"
    ft = bodies(render(run_group("slurm", layout="array")))[2]["Llama-3.2-1B-Instruct_rank4"]
    assert ft["command"].count("eval_array_") == 4  # 2 tasks × 2 epochs
    base = bodies(render(run_group("slurm", layout="array")))[2]["Llama-3.2-1B-Instruct_base"]
    assert "finetune_array" not in base["command"] and "_base.slurm" in base["command"]


def test_plan_status_and_sweep_parameters_payloads() -> None:
    """Issue 12 (1, 2): the plan's status is applied after create (PlanCreate has none);
    the sweep's parameters and command template go in a PUT body, set before runs join."""
    files = render(sweep("cpu_only", settings={"plan_status": "approved",
                                               "command_template": "trainer --lr {lr}"}))
    assert json.loads(files["api/plan_update.json"]) == {"status": "approved"}
    assert json.loads(files["api/sweep_update.json"]) == {
        "parameters": {"lr": [0.001], "name": ["a"]}, "base_command": "trainer --lr {lr}"}
    plain = render(run_group("slurm"))
    assert "api/plan_update.json" not in plain  # a draft needs nothing
    assert json.loads(plain["api/sweep_update.json"]) == {
        "parameters": {"model": list(MODELS), "lora_rank": list(RANKS)}}
