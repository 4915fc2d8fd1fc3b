"""Harvest results from the files runs leave behind: inspect-ai eval logs, torchtune logs,
SLURM output and ``metrics.json``; store them per group in ``results.json`` and a compact
summary in ``runs_status.yaml``.

Each ``harvest_*`` function is pure over files: it reads, never writes, and returns a plain
dict (JSON-ready: floats, ints, strings, ``None``). :func:`harvest_group` is the one writer.

Log formats and regexes: ``../shared/reference/formats.md`` §9 (torchtune 0.6.1 console and
DiskLogger lines, tqdm progress, ``/usr/bin/time -p``) and §10 (inspect-ai log objects);
``toolchain.md`` §2.5 and §3.2. Console text is prepared the way §9 says: ANSI escapes are
stripped, the text is split on ``\\r`` and ``\\n`` (tqdm redraws with ``\\r``), patterns are
searched unanchored (log lines can be glued onto a progress line or carry a logger prefix)
and the **last** match wins.

``import compiler.results`` stays light: inspect-ai (2+ s to import) is imported inside
:func:`harvest_inspect` only.

``results.json`` (schema version 1; the site reads these names)::

    {"schema_version": 1, "group": "<name>", "generated": "YYYY-MM-DD HH:MM:SS",
     "runs": {"<run>": {
        "type": "fine-tuned" | "control" | "sweep" | null,
        "training": {"final_loss", "steps", "epochs", "duration_s", "tokens_per_second",
                     "it_per_s", "peak_memory_gib", "checkpoint_gib": {"<epoch>": GiB},
                     "checkpoint_save_s", "loss_curve": [[step, loss], …], "log"} | null,
        "evaluations": {"<eval key>": {"task", "model", "status", "epoch", "samples",
                     "completed_samples", "scores": {"<scorer>": {"<metric>": value}},
                     "duration_s", "log", "error"}},
        "metrics": {"<name>": value} | null,
        "datasets": {"training": str | null, "evaluation": {"<eval key>": str}}}},
     "problems": ["<file>: <why>", …]}
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import Any

import yaml

from . import layout, tracker
from .document import compose_yaml

SCHEMA_VERSION = 1
RESULTS_FILE = layout.RESULTS_FILE
GIB = 1024**3

# formats.md §9
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
LINE_SPLIT = re.compile(r"[\r\n]+")
TQDM_SPEED = re.compile(r"([0-9]+(?:\.[0-9]+)?)(it/s|s/it)")
PROGRESS = re.compile(r"(\d+)\|(\d+)\|Loss: ([0-9.eE+-]+)")
PROGRESS_STEPS = re.compile(r"(\d+)/(\d+) \[")
RECIPE = re.compile(r"Running\s+(\S+)\s+with resolved config")
PEAK_MEMORY = re.compile(r"GPU peak memory (active|alloc(?:ation)?|reserved): ([\d.]+) GiB")
CKPT_TIME = re.compile(r"Checkpoint saved in ([\d.]+) seconds\.")
CKPT_FILE = re.compile(r"(Model|Adapter|Recipe) checkpoint of size ([\d.]+) GiB saved to (\S+)")
DISKLOG_PATH = re.compile(r"Writing logs to (\S+)")
STEP_LINE = re.compile(r"^Step (\d+) \| (.*)$")
WANDB_SUMMARY = re.compile(r"wandb: Run summary:")
WANDB_ROW = re.compile(r"^wandb:\s+(\w+)\s+(\S+)\s*$")
PAIR = re.compile(r"(\w+):(\S+)")
TIME_REAL = re.compile(r"^real\s+([\d.]+)\s*$")
EPOCH_DIR = re.compile(r"^epoch_(\d+)$")
EPOCH_KEY = re.compile(r"_epoch_(\d+)$")
JOB_EPOCH = re.compile(r"-ep(\d+)$")
# Exit codes as planc's generated scripts echo them before exiting (compiler/templates/slurm
# and local: "planc: tune run exited with 3", "planc: stage finetune exited with 0"), and the
# generic "exit code: N" form.
EXIT_CODE = re.compile(r"planc: .*?exited with (-?\d+)|exit code[:= ]\s*(-?\d+)",
                       re.IGNORECASE)
LOG_SUFFIXES = (".eval", ".json")


class HarvestError(Exception):
    """A file that should hold results cannot be read or has the wrong shape."""


# --------------------------------------------------------------------------- text helpers

def console_lines(text: str) -> list[str]:
    """Console text → lines, the way formats.md §9 prepares it: ANSI codes stripped, split
    on ``\\r`` and ``\\n``, empty pieces dropped."""
    return [line for line in LINE_SPLIT.split(ANSI.sub("", text)) if line.strip()]


def last_match(pattern: re.Pattern[str], lines: list[str]) -> re.Match[str] | None:
    """The last unanchored ``re.search`` match of ``pattern`` over ``lines`` (or ``None``)."""
    for line in reversed(lines):
        matches = list(pattern.finditer(line))
        if matches:
            return matches[-1]
    return None


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise HarvestError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def _num(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _clean(value: Any) -> Any:
    """JSON-safe value: NaN/inf → ``None``; ints stay ints."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def it_per_s(lines: list[str]) -> float | None:
    """The last tqdm speed (formats.md §9): ``2.00it/s`` → 2.0, ``1.88s/it`` → 1/1.88."""
    m = last_match(TQDM_SPEED, lines)
    if m is None:
        return None
    value = float(m.group(1))
    if m.group(2) == "s/it":
        return round(1.0 / value, 6) if value > 0 else None
    return value


