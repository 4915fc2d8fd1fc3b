"""SLURM backend: submit with ``sbatch``, read job states with ``scontrol``/``squeue``/``sacct``.

Two halves, kept apart so that tests and ``bench/sync_bench.py`` can feed recorded text:

- **Pure parsing and mapping** (no processes): :func:`parse_keyvalue_line`,
  :func:`parse_scontrol`, :func:`parse_squeue`, :func:`parse_sacct`, :func:`map_state`,
  :func:`parse_sbatch_output`, :func:`parse_exit_code`, :func:`expand_array_spec`, and the
  ``#SBATCH`` helpers (:func:`read_directives`, :func:`expand_output_pattern`).
- **Scheduler calls** through an injectable :data:`Runner`: :func:`submit` (one ``sbatch``)
  and :func:`query` (one state query for a whole group).

Facts come from ``../shared/reference/slurm-local.md`` (§7 parseable outputs, §9 sbatch
quirks, §6 accounting) and were re-checked against slurm 22.05.8; recorded outputs live in
``tests/data/slurm/``. In particular, 22.05's ``scontrol show job`` takes **one** id (a list
is "too many arguments"; a comma list is "Invalid job id specified"), so one query for a
group is ``scontrol show job -o`` for all jobs the controller holds (or for the group's single
job/array id), filtered here. Jobs the controller purged (after ``MinJobAge``) are looked up
in ``sacct`` when accounting is on; ``squeue -t all`` is the fallback when ``scontrol``
cannot answer.

Job ids are strings: ``"4812345"``, or ``"<array id>_<task>"`` for an array element (the
form ``runs_status.yaml`` stores, formats.md §4).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# --- errors -------------------------------------------------------------------------------


class SlurmError(Exception):
    """A SLURM command could not be run or answered with an error (message says which)."""


class SubmitError(SlurmError):
    """``sbatch`` refused a job or printed no job id; nothing was submitted."""


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobRecord:
    """One job (or array element) as a scheduler query reported it.

    ``job_id`` is the tracker form (``"123"`` or ``"123_4"``); ``state`` the full state text
    (``"CANCELLED by 0"``; its first word is the state); ``exit_code`` SLURM's
    ``<code>:<signal>`` text or ``None`` when the source has none (squeue); ``stdout`` the
    expanded output path (scontrol only); ``source`` is ``scontrol``, ``squeue`` or ``sacct``.
    ``elapsed_s`` is the seconds the job has run (scontrol ``RunTime``, sacct ``Elapsed``;
    for an ended job its start to end), ``None`` when the source has none (squeue) or the job
    never started (scontrol: no ``BatchHost``; sacct: ``Elapsed`` 0 and not ``COMPLETED``).
    """

    job_id: str
    state: str
    reason: str | None = None
    exit_code: str | None = None
    stdout: str | None = None
    name: str | None = None
    partition: str | None = None
    raw_id: str | None = None
    source: str = "scontrol"
    elapsed_s: float | None = None


@dataclass(frozen=True)
class StageState:
    """A stage's tracker state derived from a job: ``status`` is one of ``submitted``,
    ``running``, ``completed``, ``failed``; ``reason`` explains a failure; ``exit_code`` is
    the job's exit status (``None`` when unknown or when a signal ended it)."""

    status: str
    reason: str | None = None
    exit_code: int | None = None


# --- scontrol -o ---------------------------------------------------------------------------

