"""Calibration from prior runs (issue 14, "Estimates"): what each finished fine-tune recorded
about itself, keyed by the settings that decide its speed, never by its folder's name.

A prior run folder is a folder holding the torchtune config the run ran with
(``finetune.yaml``, as planc writes it, formats.md §8) and the job's log
(``slurm-*.out``, or ``*.log`` of a local run). From them:

* the **key** (:class:`Key`): the model (the config's ``model._component_`` and its
  architecture kwargs, e.g. ``lora_llama3_2(num_layers=2, …)``), the hardware (``cpu`` when
  the config says ``device: cpu``; else the GPU type or partition the job's log records in
  planc's ``planc: job start …`` line, else ``unknown``), the recipe (the log's "Running
  <Recipe> with resolved config"), the world size (``SLURM_GPUS_ON_NODE``/``nproc`` from
  the log line, else 1), the precision (``dtype``), activation checkpointing
  (``enable_activation_checkpointing``) and ``tokenizer.max_seq_len``;
* the **measurements** (:class:`Observation`): seconds in the training loop (tqdm's elapsed
  per epoch, ``[MM:SS<…``), seconds saving checkpoints (torchtune 0.6.1's single-device
  recipe logs ``Checkpoint saved in X seconds.``; the distributed one ``Saving checkpoint
  took X secs``), the job's wall clock (planc's start/end lines, ``date +%s``), hence the
  fixed start-up cost (wall − loop − saves), the tokens it trained (the dataset file the
  config names, counted by :func:`count_tokens`) and so tokens/s per GPU; torchtune's own
  ``tokens_per_second_per_gpu`` (DiskLogger ``logs/log_*.txt``) is kept beside it.

**Array layout.** A compiled array group (``layout: array``) records which run each array
index is in ``array_index.tsv`` (:func:`compiler.layout.parse_array_index`). planc's array
elements redirect their output to ``<run>/slurm-<array id>_<index>.out``, read as any run's
log; what SLURM itself writes at the group level (the ``#SBATCH --output`` of
``finetune_array.slurm``: ``logs/%x_%A_%a.out``, or sbatch's default ``slurm-%A_%a.out``)
is attributed to its run by the ``%a`` index through that mapping (:func:`array_logs`) —
never by a folder's name. A group-level log that matches no fine-tuned row is not read.

Evaluation times come from inspect-ai logs (``*.eval``/``*.json`` under the run's ``eval/``
folder): ``read_eval_log(path, header_only=True)``, ``stats.completed_at −
stats.started_at``, keyed by the run's model (from its config), the task name and the
hardware (:func:`eval_label`).

The estimate uses the **median** of the observations whose key equals the planned run's
(:meth:`History.calibration`); none matching is "no calibration".
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import layout
from .backends import slurm as _slurm

try:  # PyYAML's C loader (toolchain: always present in the venv)
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

# Bytes of UTF-8 text per token when the tokenizer is not run (BPE tokenizers of the Llama
# family average ~4 bytes of English per token). Calibration and prediction count tokens
# the same way, so for one model key the constant cancels out; it only moves the point
# where ``max_seq_len`` truncates a sample.
BYTES_PER_TOKEN = 4.0
# Special tokens torchtune's chat formatting adds per sample (begin/end of text, headers).
TOKENS_PER_SAMPLE_OVERHEAD = 8

CONFIG_NAMES = (layout.FINETUNE_CONFIG,)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_EPOCH_BAR = re.compile(r"(?:^|\s)(\d+)\|\d+\|Loss.*?\[(?:(\d+):)?(\d+):(\d+)<")
_SAVED = re.compile(r"(?:Checkpoint saved in|Saving checkpoint took) ([\d.]+) sec")
_RECIPE = re.compile(r"Running (\w+) with resolved config")
_START = re.compile(r"^planc: job start (\d+)(.*)$", re.M)
_END = re.compile(r"^planc: job end (\d+)", re.M)
_KV = re.compile(r"(\w+)=(\S*)")
_STEP = re.compile(r"^Step \d+ \| (.*)$", re.M)
_CKPT = re.compile(r"(Model|Adapter) checkpoint of size ([\d.]+) GiB saved to \S*?epoch_(\d+)")
_SBATCH_CODE = re.compile(r"%(\d*)([%AajxuNnst])")  # sbatch(1) "filename pattern"
_JOB_ORDER = re.compile(r"(\d+)(?:_(\d+))?\.(?:out|log)$")
_TPS = re.compile(r"tokens_per_second_per_gpu:([\d.eE+-]+)")
_RECIPES = {
    "LoRAFinetuneRecipeSingleDevice": "lora_finetune_single_device",
    "LoRAFinetuneRecipeDistributed": "lora_finetune_distributed",
    "FullFinetuneRecipeSingleDevice": "full_finetune_single_device",
    "FullFinetuneRecipeDistributed": "full_finetune_distributed",
}
# model kwargs that do not change the architecture's cost class (LoRA settings: a rank
# changes the adapter, a small share of the work, so runs of other ranks calibrate a run)
_NOT_ARCH = {"lora_attn_modules", "apply_lora_to_mlp", "lora_rank", "lora_alpha",
             "lora_dropout", "_component_", "quantize_base", "use_dora"}


@dataclass(frozen=True)
class Key:
    """The settings that decide a fine-tune's speed (issue 14): ``model`` (builder and
    architecture), ``hardware`` (``cpu``, a GPU type, or a partition), ``recipe``,
    ``world_size`` (GPUs, or 1 on CPU), ``dtype``, ``activation_checkpointing``,
    ``max_seq_len`` (tokens)."""

    model: str
    hardware: str
    recipe: str
    world_size: int
    dtype: str
    activation_checkpointing: bool
    max_seq_len: int

    def label(self) -> str:
        """One line for READMEs and ``planc results``."""
        ac = "ac" if self.activation_checkpointing else "no-ac"
        return (f"{self.model} · {self.hardware} · {self.recipe} · ×{self.world_size} · "
                f"{self.dtype} · {ac} · seq {self.max_seq_len}")


def model_id(component: str, kwargs: Mapping[str, Any]) -> str:
    """``builder(arch kwargs)``: the model part of a :class:`Key`, the same for a run's
    config (``model:`` section) and the registry entry a plan names."""
    name = str(component).rsplit(".", 1)[-1]
    arch = sorted((k, v) for k, v in kwargs.items() if k not in _NOT_ARCH)
    return name + (f"({', '.join(f'{k}={v}' for k, v in arch)})" if arch else "")


@dataclass
class Observation:
    """One prior fine-tune: its :class:`Key` and what it measured. Seconds: ``loop_s``
    (training loop, all epochs), ``save_s`` (all checkpoint saves), ``wall_s`` (the job),
    ``startup_s`` (wall − loop − saves: imports, model load, data set-up). ``tokens`` the
    tokens it trained (all epochs; ``None`` when its data file was unreadable),
    ``epochs`` completed, ``tokens_per_s_gpu`` = tokens ÷ loop_s ÷ world size,
    ``samples`` per epoch, ``logged_tps`` torchtune's median ``tokens_per_second_per_gpu``,
    ``ckpt_gib`` GiB saved per epoch (model + adapter)."""

    path: str
    key: Key
    loop_s: float | None = None
    save_s: float = 0.0
    saves: int = 0
    wall_s: float | None = None
    epochs: int = 0
    tokens: int | None = None
    samples: int | None = None
    logged_tps: float | None = None
    ckpt_gib: float | None = None

    @property
    def tokens_per_s_gpu(self) -> float | None:
        if not self.tokens or not self.loop_s:
            return None
        return self.tokens / self.loop_s / max(1, self.key.world_size)

    @property
    def startup_s(self) -> float | None:
        if self.wall_s is None or self.loop_s is None:
            return None
        return max(0.0, self.wall_s - self.loop_s - self.save_s)

    @property
    def save_each_s(self) -> float | None:
        return self.save_s / self.saves if self.saves else None


@dataclass
class EvalObservation:
    """One inspect-ai evaluation log: task name, hardware, seconds from start to end, and
    ``model`` the evaluated run's model (:func:`model_id` of its own ``finetune.yaml``)."""

    path: str
    task: str
    hardware: str
    seconds: float
    model: str = ""