# --------------------------------------------------------------------------- torchtune

def newest_disk_log(log_dir: Path) -> Path | None:
    """The newest non-empty DiskLogger file ``log_*.txt`` in ``log_dir`` (by mtime, then
    name); a run that failed after the logger started leaves an empty file (toolchain §3.2)."""
    try:
        candidates = [p for p in log_dir.glob("log_*.txt") if p.is_file() and p.stat().st_size > 0]
    except OSError:
        return None
    if not candidates:
        return None
    return max(candidates, key=lambda p: (p.stat().st_mtime, p.name))


def parse_disk_log(text: str) -> list[dict[str, float]]:
    """DiskLogger lines ``Step N | key:value …`` → one dict per step (``step`` included).

    Values that are not numbers are dropped. Source: formats.md §9 "DiskLogger line".
    """
    out: list[dict[str, float]] = []
    for line in text.splitlines():
        m = STEP_LINE.search(line.strip())
        if not m:
            continue
        row: dict[str, float] = {"step": int(m.group(1))}
        for key, raw in PAIR.findall(m.group(2)):
            value = _num(raw)
            if value is not None:
                row[key] = value
        out.append(row)
    return out


def parse_torchtune_console(text: str) -> dict[str, Any]:
    """torchtune console output (a SLURM ``.out`` or a local run's log) → facts.

    Keys: ``recipe``, ``it_per_s`` (last tqdm speed), ``epochs`` (highest progress-bar
    epoch, 1-based count), ``global_step``, ``steps_per_epoch``, ``last_loss``,
    ``peak_memory_gib`` (largest ``GPU peak memory alloc…`` value, GiB), ``peak_memory``
    (last value per kind), ``checkpoints`` (list of ``{kind, gib, path, epoch}``),
    ``checkpoint_save_s`` (list of seconds), ``disk_log`` (the ``Writing logs to`` path),
    ``progress_curve`` (``[[step, loss], …]``: the last loss the progress bar showed for
    each optimizer step), ``wandb`` (the ``wandb: Run summary:`` block as ``{key: number}``,
    the ``Run history:`` sparklines skipped). Missing facts are ``None`` (lists and dicts
    empty). Source: formats.md §9.
    """
    lines = console_lines(text)
    facts: dict[str, Any] = {"recipe": None, "it_per_s": it_per_s(lines), "epochs": None,
                             "global_step": None, "steps_per_epoch": None, "last_loss": None,
                             "peak_memory_gib": None, "peak_memory": {}, "checkpoints": [],
                             "checkpoint_save_s": [], "disk_log": None,
                             "progress_curve": [], "wandb": {}}
    if (m := last_match(RECIPE, lines)) is not None:
        facts["recipe"] = m.group(1)
    if (m := last_match(DISKLOG_PATH, lines)) is not None:
        facts["disk_log"] = m.group(1)
    if (m := last_match(PROGRESS, lines)) is not None:
        facts["global_step"] = int(m.group(2))
        facts["last_loss"] = _num(m.group(3))
    epochs: list[int] = []
    by_step: dict[int, float] = {}
    for line in lines:
        for m in PROGRESS.finditer(line):
            epochs.append(int(m.group(1)))
            loss = _num(m.group(3))
            if loss is not None:
                by_step[int(m.group(2))] = loss
    facts["epochs"] = max(epochs) if epochs else None
    facts["progress_curve"] = [[step, by_step[step]] for step in sorted(by_step)]
    summary_at = next((i for i in range(len(lines) - 1, -1, -1)
                       if WANDB_SUMMARY.search(lines[i])), None)
    if summary_at is not None:
        for line in lines[summary_at + 1:]:
            row = WANDB_ROW.match(line.strip())
            if not row:
                break
            value = _num(row.group(2))
            if value is not None:
                facts["wandb"][row.group(1)] = value
    if (m := last_match(PROGRESS_STEPS, lines)) is not None:
        facts["steps_per_epoch"] = int(m.group(2))
    alloc: list[float] = []
    for line in lines:
        for m in PEAK_MEMORY.finditer(line):
            kind = "alloc" if m.group(1).startswith("alloc") else m.group(1)
            facts["peak_memory"][kind] = float(m.group(2))
            if kind == "alloc":
                alloc.append(float(m.group(2)))
        for m in CKPT_FILE.finditer(line):
            path = m.group(3)
            epoch = next((int(e.group(1)) for part in Path(path).parts
                          if (e := EPOCH_DIR.match(part))), None)
            facts["checkpoints"].append({"kind": m.group(1).lower(), "gib": float(m.group(2)),
                                         "path": path, "epoch": epoch})
        for m in CKPT_TIME.finditer(line):
            facts["checkpoint_save_s"].append(float(m.group(1)))
    facts["peak_memory_gib"] = max(alloc) if alloc else None
    return facts