# Keys that ``scontrol show job`` prints (22.05) — used only to tell a real key from a
# ``Word=`` that happens to sit inside a free-text value such as a Comment.
KNOWN_KEYS = frozenset("""
JobId ArrayJobId ArrayTaskId ArrayTaskThrottle HetJobId HetJobOffset HetJobIdSet JobName
UserId GroupId MCS_label Priority Nice Account QOS WCKey JobState Reason Dependency Requeue
Restarts BatchFlag Reboot ExitCode DerivedExitCode RunTime TimeLimit TimeMin SubmitTime
EligibleTime AccrueTime StartTime EndTime Deadline PreemptEligibleTime PreemptTime
SuspendTime SecsPreSuspend LastSchedEval Scheduler Partition AllocNode:Sid ReqNodeList
ExcNodeList NodeList BatchHost NumNodes NumCPUs NumTasks CPUs/Task ReqB:S:C:T TRES
Socks/Node NtasksPerN:B:S:C CoreSpec MinCPUsNode MinMemoryCPU MinMemoryNode MinTmpDiskNode
Features ClusterFeatures DelayBoot OverSubscribe Contiguous Licenses Network Command WorkDir
Comment AdminComment SystemComment StdErr StdIn StdOut Power TresPerNode TresPerJob
TresPerSocket TresPerTask TresBind TresFreq CpusPerTres MemPerTres NtasksPerTRES MailUser
MailType Reservation Container ContainerID Prefer Selinux NodeFeatures Gres CPU_IDs Mem
GRES JOB_GRES Nodes Burstbuffer BurstBufferState KillOInInvalidDependent
""".split())

# Values that may contain spaces (a job name, a comment, a command line with arguments,
# paths). Inside them a ``Word=`` token starts a new pair only when Word is a known key.
FREE_TEXT_KEYS = frozenset({"JobName", "Comment", "AdminComment", "SystemComment", "Command",
                            "WorkDir", "StdOut", "StdErr", "StdIn", "Features", "Reservation"})

_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_:/]*\Z")
_NO_VAL_TASK = "4294967294"  # SLURM's NO_VAL printed for %a of an array not yet split


def parse_keyvalue_line(line: str) -> dict[str, str]:
    """``Key=Value`` pairs of one ``scontrol -o`` line, values with spaces kept whole.

    A pair starts at ``<space>Key=``; inside a free-text value (:data:`FREE_TEXT_KEYS`,
    e.g. ``Comment=a note with x=y``) only a known key (:data:`KNOWN_KEYS`) ends it. Values
    keep their inner spaces exactly and lose the separating ones at their ends. The first
    occurrence of a key wins; text before the first key is ignored.
    """
    out: dict[str, str] = {}
    key: str | None = None
    parts: list[str] = []
    for tok in line.rstrip("\r\n").split(" "):
        name, eq, value = tok.partition("=")
        if eq and (name in KNOWN_KEYS or (key not in FREE_TEXT_KEYS and _KEY.match(name))):
            if key is not None and key not in out:
                out[key] = " ".join(parts).strip(" ")
            key, parts = name, [value]
        elif key is not None:
            parts.append(tok)
    if key is not None and key not in out:
        out[key] = " ".join(parts).strip(" ")
    return out


_DURATION = re.compile(r"^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$")


def parse_duration(text: str | None) -> float | None:
    """A SLURM duration → seconds: sacct's ``Elapsed``/``Timelimit``/``TotalCPU`` and
    scontrol's ``RunTime``/``TimeLimit``, ``[D-][HH:]MM:SS[.mmm]`` (sacct(1) "Elapsed":
    ``[DD-[HH:]]MM:SS``; ``TotalCPU`` adds milliseconds): ``"1-02:03:04"`` → 93784.0,
    ``"00:00:08"`` → 8.0, ``"12:34.567"`` → 754.567. ``None`` for ``UNLIMITED``,
    ``Partition_Limit``, ``INVALID``, empty or other text."""
    m = _DURATION.match((text or "").strip())
    if not m:
        return None
    days, hours, minutes, seconds = m.groups()
    return int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)


def _none(value: str | None) -> str | None:
    if value is None or value in ("", "None", "(null)", "N/A"):
        return None
    return value


MAX_ARRAY_TASKS = 4_000_001  # SLURM's upper bound on MaxArraySize (slurm.conf(5))