def eval_label(model: str, hardware: str, task: str) -> str:
    """The key of an evaluation estimate learned from prior inspect-ai logs (the
    ``estimate_key`` of an evaluation stage): ``evaluation · <model> · <hardware> · <task>``."""
    return f"evaluation · {model} · {hardware} · {task}"


@dataclass(frozen=True)
class Calibration:
    """Medians over the observations matching one key: ``tokens_per_s_gpu``,
    ``startup_s``, ``save_each_s`` (per saved epoch), ``tokens_per_sample`` (for a plan
    that states sample counts but no readable data file), ``ckpt_gib``; ``n``
    observations."""

    key: Key
    n: int
    tokens_per_s_gpu: float
    startup_s: float
    save_each_s: float
    tokens_per_sample: float | None = None
    ckpt_gib: float | None = None


@dataclass
class History:
    """Every observation read from prior run folders (:func:`read_history`)."""

    observations: list[Observation] = field(default_factory=list)
    evals: list[EvalObservation] = field(default_factory=list)
    _by_key: dict[Key, list[Observation]] = field(default_factory=dict, repr=False)

    def matching(self, key: Key) -> list[Observation]:
        """Observations with exactly ``key`` and a measured throughput."""
        if not self._by_key and self.observations:
            for o in self.observations:
                if o.tokens_per_s_gpu:
                    self._by_key.setdefault(o.key, []).append(o)
        return self._by_key.get(key, [])

    def calibration(self, key: Key) -> Calibration | None:
        """The medians of the observations matching ``key``; ``None`` = no calibration."""
        if key.hardware == "unknown":  # unknown hardware never vouches for a limit
            return None
        obs = self.matching(key)
        if not obs:
            return None
        tps = statistics.median(o.tokens_per_s_gpu for o in obs)  # type: ignore[type-var]
        starts = [o.startup_s for o in obs if o.startup_s is not None]
        saves = [o.save_each_s for o in obs if o.save_each_s is not None]
        per = [o.tokens / o.epochs / o.samples for o in obs
               if o.tokens and o.samples and o.epochs]
        ck = [o.ckpt_gib for o in obs if o.ckpt_gib]
        return Calibration(key, len(obs), float(tps),
                           float(statistics.median(starts)) if starts else 0.0,
                           float(statistics.median(saves)) if saves else 0.0,
                           float(statistics.median(per)) if per else None,
                           float(statistics.median(ck)) if ck else None)

    def eval_seconds(self, task: str, hardware: str, model: str | None = None
                     ) -> float | None:
        """Median seconds of prior evaluations of ``task`` on ``hardware`` (of ``model``, a
        :func:`model_id`, when given); ``None`` without any."""
        xs = [e.seconds for e in self.evals if e.task == task and e.hardware == hardware
              and (model is None or e.model == model)]
        return float(statistics.median(xs)) if xs else None