def _dir_gib(path: Path) -> float:
    total = 0
    for p in path.rglob("*"):
        try:
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
        except OSError:
            continue
    return total / GIB


def harvest_torchtune(run_output_dir: Path | str, slurm_out: Path | str | None = None,
                      log_dir: Path | str | None = None) -> dict[str, Any]:
    """Training facts of one torchtune run.

    ``run_output_dir`` is the config's ``output_dir`` (``epoch_N/`` checkpoint folders and
    ``logs/`` below it); ``log_dir`` overrides where DiskLogger files are looked for
    (``metric_logger.log_dir``, default ``<output_dir>/logs``); ``slurm_out`` is the console
    output (SLURM ``.out`` or a local log) when there is one.

    Returns the ``training`` block of ``results.json``: ``final_loss`` and ``steps`` (the
    last optimizer step and its loss, from the DiskLogger file or the progress bar,
    whichever got further: DiskLogger writes only every ``log_every_n_steps``-th step),
    ``epochs``
    (``epoch_N/`` folders, else progress-bar epochs), ``duration_s`` (``real`` of
    ``/usr/bin/time -p`` in the console output, else the DiskLogger file's mtime minus the
    unix time in its name, seconds; ``duration_source`` says which: ``"time -p"``,
    ``"disk log"``, or ``None``), ``tokens_per_second`` (last
    ``tokens_per_second_per_gpu``), ``it_per_s`` (last tqdm speed), ``peak_memory_gib``
    (GiB; ``None`` on CPU where torchtune switches memory stats off),
    ``checkpoint_gib`` (epoch → GiB: the ``epoch_N/`` folder size on disk, else the sum of
    the ``… checkpoint of size X GiB saved to …/epoch_N/…`` lines), ``checkpoint_save_s``
    (list of seconds), ``loss_curve`` (``[[step, loss], …]`` from the DiskLogger file, else
    from the progress bar: WandBLogger runs write no DiskLogger file),
    ``loss_curve_source`` (``"disk log"``, ``"progress bar"`` or ``None``), ``log`` (the
    DiskLogger file, or ``None``), ``console`` (the console file, or ``None``). Without
    DiskLogger values, ``tokens_per_second`` and ``peak_memory_gib`` come from the console's
    ``wandb: Run summary:`` block.

    Raises :class:`HarvestError` when ``slurm_out`` is given but unreadable.
    """
    out_dir = Path(run_output_dir)
    logs = Path(log_dir) if log_dir else out_dir / "logs"
    console: dict[str, Any] = {}
    slurm: dict[str, Any] = {}
    if slurm_out is not None and Path(slurm_out).is_file():
        text = _read_text(Path(slurm_out))
        console = parse_torchtune_console(text)
        slurm = parse_slurm_out(text)
    disk_log = newest_disk_log(logs)
    if disk_log is None and console.get("disk_log"):
        candidate = Path(console["disk_log"])
        if candidate.is_file() and candidate.stat().st_size > 0:
            disk_log = candidate
    rows = parse_disk_log(_read_text(disk_log)) if disk_log else []
    curve = [[int(r["step"]), _clean(r["loss"])] for r in rows if "loss" in r]
    curve_source = "disk log" if curve else None
    if not curve and console.get("progress_curve"):
        # WandBLogger runs leave no DiskLogger file; the progress bar shows every step
        curve, curve_source = console["progress_curve"], "progress bar"
    tokens = [r["tokens_per_second_per_gpu"] for r in rows if "tokens_per_second_per_gpu" in r]
    memory = [r[k] for r in rows for k in ("peak_memory_alloc",) if k in r]
    wandb = console.get("wandb") or {}
    if not tokens and "tokens_per_second_per_gpu" in wandb:
        tokens = [wandb["tokens_per_second_per_gpu"]]
    if not memory and "peak_memory_alloc" in wandb:
        memory = [wandb["peak_memory_alloc"]]

    epochs_on_disk: dict[str, float] = {}
    if out_dir.is_dir():
        for child in out_dir.iterdir():
            m = EPOCH_DIR.match(child.name)
            if m and child.is_dir():
                epochs_on_disk[m.group(1)] = round(_dir_gib(child), 4)
    ckpt_from_log: dict[str, float] = {}
    for c in console.get("checkpoints", []):
        if c["epoch"] is not None and c["kind"] != "recipe":
            key = str(c["epoch"])
            ckpt_from_log[key] = round(ckpt_from_log.get(key, 0.0) + c["gib"], 4)
    checkpoint_gib = epochs_on_disk or ckpt_from_log
    checkpoint_gib = dict(sorted(checkpoint_gib.items(), key=lambda kv: int(kv[0])))

    duration = slurm.get("real_s")
    source = "time -p" if duration is not None else None
    if duration is None and slurm.get("job_s") is not None:
        duration, source = slurm["job_s"], "job"
    if duration is None and disk_log is not None:
        stamp = re.search(r"log_(\d+)", disk_log.name)
        if stamp:
            elapsed = disk_log.stat().st_mtime - int(stamp.group(1))
            if 0 <= elapsed < 365 * 86400:
                duration, source = round(elapsed, 3), "disk log"

    # DiskLogger writes every log_every_n_steps-th step; the progress bar shows every step.
    final_loss, steps = (curve[-1][1], curve[-1][0]) if curve else (None, None)
    bar_step = console.get("global_step")
    if bar_step is not None and (steps is None or bar_step > steps):
        steps = bar_step
        if console.get("last_loss") is not None:
            final_loss = console["last_loss"]
    epochs = len(epochs_on_disk) if epochs_on_disk else console.get("epochs")
    peak = max(memory) if memory else console.get("peak_memory_gib")
    return {
        "final_loss": _clean(final_loss),
        "steps": steps,
        "epochs": epochs,
        "duration_s": duration,
        "duration_source": source,
        "tokens_per_second": _clean(tokens[-1]) if tokens else None,
        "it_per_s": console.get("it_per_s"),
        "peak_memory_gib": peak,
        "checkpoint_gib": checkpoint_gib,
        "checkpoint_save_s": console.get("checkpoint_save_s", []),
        "loss_curve": curve,
        "loss_curve_source": curve_source,
        "log": str(disk_log) if disk_log else None,
        "console": str(slurm_out) if console else None,
    }