def expand_array_spec(spec: str) -> list[int]:
    """Task ids of an array spec: ``"0-3"``, ``"1,3-5"``, ``"0-7:2"``, ``"[0-3%2]"``.

    A ``%N`` throttle suffix is ignored. Raises ``ValueError`` on anything else, and for more
    than :data:`MAX_ARRAY_TASKS` tasks (no SLURM array is that large).
    """
    s = spec.strip().strip("[]")
    s = s.split("%", 1)[0]
    out: list[int] = []
    for part in s.split(","):
        part = part.strip()
        if not part:
            continue
        step = 1
        if ":" in part:
            part, step_text = part.split(":", 1)
            step = int(step_text)
        if "-" in part:
            lo, hi = part.split("-", 1)
            tasks = range(int(lo), int(hi) + 1, max(step, 1))
            if len(out) + len(tasks) > MAX_ARRAY_TASKS:
                raise ValueError(f"array spec {spec!r} has more than {MAX_ARRAY_TASKS} tasks")
            out.extend(tasks)
        else:
            out.append(int(part))
        if len(out) > MAX_ARRAY_TASKS:
            raise ValueError(f"array spec {spec!r} has more than {MAX_ARRAY_TASKS} tasks")
    if not out:
        raise ValueError(f"empty array spec {spec!r}")
    return out


def _line_ids(line: str) -> tuple[str, str | None]:
    """``(JobId, ArrayJobId or None)`` of an ``scontrol -o`` line, without parsing it all."""
    end = line.find(" ", 6)
    raw = line[6:end if end > 0 else None]
    at = line.find(" ArrayJobId=")
    if at < 0:
        return raw, None
    end = line.find(" ", at + 12)
    return raw, line[at + 12:end if end > 0 else None]


def parse_scontrol(text: str, bases: set[str] | frozenset[str] | None = None
                   ) -> dict[str, JobRecord]:
    """Records of ``scontrol show job -o`` output, keyed by tracker job id.

    ``elapsed_s`` is ``RunTime`` in seconds for a job that started (``BatchHost`` set): for
    an ended job, its end minus its start (slurm.conf(5) ``MinJobAge`` keeps it there for
    300 s by default; :func:`query` asks sacct after that).

    Array elements are keyed ``<ArrayJobId>_<ArrayTaskId>``; a pending array record whose
    ``ArrayTaskId`` is still a range (``0-3%2``) yields one record per task, without an
    output path (SLURM prints ``%a`` as NO_VAL there). Lines without ``JobId`` are ignored.
    ``bases`` (job ids or array ids, without ``_<task>``) limits the result to those jobs:
    other users' lines on a shared cluster are skipped before they are parsed.
    """
    out: dict[str, JobRecord] = {}
    for line in text.splitlines():
        if not line.startswith("JobId="):
            if "JobId=" not in line:
                continue
            line = line[line.index("JobId="):]
        if bases is not None:
            raw_id, array_of = _line_ids(line)
            if raw_id not in bases and array_of not in bases:
                continue
        kv = parse_keyvalue_line(line)
        raw = kv.get("JobId")
        if not raw:
            continue
        state = kv.get("JobState", "UNKNOWN")
        reason = _none(kv.get("Reason"))
        stdout = _none(kv.get("StdOut"))
        ran = _none(kv.get("BatchHost")) is not None  # never set for a job that never started
        common = dict(state=state, reason=reason, exit_code=_none(kv.get("ExitCode")),
                      name=kv.get("JobName"), partition=_none(kv.get("Partition")),
                      source="scontrol",
                      elapsed_s=parse_duration(kv.get("RunTime")) if ran else None)
        array_id, task = _none(kv.get("ArrayJobId")), _none(kv.get("ArrayTaskId"))
        if array_id and task:
            if task.isdigit():
                jid = f"{array_id}_{task}"
                out[jid] = JobRecord(job_id=jid, raw_id=raw, stdout=stdout, **common)
            else:
                try:
                    tasks = expand_array_spec(task)
                except ValueError:
                    continue
                for t in tasks:
                    jid = f"{array_id}_{t}"
                    out.setdefault(jid, JobRecord(job_id=jid, raw_id=None, stdout=None,
                                                  **common))
        else:
            out[raw] = JobRecord(job_id=raw, raw_id=raw, stdout=stdout, **common)
    return out