# -- tokens ------------------------------------------------------------------------------
_TOKEN_CACHE: dict[tuple[str, int, int, int, bool], tuple[int, int] | None] = {}


def _records(path: Path) -> Iterable[Any]:
    text = path.read_text("utf-8", errors="replace")
    if path.suffix == ".jsonl":
        for line in text.splitlines():
            if line.strip():
                yield json.loads(line)
        return
    data = json.loads(text)
    if isinstance(data, dict):  # cruijff_kit's {"train": [...], "validation": [...]}
        data = data.get("train", next(iter(data.values()), []))
    yield from data if isinstance(data, list) else ()


def _text_bytes(rec: Any) -> int:
    if isinstance(rec, str):
        return len(rec.encode("utf-8"))
    if isinstance(rec, Mapping):
        return sum(_text_bytes(v) for v in rec.values())
    if isinstance(rec, list):
        return sum(_text_bytes(v) for v in rec)
    return 0


def count_tokens(path: Path, max_seq_len: int, packed: bool = False
                 ) -> tuple[int, int] | None:
    """(tokens, samples) one epoch trains on the JSON/JSONL data file ``path``: per sample
    ⌈UTF-8 bytes of its text ÷ :data:`BYTES_PER_TOKEN`⌉ + :data:`TOKENS_PER_SAMPLE_OVERHEAD`,
    cut at ``max_seq_len`` (torchtune truncates); packed data fills whole packs of
    ``max_seq_len`` tokens (the last one padded). ``None`` when the file is missing or not
    JSON. Memoised per (path, size, mtime)."""
    try:
        st = path.stat()
    except OSError:
        return None
    ck = (str(path), st.st_size, st.st_mtime_ns, max_seq_len, packed)
    if ck in _TOKEN_CACHE:
        return _TOKEN_CACHE[ck]
    total = samples = 0
    result: tuple[int, int] | None
    try:
        for rec in _records(path):
            n = math.ceil(_text_bytes(rec) / BYTES_PER_TOKEN) + TOKENS_PER_SAMPLE_OVERHEAD
            total += min(n, max_seq_len) if max_seq_len > 0 else n
            samples += 1
        if total and packed and max_seq_len > 0:
            total = math.ceil(total / max_seq_len) * max_seq_len
        result = (total, samples) if samples else None
    except (OSError, ValueError):
        result = None
    _TOKEN_CACHE[ck] = result
    return result