# --------------------------------------------------------------------------- SLURM output

def parse_slurm_out(text: str) -> dict[str, Any]:
    """Console text → ``it_per_s`` (last tqdm speed), ``real_s`` (``/usr/bin/time -p``
    ``real X``, seconds; the last one), ``job_s`` (planc's ``job start``/``job end``
    lines, seconds; ``None`` without both), ``exit_code`` (the last ``planc: … exited with N``
    line the generated scripts print, or ``exit code: N``; else ``None``). Source:
    formats.md §9."""
    lines = console_lines(text)
    real = last_match(TIME_REAL, [line.strip() for line in lines])
    code = last_match(EXIT_CODE, lines)
    from .history import parse_job_seconds

    return {"it_per_s": it_per_s(lines),
            "real_s": float(real.group(1)) if real else None,
            "exit_code": int(code.group(1) or code.group(2)) if code else None,
            "job_s": parse_job_seconds(text)}


def harvest_slurm_out(path: Path | str) -> dict[str, Any]:
    """:func:`parse_slurm_out` of the file at ``path`` plus ``path``.

    Raises :class:`HarvestError` when the file cannot be read.
    """
    p = Path(path)
    return {**parse_slurm_out(_read_text(p)), "path": str(p)}


# --------------------------------------------------------------------------- metrics.json

def harvest_metrics_json(path: Path | str) -> dict[str, Any]:
    """A sweep run's ``metrics.json`` → flat ``{name: value}``.

    Nested mappings are flattened with dots (``{"eval": {"acc": 1}}`` → ``eval.acc``);
    numbers, strings, booleans and ``None`` are kept, lists of numbers too; NaN/inf become
    ``None``. Raises :class:`HarvestError` for unreadable JSON or a top level that is not
    an object.
    """
    p = Path(path)
    try:
        data = json.loads(_read_text(p))
    except json.JSONDecodeError as exc:
        raise HarvestError(f"{p}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise HarvestError(f"{p}: expected a JSON object of metrics, got {type(data).__name__}")
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, list):
            if all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
                flat[prefix] = [_clean(float(v)) if isinstance(v, float) else v for v in value]
        elif value is None or isinstance(value, bool | int | float | str):
            flat[prefix] = _clean(value)

    walk("", data)
    return flat