# --- squeue / sacct ----------------------------------------------------------------------

SQUEUE_FORMAT = "%i|%A|%K|%j|%T|%r|%P|%b"
SACCT_FIELDS = "JobID,JobIDRaw,JobName,State,ExitCode,Reason,Elapsed"
ACCOUNTING_DISABLED = "accounting storage is disabled"


def _display_ids(display: str, task: str | None) -> list[str]:
    """Tracker ids for a display id (``12``, ``9_3``, ``19_[0-3%2]``) and task column."""
    base, _, suffix = display.partition("_")
    spec = task if task and task not in ("N/A",) else (suffix or None)
    if not spec:
        return [display]
    if spec.isdigit():
        return [f"{base}_{spec}"]
    try:
        return [f"{base}_{t}" for t in expand_array_spec(spec)]
    except ValueError:
        return []


def parse_squeue(text: str) -> dict[str, JobRecord]:
    """Records of ``squeue -h -t all -o '%i|%A|%K|%j|%T|%r|%P|%b'`` output (no exit codes).

    The job name (``%j``) may itself contain ``|``: fields are taken from both ends.
    """
    out: dict[str, JobRecord] = {}
    for line in text.splitlines():
        parts = line.rstrip("\r\n").split("|")
        if len(parts) < 8:
            continue
        display, raw, task = parts[0].strip(), parts[1].strip(), parts[2].strip()
        name = "|".join(parts[3:-4])
        state, reason, partition, _tres = parts[-4:]
        for jid in _display_ids(display, task):
            out[jid] = JobRecord(job_id=jid, state=state.strip(), reason=_none(reason.strip()),
                                 name=name, partition=_none(partition.strip()),
                                 raw_id=raw if task in ("N/A", "") or task.isdigit() else None,
                                 source="squeue")
    return out


def accounting_disabled(text: str) -> bool:
    """True when ``sacct`` printed "Slurm accounting storage is disabled" (it may exit 0)."""
    return ACCOUNTING_DISABLED in text.lower()


def parse_sacct(text: str) -> dict[str, JobRecord]:
    """Records of ``sacct -X -n -P -o JobID,JobIDRaw,JobName,State,ExitCode,Reason,Elapsed``.

    ``State`` keeps its suffix (``CANCELLED by 0``); job steps (``123.batch``) are skipped.
    ``Elapsed`` (``[D-]HH:MM:SS``, :func:`parse_duration`) becomes ``elapsed_s``, except
    ``00:00:00`` for a job that is not ``COMPLETED`` (a job cancelled before it started
    has that too; sacct(1): Elapsed is 0 until the job starts).
    """
    out: dict[str, JobRecord] = {}
    for line in text.splitlines():
        parts = line.rstrip("\r\n").split("|")
        if len(parts) < 7:
            continue
        display, raw = parts[0].strip(), parts[1].strip()
        if "." in display:
            continue
        name = "|".join(parts[2:-4])
        state, exit_code, reason, elapsed_text = parts[-4:]
        elapsed = parse_duration(elapsed_text)
        if elapsed == 0 and not state.strip().startswith("COMPLETED"):
            elapsed = None  # never started, as far as sacct can tell
        for jid in _display_ids(display, None):
            out[jid] = JobRecord(job_id=jid, state=state.strip(), reason=_none(reason.strip()),
                                 exit_code=_none(exit_code.strip()), name=name, raw_id=raw,
                                 source="sacct", elapsed_s=elapsed)
    return out


# --- state mapping -------------------------------------------------------------------------

SUBMITTED_STATES = frozenset({"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD",
                              "REQUEUE_FED", "RESV_DEL_HOLD"})
RUNNING_STATES = frozenset({"RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING",
                            "STAGE_OUT", "RESIZING"})