def dataset_file(cfg: Mapping[str, Any], base: Path) -> Path | None:
    """The data file a torchtune config's ``dataset`` reads (``data_files``, else
    ``source`` when it is a file), relative paths from ``base`` (the run folder, where
    planc's scripts run ``tune``)."""
    ds = cfg.get("dataset")
    if isinstance(ds, list):
        ds = ds[0] if ds else None
    if not isinstance(ds, Mapping):
        return None
    f = ds.get("data_files") or ds.get("source")
    if isinstance(f, list):
        f = f[0] if f else None
    if not isinstance(f, str) or not f.endswith((".json", ".jsonl")):
        return None
    p = Path(f)
    return p if p.is_absolute() else base / p


# -- one run folder ----------------------------------------------------------------------
def _hardware(cfg: Mapping[str, Any], env: Mapping[str, str]) -> str:
    if str(cfg.get("device", "")).startswith("cpu"):
        return "cpu"
    return env.get("gpu") or env.get("partition") or "unknown"


def config_key(cfg: Mapping[str, Any], env: Mapping[str, str], recipe: str) -> Key:
    """The :class:`Key` of a run from its torchtune config and its log's environment."""
    model = cfg.get("model") if isinstance(cfg.get("model"), Mapping) else {}
    tok = cfg.get("tokenizer") if isinstance(cfg.get("tokenizer"), Mapping) else {}
    hardware = _hardware(cfg, env)
    try:
        world = int(env.get("gpus") or 1)
    except ValueError:
        world = 1
    return Key(model=model_id(model.get("_component_", "?"), model),  # type: ignore[union-attr]
               hardware=hardware, recipe=recipe,
               world_size=1 if hardware == "cpu" else max(1, world),
               dtype=str(cfg.get("dtype", "bf16")),
               activation_checkpointing=bool(cfg.get("enable_activation_checkpointing")),
               max_seq_len=int(tok.get("max_seq_len") or 0))  # type: ignore[union-attr]


def parse_job_seconds(text: str) -> float | None:
    """Seconds between planc's ``planc: job start <epoch>`` and ``planc: job end <epoch>``
    lines in a job's log (the last of each); ``None`` without both."""
    starts, ends = _START.findall(text), _END.findall(text)
    if not starts or not ends:
        return None
    took = int(ends[-1]) - int(starts[-1][0])
    return float(took) if took >= 0 else None


def parse_log(text: str) -> dict[str, Any]:
    """What a fine-tune's log records: ``recipe``, ``env`` (planc's start line
    ``key=value`` words), ``wall_s``, ``loop_s`` (tqdm elapsed summed over epochs),
    ``epochs``, ``save_s`` and ``saves``."""
    out: dict[str, Any] = {"env": {}}
    m = _RECIPE.search(text)
    if m:
        out["recipe"] = _RECIPES.get(m.group(1), m.group(1))
    start, end = _START.search(text), _END.search(text)
    if start:
        out["env"] = dict(_KV.findall(start.group(2)))
    if start and end:
        out["wall_s"] = float(int(end.group(1)) - int(start.group(1)))
    per_epoch: dict[str, float] = {}
    if "|Loss" in text:
        for line in re.split(r"[\r\n]", _ANSI.sub("", text)):
            for em in _EPOCH_BAR.finditer(line):
                s = int(em.group(2) or 0) * 3600 + int(em.group(3)) * 60 + int(em.group(4))
                per_epoch[em.group(1)] = max(per_epoch.get(em.group(1), 0.0), float(s))
    if per_epoch:
        out["loop_s"] = sum(per_epoch.values())
        out["epochs"] = len(per_epoch)
    ckpt: dict[str, float] = {}
    for _kind, gib, ep in _CKPT.findall(text):
        ckpt[ep] = ckpt.get(ep, 0.0) + float(gib)
    if ckpt:
        out["ckpt_gib"] = sum(ckpt.values()) / len(ckpt)
    saves = [float(x) for x in _SAVED.findall(text)]
    out["save_s"], out["saves"] = sum(saves), len(saves)
    return out