# --------------------------------------------------------------------------- inspect-ai

def _iso_seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    try:
        delta = dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)
    except (TypeError, ValueError):
        return None
    return round(delta.total_seconds(), 3)


def harvest_inspect(log_path: Path | str) -> dict[str, Any]:
    """One inspect-ai eval log (``.eval`` or ``.json``) → the evaluation block.

    Read with ``inspect_ai.log.read_eval_log(header_only=True)`` (Python 3.11's zipfile
    cannot open ``.eval``; toolchain.md §2.5). Keys: ``task`` (``log.eval.task``, not the
    file name), ``model``, ``status`` (``success``/``error``/``cancelled``/``started``),
    ``samples`` (``results.total_samples``, else the dataset size), ``completed_samples``
    (0 without results), ``scores`` (scorer name → metric name → value), ``headline``
    (``{"scorer", "metric", "value"}``: the first scorer's ``accuracy``, else its first
    metric), ``started``/``completed`` (ISO strings), ``duration_s`` (seconds between
    them), ``error`` (``log.error.message`` or ``None``), ``log`` (the path).
    ``epoch`` is not stored in logs; :func:`harvest_group` adds it. Source: formats.md §10.

    Raises :class:`HarvestError` when the file cannot be read as an eval log.
    """
    p = Path(log_path)
    try:
        from inspect_ai.log import read_eval_log
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise HarvestError(f"{p}: inspect-ai is not installed (pip install 'planc[eval]')") from exc
    try:
        log = read_eval_log(str(p), header_only=True)
    except Exception as exc:  # inspect raises many kinds (zip, JSON, pydantic, OS)
        raise HarvestError(f"{p}: not a readable inspect-ai log ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0] if str(exc) else ''})") from exc
    return eval_log_record(log, p)


def eval_log_record(log: Any, path: Path | str) -> dict[str, Any]:
    """The evaluation block of an already-read ``EvalLog`` (see :func:`harvest_inspect`)."""
    scores: dict[str, dict[str, Any]] = {}
    headline: dict[str, Any] | None = None
    total = completed = None
    results = getattr(log, "results", None)
    if results is not None:
        total, completed = results.total_samples, results.completed_samples
        for score in results.scores or []:
            metrics = {name: _clean(m.value) for name, m in (score.metrics or {}).items()}
            scores[score.name] = metrics
            if headline is None and metrics:
                metric = "accuracy" if "accuracy" in metrics else next(iter(metrics))
                headline = {"scorer": score.name, "metric": metric, "value": metrics[metric]}
    if total is None:
        dataset = getattr(log.eval, "dataset", None)
        total = getattr(dataset, "samples", None)
        completed = 0
    stats = getattr(log, "stats", None)
    started = getattr(stats, "started_at", None) or None
    finished = getattr(stats, "completed_at", None) or None
    error = getattr(log, "error", None)
    return {
        "task": log.eval.task,
        "model": log.eval.model,
        "status": log.status,
        "epoch": None,
        "samples": total,
        "completed_samples": completed,
        "scores": scores,
        "headline": headline,
        "started": started,
        "completed": finished,
        "duration_s": _iso_seconds(started, finished),
        "log": str(path),
        "error": error.message if error is not None else None,
    }


# --------------------------------------------------------------------------- a whole group

STATUS_FILE = layout.STATUS_FILE
JOB_NAME = re.compile(r"^#SBATCH\s+--job-name[= ](\S+)", re.MULTILINE)