FAILED_STATES = frozenset({"FAILED", "TIMEOUT", "OUT_OF_MEMORY", "CANCELLED", "NODE_FAIL",
                           "PREEMPTED", "BOOT_FAIL", "DEADLINE", "REVOKED", "SPECIAL_EXIT"})
NEVER_SATISFIED = "DependencyNeverSatisfied"


def parse_exit_code(text: str | None) -> tuple[int, int] | None:
    """SLURM ``ExitCode`` ``"3:0"`` → ``(3, 0)`` (exit status, terminating signal)."""
    if not text:
        return None
    code, _, sig = text.partition(":")
    try:
        return int(code), int(sig or 0)
    except ValueError:
        return None


def _signal_name(num: int) -> str | None:
    try:
        return signal.Signals(num).name
    except ValueError:
        return None


def exit_status_text(code: int) -> str:
    """``"exit code 3"``, or for a status above 128 the signal a shell reports that way
    (bash: "the return status is 128+n" when a command is killed by signal n, bash(1), EXIT
    STATUS): ``143`` → ``"exit code 143 = 128 + 15, SIGTERM"``. sacct with accounting
    stores a cancelled batch script as ``ExitCode=143:0`` when its shell exited on the
    signal, and as ``0:15`` when the signal ended the shell itself; both name SIGTERM."""
    name = _signal_name(code - 128) if 128 < code < 192 else None
    return f"exit code {code} = 128 + {code - 128}, {name}" if name else f"exit code {code}"


def map_state(rec: JobRecord) -> StageState:
    """Tracker state of a job (formats.md §4 mapping, refined).

    PENDING/CONFIGURING (and requeue holds) → ``submitted``; RUNNING/COMPLETING (and
    suspended) → ``running``; COMPLETED → ``completed``; FAILED, TIMEOUT, OUT_OF_MEMORY,
    CANCELLED (also ``CANCELLED by <uid>``), NODE_FAIL, PREEMPTED, BOOT_FAIL, DEADLINE, and a
    job still PENDING with ``Reason=DependencyNeverSatisfied`` → ``failed`` with a reason
    and the exit status (``ExitCode=3:0`` → 3; a signal is named in the reason instead).
    Unknown states stay ``submitted`` (the job exists; nothing is known to have ended).
    """
    words = rec.state.split()
    state = words[0].rstrip("+").upper() if words else "UNKNOWN"
    codes = parse_exit_code(rec.exit_code)
    if state == "COMPLETED":
        return StageState("completed", None, codes[0] if codes else 0)
    if state in RUNNING_STATES:
        return StageState("running")
    if state in SUBMITTED_STATES and rec.reason != NEVER_SATISFIED:
        return StageState("submitted")
    if state in FAILED_STATES or rec.reason == NEVER_SATISFIED:
        text = rec.state.strip()
        if rec.reason and rec.reason != "None":
            text += f": {rec.reason}"
        exit_code: int | None = None
        if codes:
            code, sig = codes
            if sig:
                name = _signal_name(sig)
                text += f" (killed by signal {sig}{', ' + name if name else ''})"
            if code:  # 0 says nothing for a cancelled or never-started job
                exit_code = code
                text += f" ({exit_status_text(code)})"
        if rec.reason == NEVER_SATISFIED:
            text += " (a job it depends on failed; it will never run)"
        return StageState("failed", text, exit_code)
    return StageState("submitted")


# --- sbatch --------------------------------------------------------------------------------

_JOB_ID = re.compile(r"^[0-9]+$")
TRACKER_JOB_ID = re.compile(r"^[0-9]+(?:_[0-9]+)?$")
"""A SLURM id as ``runs_status.yaml`` stores it (``123`` or ``123_4``); ``planc run`` writes
``local-<pid>`` instead, which no SLURM command knows."""
_SUBMITTED = re.compile(r"Submitted batch job (\d+)")