def _logged_tps(logs: Path) -> float | None:
    vals: list[float] = []
    try:
        names = [e.path for e in os.scandir(logs) if e.name.startswith("log_")]
    except OSError:
        return None
    for n in names:
        try:
            text = Path(n).read_text("utf-8", errors="replace")
        except OSError:
            continue
        vals += [float(x) for x in _TPS.findall(text)]
    return statistics.median(vals[1:] or vals) if vals else None  # step 1 holds warm-up


def _job_order(path: Path) -> tuple[int, int, str]:
    """Sort key of a log: its job (or array) id and task index as numbers, so that
    ``slurm-10.out`` comes after ``slurm-9.out``; logs without one sort first."""
    m = _JOB_ORDER.search(path.name)
    if m is None:
        return (-1, -1, path.name)
    return (int(m.group(1)), int(m.group(2) or -1), path.name)


def read_run(folder: Path, files: Iterable[str], extra_logs: Iterable[Path] = ()
             ) -> Observation | None:
    """The observation of one run folder (``files``: the names in it; ``extra_logs``: logs
    outside it attributed to it, :func:`array_logs`), or ``None`` when it has no torchtune
    config or no log with a training loop. Of several logs the newest job's with a training
    loop counts (a retry beats the failure)."""
    names = set(files)
    cfg_name = next((c for c in CONFIG_NAMES if c in names), None)
    logs = sorted([folder / n for n in names
                   if (n.startswith("slurm-") and n.endswith(".out")) or n.endswith(".log")]
                  + list(extra_logs), key=_job_order)
    if cfg_name is None or not logs:
        return None
    try:
        cfg = yaml.load((folder / cfg_name).read_text("utf-8"), Loader=_Loader)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    if not isinstance(cfg, dict):
        return None
    parsed: dict[str, Any] = {}
    for log in logs[::-1]:  # the newest job id last in sort order: a retry beats the failure
        try:
            parsed = parse_log(log.read_text("utf-8", errors="replace"))
        except OSError:
            continue
        if parsed.get("loop_s"):
            break
    if not parsed.get("loop_s"):
        return None
    key = config_key(cfg, parsed["env"], parsed.get("recipe", "?"))
    epochs = int(parsed.get("epochs") or 0)
    ds = cfg.get("dataset") if isinstance(cfg.get("dataset"), Mapping) else {}
    dfile = dataset_file(cfg, folder)
    counted = count_tokens(dfile, key.max_seq_len, bool(ds.get("packed"))) if dfile else None
    per_epoch, samples = counted if counted else (None, None)
    out = cfg.get("output_dir")
    logged = None
    if isinstance(out, str):
        od = Path(out) if Path(out).is_absolute() else folder / out
        logged = _logged_tps(od / "logs")
    return Observation(path=str(folder), key=key, loop_s=parsed["loop_s"],
                       save_s=parsed["save_s"], saves=parsed["saves"],
                       wall_s=parsed.get("wall_s"), epochs=epochs,
                       tokens=per_epoch * epochs if per_epoch else None, samples=samples,
                       logged_tps=logged, ckpt_gib=parsed.get("ckpt_gib"))


def _read_evals(folder: Path, hardware: str, model: str) -> list[EvalObservation]:
    from inspect_ai.log import read_eval_log

    out = []
    for root, _dirs, files in os.walk(folder):
        for f in sorted(files):
            if not (f.endswith(".eval") or (f.endswith(".json") and "logs" in root)):
                continue
            try:
                log = read_eval_log(os.path.join(root, f), header_only=True)
                from datetime import datetime

                a = datetime.fromisoformat(log.stats.started_at)
                b = datetime.fromisoformat(log.stats.completed_at)
            except Exception:  # noqa: BLE001 — a foreign or broken log is no observation
                continue
            out.append(EvalObservation(os.path.join(root, f), log.eval.task.split("/")[-1],
                                       hardware, (b - a).total_seconds(), model))
    return out


def _name_regex(pattern: str, job_name: str) -> re.Pattern[str] | None:
    """A regex for the file names sbatch's ``--output`` file name ``pattern`` gives array
    elements (sbatch(1) "filename pattern"): ``%a`` (task index) captured as ``a``, ``%A``
    and ``%j`` numbers, ``%x`` the job name, other codes any text. ``None`` without ``%a``:
    such a log cannot be attributed to one element."""
    parts: list[str] = []
    pos = 0
    seen_a = False
    for m in _SBATCH_CODE.finditer(pattern):
        parts.append(re.escape(pattern[pos:m.start()]))
        code = m.group(2)
        if code == "%":
            parts.append("%")
        elif code == "a":
            parts.append("(?P=a)" if seen_a else r"(?P<a>\d+)")
            seen_a = True
        elif code in "Aj":
            parts.append(r"\d+")
        elif code == "x":
            parts.append(re.escape(job_name))
        else:
            parts.append("[^/]*")
        pos = m.end()
    parts.append(re.escape(pattern[pos:]))
    return re.compile("".join(parts) + r"\Z") if seen_a else None