def _load_yaml_mapping(path: Path) -> dict[str, Any] | None:
    try:
        _node, data = compose_yaml(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def _resolve(path_text: Any, base: Path, config: dict[str, Any] | None = None) -> Path | None:
    """A path from a compiled file or the tracker: ``${output_dir}`` interpolated (the only
    OmegaConf interpolation planc's configs use), relative paths joined to ``base``."""
    if not isinstance(path_text, str) or not path_text:
        return None
    if config and "${output_dir}" in path_text and isinstance(config.get("output_dir"), str):
        path_text = path_text.replace("${output_dir}", config["output_dir"])
    p = Path(path_text)
    return p if p.is_absolute() else base / p


def _console_file(group: Path, stage: dict[str, Any], *dirs: Path) -> Path | None:
    """The stage's console output: its ``output`` path (relative: from the group), else
    ``slurm-<job_id>.out`` in one of ``dirs`` (the stage's folder first)."""
    out = _resolve(stage.get("output"), group)
    if out is not None and out.is_file():
        return out
    job = stage.get("job_id")
    if isinstance(job, str) and job:
        for d in dirs:
            candidate = d / layout.slurm_log(job)
            if candidate.is_file():
                return candidate
    return None


def training_paths(group: Path, run: str, config: dict[str, Any] | None = None
                   ) -> tuple[Path | None, Path | None]:
    """``(output_dir, log_dir)`` of a run's fine-tune, read from its compiled
    ``<run>/finetune.yaml`` (``output_dir``, ``metric_logger.log_dir``; ``config`` is the
    already-loaded file); relative paths are taken from the run folder, where ``tune run``
    starts."""
    run_dir = layout.run_dir(group, run)
    if config is None:
        config = _load_yaml_mapping(run_dir / layout.FINETUNE_CONFIG)
    if config is None:
        return None, None
    out_dir = _resolve(config.get("output_dir"), run_dir, config)
    logger = config.get("metric_logger")
    if isinstance(logger, dict) and isinstance(config.get("output_dir"), str):
        # interpolate the output_dir as resolved, so a relative one stays under the run
        config = {**config, "output_dir": str(out_dir)}
    log_dir = _resolve(logger.get("log_dir"), run_dir, config) if isinstance(logger, dict) else None
    return out_dir, log_dir


def eval_logs(group: Path, run: str, key: str, stage: dict[str, Any]) -> list[Path]:
    """inspect-ai logs of one evaluation, oldest first: ``*.eval``/``*.json`` in
    ``<run>/eval/<key>/logs`` (the ``--log-dir`` of the compiled ``eval.slurm`` and
    ``run_local.sh``, :func:`compiler.layout.stage_dir`) and in ``logs/`` beside the
    stage's console output."""
    dirs: list[Path] = [layout.stage_dir(group, run, layout.eval_stage(key)) / layout.EVAL_LOGS]
    out = _resolve(stage.get("output"), group)
    if out is not None:
        dirs.append(out.parent / layout.EVAL_LOGS)
    seen: set[Path] = set()
    found: list[Path] = []
    for d in dirs:
        if d in seen or not d.is_dir():
            continue
        seen.add(d)
        found.extend(p for p in d.iterdir() if p.suffix in LOG_SUFFIXES and p.is_file()
                     and p.name not in layout.EVAL_SET_FILES)
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def eval_epoch(group: Path, run: str, key: str) -> int | None:
    """The epoch of an evaluation: ``<task>_epoch_<N>`` in its status key, else
    ``-ep<N>`` at the end of its compiled ``eval.slurm``'s ``--job-name`` (formats.md §8);
    ``None`` for a base-model evaluation."""
    m = EPOCH_KEY.search(key)
    if m:
        return int(m.group(1))
    script = layout.stage_script(group, run, layout.eval_stage(key))
    if script.is_file():
        try:
            name = JOB_NAME.search(script.read_text("utf-8", errors="replace"))
        except OSError:
            name = None
        if name and (ep := JOB_EPOCH.search(name.group(1))):
            return int(ep.group(1))
    return None


def _metrics_file(group: Path, run: str) -> Path | None:
    run_dir = layout.run_dir(group, run)
    direct = run_dir / layout.METRICS_FILE
    if direct.is_file():
        return direct
    if not run_dir.is_dir():
        return None
    found = [p for p in run_dir.glob(f"*/{layout.METRICS_FILE}") if p.is_file()]
    found += [p for p in run_dir.glob(f"*/*/{layout.METRICS_FILE}") if p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _job_duration(training: dict[str, Any], stage: dict[str, Any]) -> None:
    """Prefer the whole job's wall time when the console had no ``real`` line: the
    ``elapsed_s`` the local runner records on the stage beats the DiskLogger estimate
    (which misses the model setup before the logger starts)."""
    elapsed = stage.get("elapsed_s")
    if training.get("duration_source") != "time -p" and isinstance(elapsed, int | float) \
            and not isinstance(elapsed, bool) and elapsed > 0:
        training["duration_s"] = float(elapsed)
        training["duration_source"] = "job"


def datasets(group: Path, run: str, rec: dict[str, Any],
             config: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"training": str | None, "evaluation": {key: str}}``: the fine-tune's
    ``dataset.data_files`` (else ``source``) from ``<run>/finetune.yaml``, and per
    evaluation the ``data_path`` (else ``task_script``) of ``<run>/eval/<key>/eval.yaml``
    (the files ``planc compile`` writes; ``config`` is the already-loaded
    ``finetune.yaml``). Missing files give ``None``/no entry."""
    training = None
    if config is None:
        config = _load_yaml_mapping(layout.run_dir(group, run) / layout.FINETUNE_CONFIG)
    ds = config.get("dataset") if config else None
    if isinstance(ds, dict):
        value = ds.get("data_files") or ds.get("source")
        training = value if isinstance(value, str) else None
    evaluation: dict[str, str] = {}
    evals = rec.get("evaluations")
    for key in (evals if isinstance(evals, dict) else {}):
        spec = _load_yaml_mapping(layout.stage_dir(group, run, layout.eval_stage(str(key)))
                                  / layout.EVAL_CONFIG)
        value = (spec.get("data_path") or spec.get("task_script")) if spec else None
        if isinstance(value, str):
            evaluation[str(key)] = value
    return {"training": training, "evaluation": evaluation}


def _round(value: Any, digits: int = 6) -> Any:
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    return value


def compact(block: dict[str, Any], kind: str) -> dict[str, Any]:
    """The short ``results:`` summary stored on a stage in ``runs_status.yaml``."""
    if kind == "training":
        keys = ("final_loss", "steps", "epochs", "duration_s", "it_per_s",
                "tokens_per_second", "peak_memory_gib")
        return {k: _round(block.get(k)) for k in keys if block.get(k) is not None}
    if kind == "evaluation":
        out: dict[str, Any] = {"log_status": block.get("status")}
        for scorer, metrics in (block.get("scores") or {}).items():
            for metric, value in metrics.items():
                out[f"{scorer}.{metric}"] = _round(value)
        for k in ("samples", "completed_samples", "duration_s"):
            if block.get(k) is not None:
                out[k] = block[k]
        if block.get("error"):
            out["error"] = str(block["error"]).splitlines()[0][:200]
        return out
    return {k: _round(v) for k, v in list(block.items())[:20] if not isinstance(v, list)}


def harvest_group(group_dir: Path | str, *, store: bool = True) -> dict[str, Any]:
    """Harvest every run of a compiled group; write ``<group>/results.json`` and per-stage
    ``results:`` summaries in ``runs_status.yaml`` (when ``store``).

    Paths come from the compiled files and the tracker: a fine-tune's ``output_dir`` from
    ``<run>/finetune.yaml``, its console from the stage's ``output`` (else
    ``slurm-<job_id>.out`` in the run folder); evaluation logs from ``<run>/eval/<key>/logs``
    (the compiled ``--log-dir``); a sweep run's ``metrics.json`` from its run folder
    (``$PLANC_RUN_DIR`` in the compiled ``run.slurm``) or one or two levels below it.
    Unreadable files are listed under ``problems`` (never raised). Returns the results
    mapping (schema in the module docstring).

    Raises :class:`HarvestError` when ``runs_status.yaml`` is missing or unreadable.
    """
    group = Path(group_dir).resolve()
    status_path = layout.status_path(group)
    try:
        data = tracker.read(status_path)
    except tracker.TrackerError as exc:
        raise HarvestError(str(exc)) from exc
    if data is None or not isinstance(data.get("runs"), dict):
        raise HarvestError(f"{status_path}: no runs_status.yaml with runs; run `planc compile`")
    problems: list[str] = []
    runs: dict[str, Any] = {}
    for name, rec in data["runs"].items():
        if not isinstance(rec, dict):
            continue
        try:  # a tracker key such as "/abs/dir" is never read from
            layout.safe_name(name)
        except layout.UnsafeName as exc:
            problems.append(f"{status_path}: {exc}; not harvested")
            continue
        runs[str(name)] = _harvest_run(group, str(name), rec, problems)
    results = {"schema_version": SCHEMA_VERSION, "group": data.get("run_group") or group.name,
               "generated": tracker.now(), "runs": runs, "problems": problems}
    if store:
        text = json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False)
        tracker.atomic_write(group / RESULTS_FILE, (text + "\n").encode("utf-8"))
        tracker.update(status_path, lambda current: _store(current, runs))
    return results


def _harvest_run(group: Path, name: str, rec: dict[str, Any], problems: list[str]
                 ) -> dict[str, Any]:
    """One run's entry of ``results.json``: training, evaluations, metrics, datasets;
    unreadable files are appended to ``problems``."""
    config = _load_yaml_mapping(layout.run_dir(group, name) / layout.FINETUNE_CONFIG)
    entry: dict[str, Any] = {"type": rec.get("type"), "training": None,
                             "evaluations": {}, "metrics": None,
                             "datasets": datasets(group, name, rec, config or {})}
    ft = rec.get("finetune")
    if isinstance(ft, dict) and ft.get("status") != "skipped":
        entry["training"] = _harvest_training(group, name, ft, config or {}, problems)
    evals = rec.get("evaluations")
    for key, st in (evals.items() if isinstance(evals, dict) else []):
        if isinstance(st, dict):
            ev = _harvest_evaluation(group, name, str(key), st, problems)
            if ev is not None:
                entry["evaluations"][str(key)] = ev
    if isinstance(rec.get("run"), dict):
        metrics = _metrics_file(group, name)
        if metrics is not None:
            try:
                entry["metrics"] = harvest_metrics_json(metrics)
            except HarvestError as exc:
                problems.append(str(exc))
    return entry


def _harvest_training(group: Path, name: str, ft: dict[str, Any], config: dict[str, Any],
                      problems: list[str]) -> dict[str, Any] | None:
    run_dir = layout.run_dir(group, name)
    out_dir, log_dir = training_paths(group, name, config)
    console = _console_file(group, ft, run_dir, *(d for d in (out_dir,) if d))
    if (out_dir is None or not out_dir.is_dir()) and console is None:
        return None
    try:
        tr = harvest_torchtune(out_dir or run_dir, console, log_dir)
    except HarvestError as exc:
        problems.append(str(exc))
        return None
    _job_duration(tr, ft)
    return tr


def _harvest_evaluation(group: Path, name: str, key: str, st: dict[str, Any],
                        problems: list[str]) -> dict[str, Any] | None:
    logs = eval_logs(group, name, key, st)
    if not logs:
        return None
    try:
        ev = harvest_inspect(logs[-1])
    except HarvestError as exc:
        problems.append(str(exc))
        return None
    ev["epoch"] = eval_epoch(group, name, key)
    console = _console_file(group, st, layout.stage_dir(group, name, layout.eval_stage(key)))
    if console is not None:
        try:
            ev["wall_s"] = harvest_slurm_out(console)["real_s"]
        except HarvestError as exc:
            problems.append(str(exc))
    return ev


def _store(current: dict[str, Any] | None, runs: dict[str, Any]) -> dict[str, Any]:
    """Put the compact summaries into the tracker mapping; everything else stays."""
    if current is None:
        raise tracker.TrackerError("runs_status.yaml disappeared during harvest")
    for name, entry in runs.items():
        if entry.get("training"):
            tracker.set_stage(current, name, "finetune",
                              results=compact(entry["training"], "training"))
        for key, ev in entry.get("evaluations", {}).items():
            tracker.set_stage(current, name, layout.eval_stage(key),
                              results=compact(ev, "evaluation"))
        if entry.get("metrics"):
            tracker.set_stage(current, name, "run", results=compact(entry["metrics"], "metrics"))
    return current


# -- the estimate ledger (issue 14) ---------------------------------------------------------
NO_KEY = "—"  # a ledger row of stages whose tracker records no ``estimate_key``


def estimate_ledger(status: dict[str, Any]) -> list[dict[str, Any]]:
    """The estimate ledger (issue 14: "the error per key"): one row per stage kind
    (``finetune``, ``evaluation``, ``run``) and ``estimate_key`` (the key the estimate came
    from, written at compile: a fine-tune's calibration key, e.g. ``lora_llama3_2_1b · A100
    · …``; an evaluation's ``evaluation · <model> · <hardware> · <task>`` or ``no
    calibration · …``; :data:`NO_KEY` when the stage records none, as trackers compiled
    before keys did), over the stages whose tracker record holds both planc's
    ``estimate_s`` and a measured ``elapsed_s`` (written by the local runner; else the
    harvested ``results.duration_s``, a SLURM job's start-to-end from its log). Row keys:
    ``stage`` (the kind), ``key``, ``n`` pairs and ``mape`` (median absolute percentage
    error, %, :func:`compiler.history.mape`). Sorted by kind, then key. Stages missing
    either number are left out."""
    from .history import mape
    from .models.status import iter_stages

    pairs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _run, stage, st in iter_stages(status):
        e, m = st.get("estimate_s"), st.get("elapsed_s")
        if m is None and isinstance(st.get("results"), dict):
            m = st["results"].get("duration_s")  # harvested (planc results)
        if all(isinstance(x, int | float) and not isinstance(x, bool) for x in (e, m)):
            kind = "evaluation" if layout.is_eval_stage(stage) else stage
            key = st.get("estimate_key")
            key = key if isinstance(key, str) and key else NO_KEY
            pairs.setdefault((kind, key), []).append((float(e), float(m)))
    return [{"stage": k, "key": key, "n": len(v), "mape": mape(v)}
            for (k, key), v in sorted(pairs.items())]


def render_ledger(rows: list[dict[str, Any]]) -> str:
    """The ledger as a markdown table (``planc results``): stage kind, key, pairs, MAPE;
    empty without pairs."""
    if not rows:
        return ""
    out = ["", "## Estimates vs measured", "", "| stage | key | pairs | MAPE |",
           "|---|---|---|---|"]
    for r in rows:
        key = str(r["key"]).replace("|", "\\|")
        out.append(f"| {r['stage']} | {key} | {r['n']} | "
                   f"{'—' if r['mape'] is None else format(r['mape'], '.1f') + ' %'} |")
    return "\n".join(out) + "\n"