def parse_sbatch_output(text: str) -> str:
    """The job id printed by ``sbatch --parsable`` (``<id>`` or ``<id>;<cluster>``).

    Plain ``Submitted batch job <id>`` is accepted too (formats.md §9). Raises
    :class:`SubmitError` when no valid id is present (e.g. ``sbatch -Q --parsable``).
    """
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _SUBMITTED.search(line)
        if m:
            return m.group(1)
        jid = line.split(";", 1)[0].strip()
        if _JOB_ID.match(jid):
            return jid
    raise SubmitError(f"sbatch printed no job id (output: {text.strip()[:200]!r})")


def sbatch_argv(script: str, *, dependency: str | None = None, array: str | None = None,
                extra: Sequence[str] = ()) -> list[str]:
    """``sbatch --parsable [--array=…] [--dependency=… --kill-on-invalid-dep=yes] SCRIPT``.

    ``--kill-on-invalid-dep=yes`` makes a job whose dependency can never be satisfied end as
    CANCELLED/DependencyNeverSatisfied even on clusters without ``kill_invalid_depend``, so
    the tracker can mark it failed instead of pending forever.
    """
    argv = ["sbatch", "--parsable"]
    if array:
        argv.append(f"--array={array}")
    if dependency:
        argv += [f"--dependency={dependency}", "--kill-on-invalid-dep=yes"]
    argv += list(extra)
    argv.append(script)
    return argv


# --- #SBATCH directives and output paths -----------------------------------------------------

_DIRECTIVE_OPTS = {"-o": "output", "--output": "output", "-J": "job-name",
                   "--job-name": "job-name", "-D": "chdir", "--chdir": "chdir",
                   "-e": "error", "--error": "error", "-a": "array", "--array": "array",
                   "-p": "partition", "--partition": "partition"}


def read_directives(script_text: str) -> dict[str, str]:
    """``#SBATCH`` options of a batch script: ``{"output": …, "job-name": …, "chdir": …}``.

    Parsing stops at the first line that is neither blank nor a comment, as sbatch does.
    Lines are split with :mod:`shlex`; unparsable lines are skipped.
    """
    out: dict[str, str] = {}
    for line in script_text.splitlines()[1:] if script_text.startswith("#!") else \
            script_text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        if not stripped.startswith("#SBATCH"):
            continue
        try:
            words = shlex.split(stripped[len("#SBATCH"):], comments=True)
        except ValueError:
            continue
        i = 0
        while i < len(words):
            word = words[i]
            opt, eq, val = word.partition("=")
            if opt in _DIRECTIVE_OPTS:
                if not eq and i + 1 < len(words):
                    val = words[i + 1]
                    i += 1
                out.setdefault(_DIRECTIVE_OPTS[opt], val)
            i += 1
    return out


_PATTERN = re.compile(r"%(\d*)([%AajxuNnst])")


def expand_output_pattern(pattern: str, *, job_id: str, array_id: str | None = None,
                          task: int | None = None, name: str = "", user: str = "",
                          workdir: Path | None = None) -> str | None:
    """Expand sbatch's ``--output`` pattern (sbatch(1) "filename pattern") to an absolute path.

    ``%j`` job id, ``%A`` array id, ``%a`` task id, ``%x`` job name, ``%u`` user, ``%%``;
    an optional width pads with zeros (``%3a``). Returns ``None`` when the pattern needs a
    value only known once the job runs (``%N``, ``%n``, ``%s``, ``%t``, or ``%j`` of an array
    element, whose raw id SLURM assigns later); scontrol's ``StdOut`` fills it in on sync.
    """
    unknown = False

    def sub(m: re.Match[str]) -> str:
        nonlocal unknown
        width, code = m.group(1), m.group(2)
        if code == "%":
            return "%"
        value: str | None
        if code == "j":
            value = job_id if array_id is None else None
        elif code == "A":
            value = array_id or job_id
        elif code == "a":
            value = str(task) if task is not None else _NO_VAL_TASK
        elif code == "x":
            value = name
        elif code == "u":
            value = user
        else:
            value = None
        if value is None:
            unknown = True
            return m.group(0)
        return value.zfill(int(width)) if width and value.isdigit() else value

    expanded = _PATTERN.sub(sub, pattern)
    if unknown:
        return None
    path = Path(expanded)
    if not path.is_absolute():
        path = (workdir or Path.cwd()) / path
    return os.path.normpath(str(path))


