"""Round trip with the real research-agent server (issue 12): no mock.

The server is the vendored, unmodified hao-ai-lab/research-agent (``../shared/vendor/
research-agent/server``, Apache-2.0). A module fixture copies it to a temporary folder and
starts it on a free localhost port with its own temporary workdir and auth on; the tests push
the shipped plans (the lr-sweep sweep and the cap_8L run group) with ``planc submit
--tracker research-agent`` (and the generated ``submit_api.sh``) and read everything back
through the server's GET routes. The server's state is in memory and shared by the tests of
this module, so every test counts objects before and after instead of assuming an empty
server. Needs the server's dependencies (fastapi, uvicorn, httpx, libtmux, requests,
slack-sdk: the ``test`` extra) and, for the test that lets the server run a command, tmux.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.document import load
from compiler.models.plan import parse_plan

from .conftest import ROOT, need_or_skip, run_planc

VENDOR = ROOT.parent / "shared" / "vendor" / "research-agent" / "server"
SWEEP_PLAN = ROOT / "plans" / "lr-sweep" / "plan.md"
GROUP_PLAN = ROOT / "plans" / "cap_8L_llama32_lora_comparison" / "runs_plan.md"
TOKEN = "planc-test-token-7f3a"
SERVER_DEPS = ("fastapi", "uvicorn", "httpx", "libtmux", "requests", "slack_sdk", "yaml")


@dataclass
class Server:
    url: str
    token: str
    workdir: Path
    log: Path

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        """One request with the right token (or ``token``); the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("X-Auth-Token", self.token if token is None else token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def counts(self) -> dict[str, int]:
        return {"plans": len(self.call("GET", "/plans")),
                "sweeps": len(self.call("GET", "/sweeps?limit=100000")),
                "runs": len(self.call("GET", "/runs?limit=100000"))}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _missing_deps() -> list[str]:
    import importlib.util
    return [m for m in SERVER_DEPS if importlib.util.find_spec(m) is None]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need_or_skip(VENDOR.is_dir(), f"the vendored research-agent server is missing ({VENDOR})")
    missing = _missing_deps()
    need_or_skip(not missing, "the research-agent server needs " + ", ".join(missing)
                 + " (pip install -e '.[test]')")
    base = tmp_path_factory.mktemp("research-agent")
    code = base / "server"
    shutil.copytree(VENDOR, code)  # it may write beside server.py; the vendored copy stays
    workdir = base / "work"
    workdir.mkdir()
    port = _free_port()
    session = f"planc-test-{os.getpid()}-{port}"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RESEARCH_AGENT", "TELEMETRY_", "PLANC_"))}
    env.update(RESEARCH_AGENT_USER_AUTH_TOKEN=TOKEN, RESEARCH_AGENT_TMUX_SESSION=session,
               PYTHONDONTWRITEBYTECODE="1")
    log = base / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "server.py", "--workdir", str(workdir), "--host", "127.0.0.1",
             "--port", str(port), "--tmux-session", session],
            cwd=code, env=env, stdout=out, stderr=subprocess.STDOUT)
    srv = Server(f"http://127.0.0.1:{port}", TOKEN, workdir, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(srv.url + "/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the research-agent server did not start:\n"
                            + log.read_text(errors="replace")[-3000:])
            time.sleep(0.3)
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if shutil.which("tmux"):
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def planc(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: "" for k in ("RESEARCH_AGENT_URL", "RESEARCH_AGENT_TOKEN")}
    return run_planc(*args, env={**clean, **env})


def compile_group(plan: Path, out: Path) -> Path:
    proc = planc("compile", str(plan), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    (group,) = [p for p in out.iterdir() if p.is_dir()]
    return group


def submit(group: Path, srv: Server, token: str | None = None,
           **env: str) -> subprocess.CompletedProcess[str]:
    return planc("submit", str(group), "--tracker", "research-agent",
                 RESEARCH_AGENT_URL=srv.url, RESEARCH_AGENT_TOKEN=token or srv.token, **env)


def recorded(group: Path, srv: Server) -> dict[str, Any]:
    return json.loads((group / "research_agent.json").read_text())["servers"][srv.url]


def expanded(plan: Path) -> dict[str, dict[str, Any]]:
    proc = planc("expand", str(plan), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return {r["name"]: r for r in json.loads(proc.stdout)["runs"]}


def statuses(group: Path) -> dict[str, dict[str, Any]]:
    return yaml.safe_load((group / "runs_status.yaml").read_text())["runs"]


def plan_markdown(path: Path) -> str:
    """The text the server should hold: from the ``## 📋 Plan:`` heading, no front-matter."""
    lines = path.read_text("utf-8").split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("## 📋 Plan:"))
    return "\n".join(lines[start:])


# -- the tests --------------------------------------------------------------------------
def test_sweep_arrives_with_parameters_plan_text_and_expanded_commands(
        server: Server, tmp_path: Path) -> None:
    group = compile_group(SWEEP_PLAN, tmp_path / "out")
    before = server.counts()
    proc = submit(group, server, PLANC_PROJECT_ROOT=str(ROOT))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert server.counts() == {"plans": before["plans"] + 1, "sweeps": before["sweeps"] + 1,
                               "runs": before["runs"] + 6}
    ids = recorded(group, server)

    plan = server.call("GET", f"/plans/{ids['plan']}")
    model = parse_plan(load(SWEEP_PLAN))
    assert plan["title"] == "Learning-rate sweep for SGD on scikit-learn digits"
    assert plan["goal"] == model.objective and plan["goal"].startswith("Find the `alpha`")
    assert plan["raw_markdown"] == plan_markdown(SWEEP_PLAN)
    assert not plan["raw_markdown"].startswith("---")
    assert plan["status"] == "approved"  # the front-matter says approved

    sweep = server.call("GET", f"/sweeps/{ids['sweep']}")
    assert sweep["name"] == "lr-sweep" and sweep["goal"] == model.objective
    assert sweep["parameters"] == {"alpha": [0.0001, 0.001, 0.01], "seed": [0, 1]}
    assert sweep["base_command"] == ("python plans/lr-sweep/train.py --alpha {alpha} "
                                     "--seed {seed} --out {out}")
    assert sorted(sweep["run_ids"]) == sorted(ids["runs"].values())

    want = expanded(SWEEP_PLAN)
    local = statuses(group)
    assert set(ids["runs"]) == set(want) == set(local)
    for name, run_id in ids["runs"].items():
        run = server.call("GET", f"/runs/{run_id}")
        assert run["name"] == name and run["sweep_id"] == ids["sweep"]
        # the swept values are visible: the command ends with what planc expand prints,
        # after the environment the Compute Setup names (venv) is activated
        assert run["command"].endswith(" && " + want[name]["command"]), run["command"]
        assert "source .venv/bin/activate && " in run["command"]
        assert run["command"].startswith(f"export PLANC_GROUP_DIR={group} && "
                                         f"export PLANC_PROJECT_ROOT={ROOT} && ")
        assert local[name]["run"]["status"] == "pending" and run["status"] == "ready"


def test_run_group_arrives_with_its_text_and_local_statuses(server: Server,
                                                             tmp_path: Path) -> None:
    group = compile_group(GROUP_PLAN, tmp_path / "out")
    status_file = group / "runs_status.yaml"
    data = yaml.safe_load(status_file.read_text())
    runs = data["runs"]
    done, broken = "Llama-3.2-1B-Instruct_rank4", "Llama-3.2-3B-Instruct_rank4"
    for st in [runs[done]["finetune"], *runs[done]["evaluations"].values()]:
        st.update(status="completed", exit_code=0)
    runs[broken]["finetune"].update(status="failed", exit_code=137, reason="OUT_OF_MEMORY")
    status_file.write_text(yaml.safe_dump(data, sort_keys=False))

    proc = submit(group, server)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ids = recorded(group, server)
    plan = server.call("GET", f"/plans/{ids['plan']}")
    assert plan["title"] == "cap_8L_llama32_lora_comparison"
    assert plan["raw_markdown"] == GROUP_PLAN.read_text("utf-8")  # seed form: no front-matter
    assert "Capitalization of 8-letter words" in plan["goal"]
    assert plan["status"] == "draft"

    sweep = server.call("GET", f"/sweeps/{ids['sweep']}")
    assert sweep["parameters"] == {"model": ["Llama-3.2-1B-Instruct", "Llama-3.2-3B-Instruct"],
                                   "lora_rank": [4, 64]}
    assert sorted(sweep["run_ids"]) == sorted(ids["runs"].values())

    want = expanded(GROUP_PLAN)
    assert set(ids["runs"]) == set(want)
    expected_status = {done: "finished", broken: "failed"}
    for name, run_id in ids["runs"].items():
        run = server.call("GET", f"/runs/{run_id}")
        body = json.loads((group / "api" / "runs" / f"{name}.json").read_text())
        assert run["name"] == name
        assert run["command"] == f"export PLANC_GROUP_DIR={group} && " + body["command"]
        assert run["status"] == expected_status.get(name, "ready"), name
    failed = server.call("GET", f"/runs/{ids['runs'][broken]}")
    assert (failed["exit_code"], failed["error"]) == (137, "OUT_OF_MEMORY")


def test_a_second_submission_creates_nothing(server: Server, tmp_path: Path) -> None:
    group = compile_group(SWEEP_PLAN, tmp_path / "out")
    assert submit(group, server).returncode == 0
    first = recorded(group, server)
    before = server.counts()
    # the generated script is planc's client: same policy, same proof
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESEARCH_AGENT")}
    env.update(RESEARCH_AGENT_URL=server.url, RESEARCH_AGENT_TOKEN=server.token,
               PLANC_PYTHON=sys.executable, PYTHONPATH=str(ROOT))
    proc = subprocess.run(["bash", str(group / "submit_api.sh")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "created 0 object(s), kept 8" in proc.stderr
    assert server.counts() == before
    assert recorded(group, server) == first
    assert server.token not in (group / "research_agent.json").read_text()

    # a recorded run the server does not have (deleted there; here an id it never gave) is
    # created again, and only it
    ids = recorded(group, server)
    lost = sorted(ids["runs"])[0]
    text = json.loads((group / "research_agent.json").read_text())
    text["servers"][server.url]["runs"][lost] = "000000000000"
    (group / "research_agent.json").write_text(json.dumps(text))
    proc = submit(group, server)
    assert proc.returncode == 0, proc.stderr
    assert server.counts() == {**before, "runs": before["runs"] + 1}
    assert f"created run {lost} " in proc.stdout


def test_status_changed_on_the_server_shows_after_sync(server: Server, tmp_path: Path) -> None:
    group = compile_group(SWEEP_PLAN, tmp_path / "out")
    assert submit(group, server).returncode == 0
    ids = recorded(group, server)["runs"]
    finished, failed, running = sorted(ids)[:3]
    server.call("POST", f"/runs/{ids[finished]}/status", {"status": "finished", "exit_code": 0})
    server.call("POST", f"/runs/{ids[failed]}/status",
                {"status": "failed", "exit_code": 3, "error": "boom"})
    server.call("POST", f"/runs/{ids[running]}/status", {"status": "running"})
    assert all(r["run"]["status"] == "pending" for r in statuses(group).values())

    proc = planc("status", str(group), "--sync", "--json", RESEARCH_AGENT_TOKEN=server.token)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert len(out["sync"]["changes"]) == 3
    runs = statuses(group)
    assert runs[finished]["run"]["status"] == "completed"
    assert runs[finished]["run"]["exit_code"] == 0
    assert runs[failed]["run"]["status"] == "failed"
    assert (runs[failed]["run"]["exit_code"], runs[failed]["run"]["reason"]) == (3, "boom")
    assert runs[running]["run"]["status"] == "running"
    assert runs[running]["run"]["job_id"] == f"research-agent:{ids[running]}"
    others = set(ids) - {finished, failed, running}
    assert all(runs[n]["run"]["status"] == "pending" for n in others)
    again = planc("status", str(group), "--sync", "--json", RESEARCH_AGENT_TOKEN=server.token)
    assert json.loads(again.stdout)["sync"]["changes"] == []  # nothing moves backwards


def test_a_wrong_token_is_a_clear_error_and_creates_nothing(server: Server,
                                                            tmp_path: Path) -> None:
    group = compile_group(SWEEP_PLAN, tmp_path / "out")
    before = server.counts()
    proc = submit(group, server, token="not-the-token")
    assert proc.returncode == 2
    assert "answered 401" in proc.stderr
    assert "Unauthorized - invalid or missing X-Auth-Token" in proc.stderr  # the server's
    assert "RESEARCH_AGENT_TOKEN" in proc.stderr  # what to do
    assert "not-the-token" not in proc.stdout + proc.stderr
    assert server.counts() == before
    assert not (group / "research_agent.json").exists()
    sync = planc("status", str(group), "--sync")
    assert sync.returncode == 0  # an untracked group syncs with SLURM only


def test_the_server_runs_a_sweep_command_and_planc_reads_it_back(server: Server,
                                                                 tmp_path: Path) -> None:
    """The payload's command is runnable as the server runs it (tmux, fresh shell): the
    plan's venv is activated (scikit-learn imports), metrics land in the run folder, and
    ``planc status --sync`` and ``planc results`` see the finished run."""
    need_or_skip(shutil.which("tmux") is not None, "tmux is not installed (the server "
                 "launches runs in tmux windows)")
    need_or_skip((Path(sys.prefix) / "bin" / "activate").is_file(),
                 "the tests do not run in a virtual environment")
    project = tmp_path / "project"
    (project / "plans" / "lr-sweep").mkdir(parents=True)
    shutil.copy(SWEEP_PLAN.parent / "train.py", project / "plans" / "lr-sweep" / "train.py")
    (project / ".venv").symlink_to(Path(sys.prefix))  # "Environment: venv" = <project>/.venv
    group = compile_group(SWEEP_PLAN, tmp_path / "out")
    assert submit(group, server, PLANC_PROJECT_ROOT=str(project)).returncode == 0
    name = "alpha0.001_seed0"
    run_id = recorded(group, server)["runs"][name]
    server.call("POST", f"/runs/{run_id}/start")
    deadline = time.monotonic() + 120
    while (run := server.call("GET", f"/runs/{run_id}"))["status"] not in (
            "finished", "failed", "stopped"):
        assert time.monotonic() < deadline, run
        time.sleep(0.5)
    log = Path(run["run_dir"]) / "run.log"
    assert run["status"] == "finished", log.read_text(errors="replace") if log.exists() else run
    metrics = json.loads((group / name / "output" / "metrics.json").read_text())
    assert metrics["alpha"] == 0.001 and metrics["seed"] == 0

    proc = planc("status", str(group), "--sync", RESEARCH_AGENT_TOKEN=server.token)
    assert proc.returncode == 0, proc.stderr
    assert statuses(group)[name]["run"]["status"] == "completed"
    res = planc("results", str(group), "--json")
    assert res.returncode == 0, res.stderr
    assert str(metrics["test_accuracy"]) in res.stdout


# -- the client's pure parts (no server needed) ------------------------------------------
def test_local_state_of_a_run_record() -> None:
    from compiler.research_agent import local_state

    def rec(*stages: str) -> dict[str, Any]:
        return {"finetune": {"status": stages[0]},
                "evaluations": {f"e{i}": {"status": s} for i, s in enumerate(stages[1:])}}

    assert local_state(rec("pending", "pending")) == ("pending", None, None)
    assert local_state(rec("completed", "submitted")) == ("running", None, None)
    assert local_state(rec("completed", "completed")) == ("completed", 0, None)
    assert local_state(rec("skipped", "completed")) == ("completed", 0, None)
    assert local_state(rec("skipped", "pending")) == ("pending", None, None)
    failed = rec("completed", "failed")
    failed["evaluations"]["e0"].update(exit_code=2, reason="NODE_FAIL")
    assert local_state(failed) == ("failed", 2, "NODE_FAIL")


def test_server_states_only_move_stages_forward() -> None:
    from compiler.research_agent import apply_server_state

    rec = {"finetune": {"status": "completed", "exit_code": 0},
           "evaluations": {"a": {"status": "pending", "job_id": None},
                           "b": {"status": "skipped"}}}
    changed = apply_server_state(rec, "r", {"id": "abc", "status": "running"}, "T")
    assert [(c.stage, c.old, c.new) for c in changed] == [("evaluations/a", "pending", "running")]
    assert rec["evaluations"]["a"]["job_id"] == "research-agent:abc"
    assert apply_server_state(rec, "r", {"id": "abc", "status": "queued"}, "T") == []
    changed = apply_server_state(rec, "r", {"id": "abc", "status": "stopped"}, "T")
    assert rec["evaluations"]["a"]["status"] == "failed"
    assert rec["evaluations"]["a"]["reason"] == "stopped on the research-agent server"
    assert rec["finetune"] == {"status": "completed", "exit_code": 0}  # done stays done
    assert rec["evaluations"]["b"] == {"status": "skipped"}
    assert apply_server_state(rec, "r", {"id": "abc", "status": "finished"}, "T") == []


def test_client_needs_a_url_and_says_how_to_give_it() -> None:
    from compiler.research_agent import ServerError, client_from

    with pytest.raises(ServerError, match="pass --url or set RESEARCH_AGENT_URL"):
        client_from(env={})
    with pytest.raises(ServerError, match="is not http"):
        client_from("localhost:10000", env={})
    client = client_from(env={"RESEARCH_AGENT_URL": "http://h:1/",
                              "RESEARCH_AGENT_TOKEN": "t"})
    assert (client.url, client.token) == ("http://h:1", "t")
    assert client_from("http://x:2", "flag", env={"RESEARCH_AGENT_TOKEN": "t"}).token == "flag"