def array_logs(group: Path) -> dict[str, list[Path]]:
    """The fine-tune logs SLURM wrote at the level of the compiled array group ``group``,
    by the folder of the run each belongs to (``os.path.join(group, run)``).

    The file names are those ``finetune_array.slurm``'s ``#SBATCH --output`` gives (default
    ``slurm-%A_%a.out``, sbatch(1); relative to the group folder or its ``--chdir``; folders
    holding ``%x``/``%u`` expanded, others not searched); the ``%a`` index is looked up in
    ``array_index.tsv`` (:func:`compiler.layout.parse_array_index`), and only a
    ``fine-tuned`` row with a safe run name whose folder exists attributes a log. Anything
    else (an unreadable index or script, a log of another index, another array's or a
    foreign file) is left out. ``{}`` when ``group`` is not an array group."""
    try:
        rows = layout.parse_array_index(
            (group / layout.ARRAY_INDEX).read_text("utf-8", errors="replace"))
        script = group / layout.FINETUNE_ARRAY
        d = _slurm.read_directives(script.read_text("utf-8", errors="replace"))
    except OSError:
        return {}
    runs: dict[int, str] = {}
    for i, run, kind in rows:
        if kind != "fine-tuned":
            continue
        try:
            runs[i] = layout.safe_name(run)
        except layout.UnsafeName:
            continue
    pattern = d.get("output") or "slurm-%A_%a.out"
    job_name = d.get("job-name") or script.name
    workdir = group
    if d.get("chdir"):
        workdir = Path(d["chdir"]) if Path(d["chdir"]).is_absolute() else group / d["chdir"]
    head, tail = os.path.split(pattern)
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or ""
    head = head.replace("%x", job_name).replace("%u", user)
    regex = _name_regex(tail, job_name)
    if regex is None or "%" in head.replace("%%", ""):
        return {}
    where = Path(head.replace("%%", "%"))
    where = where if where.is_absolute() else workdir / where
    out: dict[str, list[Path]] = {}
    try:
        entries = list(os.scandir(where))
    except OSError:
        return {}
    for e in entries:
        m = regex.match(e.name)
        if m is None or int(m.group("a")) not in runs or not e.is_file():
            continue
        run_dir = os.path.join(str(group), runs[int(m.group("a"))])
        if os.path.isdir(run_dir):
            out.setdefault(run_dir, []).append(Path(e.path))
    return out


def read_history(folder: Path, evals: bool = True) -> History:
    """Every prior run under ``folder`` (any depth). A folder's name is never read: the
    key comes from the run's config and log (module docstring); an array group's
    group-level logs count for the runs :func:`array_logs` attributes them to. Unreadable
    files and folders without a training loop are skipped."""
    hist = History()
    if not folder.is_dir():
        return hist
    stack = [str(folder)]
    attributed: dict[str, list[Path]] = {}  # run folder → group-level array logs
    while stack:
        here = stack.pop()
        try:
            entries = list(os.scandir(here))
        except OSError:
            continue
        files = [e.name for e in entries if e.is_file()]
        if layout.ARRAY_INDEX in files:  # the group is visited before its run folders
            attributed.update(array_logs(Path(here)))
        o = read_run(Path(here), files, attributed.pop(here, ()))
        if o is not None:
            hist.observations.append(o)
            if evals and (Path(here) / "eval").is_dir():
                hist.evals += _read_evals(Path(here) / "eval", o.key.hardware,
                                         o.key.model)
        stack += sorted((e.path for e in entries if e.is_dir() and e.name != "logs"),
                        reverse=True)
    hist.observations.sort(key=lambda o: o.path)
    return hist


def mape(pairs: Iterable[tuple[float, float]]) -> float | None:
    """Median absolute percentage error of (estimate, measured) pairs, in percent
    (``|estimate − measured| ÷ measured × 100``); pairs without a positive measurement
    are left out; ``None`` without any."""
    errs = [abs(e - m) / m * 100 for e, m in pairs if m and m > 0 and e is not None]
    return float(statistics.median(errs)) if errs else None