def output_path(script: Path, script_text: str, job_id: str, *, array_id: str | None = None,
                task: int | None = None) -> str | None:
    """The expanded ``slurm-<id>.out`` path a job of ``script`` writes (sbatch run in its folder).

    Uses the script's ``#SBATCH --output`` (default ``slurm-%j.out``, arrays
    ``slurm-%A_%a.out``) and ``--chdir``; ``%x`` defaults to the script's file name.
    """
    d = read_directives(script_text)
    workdir = script.parent
    if d.get("chdir"):
        chdir = Path(d["chdir"])
        workdir = chdir if chdir.is_absolute() else script.parent / chdir
    pattern = d.get("output") or ("slurm-%A_%a.out" if array_id else "slurm-%j.out")
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or ""
    return expand_output_pattern(pattern, job_id=job_id, array_id=array_id, task=task,
                                 name=d.get("job-name", script.name), user=user,
                                 workdir=workdir)


def ensure_output_dirs(script: Path, script_text: str) -> list[Path]:
    """Create the folders of the script's ``--output``/``--error`` paths (sbatch does not, and
    a job whose output cannot be opened fails at launch: FAILED/JobLaunchFailure). Patterns
    whose folder part holds a job-time value (``%j``, ``%A``, ``%N``…) are left alone.
    Returns the folders created."""
    d = read_directives(script_text)
    workdir = script.parent
    if d.get("chdir"):
        chdir = Path(d["chdir"])
        workdir = chdir if chdir.is_absolute() else script.parent / chdir
    made = []
    for key in ("output", "error"):
        pattern = d.get(key)
        if not pattern or "/" not in pattern:
            continue
        folder = os.path.dirname(pattern)
        user = os.environ.get("USER") or os.environ.get("LOGNAME") or ""
        folder = folder.replace("%x", d.get("job-name", script.name)).replace("%u", user)
        if "%" in folder.replace("%%", ""):
            continue
        path = Path(folder.replace("%%", "%"))
        path = path if path.is_absolute() else workdir / path
        if not path.is_dir():
            path.mkdir(parents=True, exist_ok=True)
            made.append(path)
    return made


# --- running commands ----------------------------------------------------------------------

Runner = Callable[..., "subprocess.CompletedProcess[str]"]
"""``runner(argv, cwd, env=None)``: runs ``argv`` in folder ``cwd`` (``None``: current) with
environment ``env`` (``None``: inherited) and returns the completed process."""


