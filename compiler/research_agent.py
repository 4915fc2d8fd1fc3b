"""A compiled group on a research-agent tracking server: submit it once, keep statuses in step.

The server (hao-ai-lab/research-agent, research-agent-api.md) is what seeds 000–003 prompt
an agent to drive. :func:`submit_group` is the library of ``planc submit GROUP --tracker
research-agent`` (and of the generated ``submit_api.sh``, which only calls it);
:func:`pull_statuses` is the research-agent half of ``planc status --sync``.

Submission (the payloads ``planc compile`` wrote under ``api/``):

1. ``GET /runs?limit=1`` first: a wrong token or URL fails here and creates nothing.
2. ``POST /plans`` (``api/plan.json``), then the plan's status: ``approved`` through ``POST
   /plans/{id}/approve`` (``executing``: then ``/execute``), ``completed``/``archived`` with
   ``PATCH`` (``api/plan_update.json``; absent for a draft).
3. ``POST /sweeps/wild`` (``api/sweep.json``), then ``PUT /sweeps/{id}``
   (``api/sweep_update.json``: the parameters and the command template), which the server
   accepts only before a run joins the sweep.
4. ``POST /runs`` per ``api/runs/<run>.json`` with ``sweep_id`` set, the command prefixed
   with ``export PLANC_GROUP_DIR=<group> &&`` / ``export PLANC_PROJECT_ROOT=<root> &&`` when
   it uses them, and ``auto_start`` only for runs still pending locally. A run that is not
   pending in ``runs_status.yaml`` is created with its real state: ``POST /runs/{id}/status``
   ``finished`` (exit 0) for a completed run, ``failed`` (its exit code and reason) for a
   failed one, ``running`` for one submitted or running elsewhere (so that nobody starts it
   twice on the server).

**Idempotency.** The server has no unique key, so the ids it returns are recorded per
server URL in ``<group>/research_agent.json`` (:data:`compiler.layout.TRACKER_IDS`; atomic
write under the tracker's lock, after every object created, so a crash loses no id). A
second submission ``GET`` s each recorded id and creates only what is missing (a 404: the
object was deleted, or the server's state was reset); a run whose recorded sweep is gone is
created again in the new sweep. Recorded objects are not duplicated; a plan whose title or
markdown changed is updated in place (``PATCH``), and local states newer than the server's
are pushed (as in 4). The token is never written anywhere.

**Statuses both ways.** States are ranked pending (``ready``/``queued``) < running
(``launching``/``running``) < done (``finished``/``failed``/``stopped``), and only move
forward: :func:`pull_statuses` writes a server state that is ahead into every stage of the
run that is not yet done (``running``; ``completed`` with ``exit_code: 0``; ``failed`` with
the server's exit code and error), under the tracker's lock with an atomic write, exactly
like the SLURM sync; a local state that is ahead is pushed to the server.

**Errors.** Every failure is a :class:`ServerError` whose message names the server, the
request, the HTTP status, the server's own ``detail`` and what to do. Only the standard
library talks HTTP here (``urllib``).
"""

from __future__ import annotations

import json
import os
import shlex
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import layout, tracker
from .models.status import StageChange, iter_stages

ENV_URL = "RESEARCH_AGENT_URL"
ENV_TOKEN = "RESEARCH_AGENT_TOKEN"
IDS_VERSION = 1
JOB_PREFIX = "research-agent:"  # the tracker job id of a stage the server runs

# pushing compares a run's aggregated local state (local_state) with the server's state
_PUSH_RANK = {"pending": 0, "running": 1, "completed": 2, "failed": 2}
_RANK_SERVER = {"ready": 0, "queued": 0, "launching": 1, "running": 1,
                "finished": 2, "failed": 2, "stopped": 2}
# pulling moves stages forward only, in the SLURM sync's order (compiler.sync)
_PULL_RANK = {"pending": 0, "submitted": 1, "running": 2, "completed": 3, "failed": 3}
_DONE = ("completed", "failed", "skipped")