def run_command(argv: Sequence[str], cwd: Path | None = None,
                env: Mapping[str, str] | None = None,
                timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a SLURM client command, capturing text output.

    Raises :class:`SlurmError` when the program is missing or runs past ``timeout`` seconds.
    """
    try:
        return subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True,
                              env=dict(env) if env is not None else None, timeout=timeout,
                              check=False)
    except FileNotFoundError as exc:
        raise SlurmError(f"{argv[0]} not found: is this a SLURM login node?") from exc
    except subprocess.TimeoutExpired as exc:
        raise SlurmError(f"{shlex.join(argv)} did not answer within {timeout:.0f} s") from exc


def submit(script: Path, *, dependency: str | None = None, array: str | None = None,
           env: Mapping[str, str] | None = None, runner: Runner = run_command) -> str:
    """Submit ``script`` with ``sbatch --parsable`` from the script's folder; the job id.

    ``env`` is the environment sbatch runs with (and passes on to the job, sbatch's default
    ``--export=ALL``).

    The folders of the script's ``--output``/``--error`` are created first
    (:func:`ensure_output_dirs`). Raises :class:`SubmitError` with sbatch's own message when
    the job is refused (non-zero exit, e.g. "Requested node configuration is not
    available") or no id is printed.
    """
    argv = sbatch_argv(script.name, dependency=dependency, array=array)
    try:
        ensure_output_dirs(script, script.read_text("utf-8", "replace"))
    except OSError as exc:
        raise SubmitError(f"cannot create the output folder of {script}: {exc}") from exc
    proc = runner(argv, script.parent, env)
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout or "").strip() or f"exit status {proc.returncode}"
        raise SubmitError(f"sbatch refused {script}: {msg}")
    return parse_sbatch_output(proc.stdout)


@dataclass
class QueryResult:
    """What one group query found: ``records`` by tracker job id (only the ids asked for),
    ``missing`` ids no source knew, the ``commands`` run, and non-fatal ``notes``."""

    records: dict[str, JobRecord] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _base(job_id: str) -> str:
    return job_id.split("_", 1)[0]


def query(ids: Iterable[str], runner: Runner = run_command) -> QueryResult:
    """States of ``ids`` from one scheduler query (plus ``sacct`` for ids it no longer holds).

    1. ``scontrol show job -o`` — for all jobs, or for the one job/array id when the group
       has a single one — gives state, reason, exit code and the expanded ``StdOut``.
    2. If scontrol fails (other than "Invalid job id" for a purged single id),
       ``squeue -h -t all -j <ids> -o …`` gives states and reasons.
    3. Ids neither knew are asked of ``sacct`` once; "accounting storage is disabled" is
       detected from the text (sacct may exit 0 then) and reported as a note.

    Raises :class:`SlurmError` only when no query could be run at all.
    """
    wanted = sorted(set(ids))
    result = QueryResult()
    if not wanted:
        return result
    bases = sorted({_base(i) for i in wanted})
    argv = ["scontrol", "show", "job", "-o"] + (bases if len(bases) == 1 else [])
    result.commands.append(shlex.join(argv))
    found: dict[str, JobRecord] = {}
    try:
        proc = runner(argv, None)
    except SlurmError as exc:
        proc = None
        result.notes.append(str(exc))
    if proc is not None and proc.returncode == 0:
        found = parse_scontrol(proc.stdout, frozenset(bases))
    elif proc is not None and "Invalid job id" in (proc.stderr or "") and len(bases) == 1:
        found = {}
    else:
        if proc is not None:
            result.notes.append(f"scontrol failed: {(proc.stderr or '').strip()[:200]}")
        sq = ["squeue", "-h", "-t", "all", "-j", ",".join(bases), "-o", SQUEUE_FORMAT]
        result.commands.append(shlex.join(sq))
        try:
            sproc = runner(sq, None)
        except SlurmError as exc:
            first = result.notes[0] if result.notes else str(exc)
            raise SlurmError(f"cannot query SLURM: {first}") from exc
        if sproc.returncode != 0 and not sproc.stdout.strip():
            raise SlurmError(f"cannot query SLURM: {sproc.stderr.strip()[:300]}")
        found = parse_squeue(sproc.stdout)
    records = {i: found[i] for i in wanted if i in found}
    missing = [i for i in wanted if i not in records]
    if missing:
        sa = ["sacct", "-X", "-n", "-P", "-j", ",".join(missing), "-o", SACCT_FIELDS]
        result.commands.append(shlex.join(sa[:5] + [f"<{len(missing)} ids>"] + sa[6:]))
        try:
            aproc = runner(sa, None)
        except SlurmError as exc:
            aproc = None
            result.notes.append(str(exc))
        if aproc is not None:
            text = (aproc.stdout or "") + (aproc.stderr or "")
            if accounting_disabled(text):
                result.notes.append("sacct: accounting storage is disabled; jobs purged from "
                                    "the controller (MinJobAge) cannot be looked up")
            elif aproc.returncode == 0:
                acct = parse_sacct(aproc.stdout)
                records.update({i: acct[i] for i in missing if i in acct})
        missing = [i for i in wanted if i not in records]
    result.records = records
    result.missing = missing
    return result