class ServerError(Exception):
    """The server could not be reached, refused a request or answered something unusable.

    ``status`` is the HTTP status (``None``: no answer); ``fatal`` says whether nothing could
    have been done (unreachable, unauthorized) rather than part of a submission failing."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.report: TrackerReport | None = None  # what a submission did before it failed

    @property
    def fatal(self) -> bool:
        return self.status in (None, 401, 403)


_HINTS = {
    401: "check the token: pass --token or set {env} to the value the server was started "
         "with (its RESEARCH_AGENT_USER_AUTH_TOKEN)",
    403: "check the token: pass --token or set {env} to the server's token",
    404: "the server does not have it: a different server or workdir, or it was deleted",
    409: "the server refuses to change it in its current state",
    422: "the server rejected the request body; compare api/*.json with the server's "
         "/openapi.json (planc and the server may be of different versions)",
}


def _detail(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:500]
    detail = data.get("detail") if isinstance(data, dict) else None
    if detail is None:
        return text[:500]
    return detail if isinstance(detail, str) else json.dumps(detail)[:500]


@dataclass
class Client:
    """A research-agent server at ``url`` (``http://host:port``), authenticated with
    ``token`` (the ``X-Auth-Token`` header; ``None``: the server runs without auth)."""

    url: str
    token: str | None = None
    timeout: float = 30.0

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ServerError(f"research-agent URL {self.url!r} is not http(s)://host:port; "
                              f"pass --url or set {ENV_URL}")

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Send one request; return the decoded JSON answer. Raises :class:`ServerError`."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("X-Auth-Token", self.token)
        what = f"{method} {path}"
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
            hint = _HINTS.get(status, "see the server's log" if status >= 500 else "")
            msg = (f"research-agent server at {self.url} answered {status} "
                   f"{exc.reason} to {what}: {_detail(exc.read())}")
            raise ServerError(msg + (f" ({hint.format(env=ENV_TOKEN)})" if hint else ""),
                              status) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServerError(f"cannot reach the research-agent server at {self.url} "
                              f"({reason}); start it, or pass --url / set {ENV_URL}") from None
        try:
            return json.loads(raw) if raw.strip() else None
        except ValueError:
            raise ServerError(f"research-agent server at {self.url} answered {what} with "
                              f"something that is not JSON: {raw[:200]!r}") from None

    def find(self, path: str) -> dict[str, Any] | None:
        """``GET path``, ``None`` on 404."""
        try:
            found = self.request("GET", path)
        except ServerError as exc:
            if exc.status == 404:
                return None
            raise
        return found if isinstance(found, dict) else None


def client_from(url: str | None = None, token: str | None = None,
                env: dict[str, str] | None = None) -> Client:
    """A :class:`Client` from flags, else the environment (:data:`ENV_URL`,
    :data:`ENV_TOKEN`). Raises :class:`ServerError` when no URL is given."""
    env = os.environ if env is None else env
    url = url or env.get(ENV_URL)
    if not url:
        raise ServerError(f"no research-agent server: pass --url or set {ENV_URL} "
                          "(e.g. http://127.0.0.1:10000)")
    return Client(url, token if token is not None else (env.get(ENV_TOKEN) or None))


# -- the ids file ---------------------------------------------------------------------------
def ids_path(group: Path) -> Path:
    """``<group>/research_agent.json``."""
    return group / layout.TRACKER_IDS


def read_ids(group: Path) -> dict[str, dict[str, Any]]:
    """Recorded ids per server URL: ``{url: {"plan": id, "sweep": id, "runs": {run: id}}}``
    (``{}`` when the group was never submitted; an unreadable file raises
    :class:`compiler.tracker.TrackerError`)."""
    path = ids_path(group)
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise tracker.TrackerError(f"{path}: not readable JSON ({exc})") from exc
    servers = data.get("servers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise tracker.TrackerError(f"{path}: expected {{'servers': {{url: ids}}}}")
    return servers


def _save_ids(group: Path, url: str, ids: dict[str, Any]) -> None:
    """Record ``ids`` for ``url`` (read-modify-write under the tracker's lock)."""
    with tracker.locked(layout.status_path(group)):
        servers = read_ids(group)
        servers[url] = ids
        text = json.dumps({"schema_version": IDS_VERSION, "servers": servers}, indent=2,
                          ensure_ascii=False, sort_keys=True) + "\n"
        tracker.atomic_write(ids_path(group), text.encode("utf-8"))


# -- statuses ----------------------------------------------------------------------------
def local_state(rec: dict[str, Any]) -> tuple[str, int | None, str | None]:
    """A run's state from its ``runs_status.yaml`` record: ``(status, exit code, reason)``,
    status ``pending`` | ``running`` (a stage submitted or running) | ``completed`` (every
    stage completed or skipped) | ``failed`` (a stage failed)."""
    stages = [st for _r, _k, st in iter_stages({"runs": {"r": rec}})]
    statuses = [str(st.get("status", "pending")) for st in stages]
    for st in stages:
        if st.get("status") == "failed":
            code = st.get("exit_code")
            return "failed", code if isinstance(code, int) else None, st.get("reason")
    if any(s in ("submitted", "running") for s in statuses):
        return "running", None, None
    if statuses and all(s in ("completed", "skipped") for s in statuses) and \
            "completed" in statuses:
        return "completed", 0, None
    return "pending", None, None


def _status_body(state: tuple[str, int | None, str | None]) -> dict[str, Any] | None:
    status, code, reason = state
    if status == "completed":
        return {"status": "finished", "exit_code": 0}
    if status == "failed":
        return {"status": "failed", "exit_code": code if code not in (None, 0) else 1,
                "error": reason or "failed (planc runs_status.yaml)"}
    if status == "running":
        return {"status": "running"}
    return None


Pulled = StageChange  # one stage a pull changed


def apply_server_state(rec: dict[str, Any], run: str, server: dict[str, Any],
                       stamp: str) -> list[Pulled]:
    """Write the server's state of ``run`` into its stages that are not done (forward
    only; see the module docstring). Returns the stages changed."""
    status = str(server.get("status") or "")
    if _RANK_SERVER.get(status, 0) == 0:
        return []
    run_id = str(server.get("id") or "")
    code = server.get("exit_code")
    new = {"launching": "running", "running": "running", "finished": "completed"}.get(
        status, "failed")
    out: list[Pulled] = []
    for _r, key, st in iter_stages({"runs": {run: rec}}):
        old = str(st.get("status", "pending"))
        if old in _DONE or _PULL_RANK.get(old, 0) >= _PULL_RANK[new]:
            continue
        st["status"] = new
        st["last_updated"] = stamp
        if not st.get("job_id"):
            st["job_id"] = JOB_PREFIX + run_id
        reason = None
        if new == "completed":
            st["exit_code"] = 0
            st.pop("reason", None)
        elif new == "failed":
            reason = str(server.get("error") or f"{status} on the research-agent server")
            st["reason"] = reason
            st["exit_code"] = code if isinstance(code, int) else 1
        out.append(Pulled(run, key, str(st["job_id"]), old, new, reason,
                          st.get("exit_code") if new != "running" else None))
    return out


# -- submission ----------------------------------------------------------------------------
@dataclass
class TrackerReport:
    """What a submission or a pull did on one server: objects created ``(kind, name, id)``,
    kept (recorded and found), updated ``(kind, name, what)``, statuses pushed ``(run,
    server status)``, stages pulled, and notes."""

    url: str
    created: list[tuple[str, str, str]] = field(default_factory=list)
    kept: list[tuple[str, str, str]] = field(default_factory=list)
    updated: list[tuple[str, str, str]] = field(default_factory=list)
    pushed: list[tuple[str, str]] = field(default_factory=list)
    pulled: list[Pulled] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _load_body(group: Path, rel: str) -> dict[str, Any] | None:
    path = group / rel
    try:
        body = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise tracker.TrackerError(f"{path}: not readable JSON ({exc}); compile the group "
                                   "again") from exc
    if not isinstance(body, dict):
        raise tracker.TrackerError(f"{path}: expected a JSON object")
    return body


def _run_bodies(group: Path, order: list[str]) -> dict[str, dict[str, Any]]:
    """``api/runs/<run>.json`` bodies, in the tracker's run order, then by name."""
    folder = group / layout.api_run_body("x").rsplit("/", 1)[0]
    names = sorted(p.name[: -len(".json")] for p in folder.glob("*.json"))
    ordered = [n for n in order if n in names] + [n for n in names if n not in order]
    out = {}
    for name in ordered:
        body = _load_body(group, layout.api_run_body(name))
        if body is not None:
            out[name] = body
    return out


def _prefixed(command: str, group: Path, project_root: str) -> str:
    """The command with the variables it reads exported first (the server runs it in a
    fresh shell); like ``submit_all.sh`` does for sbatch."""
    prefix = ""
    if "$PLANC_GROUP_DIR" in command:
        prefix += f"export PLANC_GROUP_DIR={shlex.quote(str(group))} && "
    if "$PLANC_PROJECT_ROOT" in command:
        prefix += f"export PLANC_PROJECT_ROOT={shlex.quote(project_root)} && "
    return prefix + command


class _Submission:
    """One submission of a group (module docstring); ids are saved after each create."""

    def __init__(self, group: Path, client: Client, project_root: str) -> None:
        self.group = group
        self.client = client
        self.project_root = project_root
        self.report = TrackerReport(client.url)
        self.ids: dict[str, Any] = dict(read_ids(group).get(client.url) or {})
        self.ids["runs"] = dict(self.ids.get("runs") or {})

    def save(self) -> None:
        _save_ids(self.group, self.client.url, self.ids)

    def existing(self, kind: str, path: str) -> dict[str, Any] | None:
        key = self.ids.get(kind)
        if not key:
            return None
        found = self.client.find(f"{path}/{key}")
        if found is None:
            self.report.notes.append(f"the recorded {kind} {key} is gone from the server; "
                                     "creating it again")
        return found

    def plan(self) -> None:
        body = _load_body(self.group, layout.API_PLAN)
        if body is None:
            raise tracker.TrackerError(f"{self.group / layout.API_PLAN} is missing; compile "
                                       "the group again")
        found = self.existing("plan", "/plans")
        if found is None:
            found = self.client.request("POST", "/plans", body)
            self.ids["plan"] = found["id"]
            self.save()
            self.report.created.append(("plan", str(body["title"]), found["id"]))
        else:
            self.report.kept.append(("plan", str(body["title"]), found["id"]))
            changed = {k: body[k] for k in ("title", "raw_markdown", "sections")
                       if body.get(k) is not None and found.get(k) != body[k]}
            if changed:
                self.client.request("PATCH", f"/plans/{found['id']}", changed)
                self.report.updated.append(("plan", str(body["title"]), ", ".join(changed)))
        self.plan_status(found)

    def plan_status(self, found: dict[str, Any]) -> None:
        update = _load_body(self.group, layout.API_PLAN_UPDATE)
        want = str((update or {}).get("status") or "draft")
        have = str(found.get("status") or "draft")
        if want == have or have != "draft":
            return  # statuses the server moved on are its own
        plan_id = found["id"]
        if want in ("approved", "executing"):
            self.client.request("POST", f"/plans/{plan_id}/approve")
            if want == "executing":
                self.client.request("POST", f"/plans/{plan_id}/execute")
        else:
            self.client.request("PATCH", f"/plans/{plan_id}", {"status": want})
        self.report.updated.append(("plan", str(found.get("title")), f"status {want}"))

    def sweep(self) -> str:
        body = _load_body(self.group, layout.API_SWEEP) or {"name": self.group.name}
        update = _load_body(self.group, layout.API_SWEEP_UPDATE)
        found = self.existing("sweep", "/sweeps")
        name = str(body.get("name"))
        if found is None:
            found = self.client.request("POST", "/sweeps/wild", body)
            self.ids["sweep"] = found["id"]
            self.save()
            self.report.created.append(("sweep", name, found["id"]))
        else:
            self.report.kept.append(("sweep", name, found["id"]))
        if update and any(found.get(k) != v for k, v in update.items()):
            if found.get("run_ids"):  # the server answers 409 once runs have joined
                self.report.notes.append(f"sweep {name} ({found['id']}) already has runs; "
                                         "its parameters on the server stay as they are")
            else:
                self.client.request("PUT", f"/sweeps/{found['id']}", update)
        return str(found["id"])

    def runs(self, sweep_id: str, data: dict[str, Any]) -> None:
        records = data.get("runs") if isinstance(data.get("runs"), dict) else {}
        for name, body in _run_bodies(self.group, list(records)).items():
            rec = records.get(name) if isinstance(records.get(name), dict) else {}
            state = local_state(rec) if rec else ("pending", None, None)
            run_id = self.ids["runs"].get(name)
            found = self.client.find(f"/runs/{run_id}") if run_id else None
            if found is not None and found.get("sweep_id") != sweep_id:
                self.report.notes.append(f"run {name} ({run_id}) is not in sweep {sweep_id}; "
                                         "creating it again")
                found = None
            elif run_id and found is None:
                self.report.notes.append(f"the recorded run {name} {run_id} is gone from the "
                                         "server; creating it again")
            if found is None:
                post = {**body, "sweep_id": sweep_id,
                        "command": _prefixed(str(body["command"]), self.group,
                                             self.project_root)}
                post["auto_start"] = bool(body.get("auto_start")) and state[0] == "pending"
                found = self.client.request("POST", "/runs", post)
                self.ids["runs"][name] = found["id"]
                self.save()
                self.report.created.append(("run", name, found["id"]))
            else:
                self.report.kept.append(("run", name, found["id"]))
            self.push(name, found, state)

    def push(self, name: str, found: dict[str, Any],
             state: tuple[str, int | None, str | None]) -> None:
        body = _status_body(state)
        server = str(found.get("status") or "ready")
        if body is None or _PUSH_RANK[state[0]] <= _RANK_SERVER.get(server, 0):
            return
        self.client.request("POST", f"/runs/{found['id']}/status", body)
        self.report.pushed.append((name, body["status"]))


def submit_group(group: Path, client: Client, project_root: str | None = None
                 ) -> TrackerReport:
    """Create the compiled group ``group`` on the server, or complete and update what an
    earlier submission created there (module docstring). ``project_root`` is exported to
    commands that use ``$PLANC_PROJECT_ROOT`` (default: that variable, else the current
    folder). Raises :class:`ServerError` (the report so far is on ``exc.report``) and
    :class:`compiler.tracker.TrackerError` (unreadable tracker, payloads or ids file;
    :class:`compiler.tracker.Busy` when another submission of the group is running)."""
    group = group.resolve()
    status_file = layout.status_path(group)
    data = tracker.read(status_file) or {}
    root = project_root or os.environ.get("PLANC_PROJECT_ROOT") or os.getcwd()
    client.request("GET", "/runs?limit=1")  # the token and URL, before creating anything
    sub = _Submission(group, client, str(Path(root).resolve()))
    with tracker.exclusive(status_file, "submit"):
        try:
            sub.plan()
            sweep_id = sub.sweep()
            sub.runs(sweep_id, data)
        except ServerError as exc:
            exc.report = sub.report
            raise
    return sub.report


def tracked_urls(group: Path) -> list[str]:
    """Server URLs the group was submitted to (from its ids file)."""
    return sorted(read_ids(group.resolve()))


def pull_statuses(group: Path, client: Client) -> TrackerReport:
    """Read the states of the group's runs on ``client``'s server back into
    ``runs_status.yaml`` (forward only, under the tracker's lock, atomic write), and push
    local states that are ahead of the server's. Raises :class:`ServerError` and
    :class:`compiler.tracker.TrackerError`."""
    group = group.resolve()
    path = layout.status_path(group)
    report = TrackerReport(client.url)
    run_ids = dict((read_ids(group).get(client.url) or {}).get("runs") or {})
    answers: dict[str, dict[str, Any]] = {}
    for name, run_id in run_ids.items():
        found = client.find(f"/runs/{run_id}")
        if found is None:
            report.notes.append(f"run {name} {run_id} is gone from {client.url}")
        else:
            answers[name] = found
    stamp = tracker.now()
    with tracker.locked(path):
        data = tracker.read(path)
        if data is None:
            raise tracker.TrackerError(f"{path} does not exist")
        runs = data.get("runs") if isinstance(data.get("runs"), dict) else {}
        for name, found in answers.items():
            rec = runs.get(name)
            if isinstance(rec, dict):
                report.pulled += apply_server_state(rec, name, found, stamp)
        if report.pulled:
            tracker.atomic_write(path, tracker.dump(data, stamp).encode("utf-8"))
    sub = _Submission(group, client, os.getcwd())
    for name, found in answers.items():
        rec = runs.get(name)
        if isinstance(rec, dict):
            sub.push(name, found, local_state(rec))
    report.pushed = sub.report.pushed
    return report
