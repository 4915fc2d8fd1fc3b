"""Run-group models (seed 004 ``runs_plan.md`` and its front-matter form).

Two inputs describe a run group:

- **front-matter** (``kind: run-group``), typed by :class:`RunGroupFrontMatter`; field names
  borrow from the toolkit's typed ``experiment_summary.yaml``
  (``../shared/reference/formats.md`` §5). Unknown keys are errors (rule ``CM002``)::

      experiment: {name: cap_8L_lora, question: "...", date: 2025-10-18}
      variables: {model: [Llama-3.2-1B-Instruct, Llama-3.2-3B-Instruct], lora_rank: [4, 64]}
      controls: true                   # or a list of model names
      models: [{name: Llama-3.2-1B-Instruct, path: /models/Llama-3.2-1B-Instruct}, ...]
      data: {training: {path: /data/words_8L.json, format: json,
                        splits: {train: 8000, validation: 1000, test: 1000}}}
      training: {recipe: auto, epochs: 2, batch_size: {Llama-3.2-1B-Instruct: 16}, ...}
      evaluation: {tasks: [{name, script, dataset, description}], epochs: last,
                   matrix: [{run: Llama-3.2-1B-Instruct_base, tasks: [capitalization_8L]}]}
      compute: {cluster: della, partition: gpu, time: "01:00:00", mem: 80G, cpus: 4, gpus: 1,
                eval: {time: "00:15:00", mem: 32G}}
      exclude: [{levels: {model: Llama-3.2-3B-Instruct, lora_rank: 4}, reason: "..."}]
      layout: per-run                  # or array
      array_throttle: 4

- **the seed document** itself (no front-matter), parsed by
  :func:`compiler.models.rungroup_doc.parse_run_plan` (tables and bullets of seed 004's
  template).

Both normalise into one :class:`RunGroupSpec` through :func:`spec_from_document`; a missing
fact is a diagnostic (code ``RG900``, "compile-missing-fact") that names the fact and where
it belongs, and compile stops.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..diagnostics import Diagnostic, Severity
from .frontmatter import CommonFrontMatter

MISSING_CODE = "RG900"
MISSING_NAME = "compile-missing-fact"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# Values a job would crash on (batch size 0, lr NaN) or silently misuse are schema errors
# (CM003 at the value), not runs that fail on the cluster hours later.
PositiveInt = Annotated[int, Field(gt=0)]
Count = Annotated[int, Field(ge=0)]


class Experiment(_Strict):
    name: str | None = None
    question: str | None = None
    date: dt.date | dt.datetime | str | None = None
    project: str | None = None
    hypothesis: str | None = None
    purpose: str | None = None


class ModelPath(_Strict):
    name: str
    path: str | None = None


class Splits(_Strict):
    """Split sizes (counts) or the JSON field names holding each split."""

    train: Count | str | None = None
    validation: Count | str | None = None
    test: Count | str | None = None


class TrainingData(_Strict):
    path: str
    format: Literal["json", "records", "parquet", "chat"] = "json"
    """``json``: one object ``{"train": [...], "validation": [...]}`` read with ``field``;
    ``records``: a JSON list / JSONL file of rows (``split: train``); ``parquet``;
    ``chat`` (OpenAI-style ``messages``)."""
    dataset_label: str | None = None
    dataset_type: Literal["instruct_dataset", "chat_dataset", "alpaca_dataset",
                          "text_completion_dataset"] = "instruct_dataset"
    splits: Splits = Field(default_factory=Splits)


class Data(_Strict):
    training: TrainingData


class Training(_Strict):
    recipe: str = "auto"
    epochs: int = Field(default=1, ge=1)
    batch_size: PositiveInt | dict[str, PositiveInt] = 4
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    packed: bool = False
    validation: bool = False
    run_val_every_n_steps: int = Field(default=50, ge=0)
    system_prompt: str = ""
    lora_rank: int | None = Field(default=None, ge=1)
    lora_dropout: float = Field(default=0.0, ge=0, lt=1, allow_inf_nan=False)
    lr: float = Field(default=1e-4, gt=0, allow_inf_nan=False)
    weight_decay: float = Field(default=0.01, ge=0, allow_inf_nan=False)
    num_warmup_steps: int = Field(default=100, ge=0)
    seed: int = 1234
    max_seq_len: int = Field(default=2048, gt=0)
    log_every_n_steps: int = Field(default=5, ge=1)
    wandb_project: str | None = None


class EvalTaskSpec(_Strict):
    name: str
    script: str
    dataset: str | None = None
    description: str | None = None


class MatrixEntry(_Strict):
    run: str
    tasks: list[str] = Field(default_factory=list)


class Evaluation(_Strict):
    tasks: list[EvalTaskSpec] = Field(default_factory=list)
    epochs: Literal["last", "all", "best"] | list[int] = "last"
    matrix: list[MatrixEntry] | None = None
    max_connections: int | None = Field(default=None, ge=1)
    seed: int | None = None
    # inspect ``--model`` for every evaluation (e.g. ``planc/upper`` offline, ``vllm/…``);
    # default ``hf/<run>_epoch_<N>`` with ``-M model_path=<checkpoint>``.
    model: str | None = None
    model_args: dict[str, str | int | float | bool] = Field(default_factory=dict)


class EvalCompute(_Strict):
    partition: str | None = None
    time: str | None = None
    mem: str | None = None
    cpus: int | None = None
    gpus: int | None = None


class Compute(_Strict):
    cluster: str | None = None
    cluster_type: Literal["slurm", "local_gpu", "cpu_only"] | None = None
    partition: str | None = None
    time: str | None = None
    mem: str | None = None
    cpus: int | None = None
    gpus: int | None = Field(default=None, ge=0)
    # the GRES type of the GPUs (``a100``): ``--gres=gpu:<type>:<n>``; CL013 checks it
    gpu_type: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    output_dir: str | None = None
    eval: EvalCompute = Field(default_factory=EvalCompute)

    @field_validator("output_dir")
    @classmethod
    def _inside(cls, value: str | None) -> str | None:
        return check_output_dir(value)


class ExcludeEntry(_Strict):
    levels: dict[str, Any]
    reason: str | None = None


class ExplicitRun(_Strict):
    name: str | None = None
    model: str
    type: Literal["fine-tuned", "control"] = "fine-tuned"
    factors: dict[str, Any] = Field(default_factory=dict)
    lora_rank: PositiveInt | None = None
    batch_size: PositiveInt | None = None


class RunGroupFrontMatter(CommonFrontMatter):
    """The typed front-matter of a ``kind: run-group`` document (see module docstring)."""

    kind: Literal["run-group"] | None = None
    experiment: Experiment | None = None
    variables: dict[str, list[Any]] = Field(default_factory=dict)
    design: Literal["grid", "zip"] = "grid"
    controls: bool | list[str] = True
    models: list[ModelPath] = Field(default_factory=list)
    data: Data | None = None
    training: Training = Field(default_factory=Training)
    evaluation: Evaluation = Field(default_factory=Evaluation)
    compute: Compute = Field(default_factory=Compute)
    exclude: list[ExcludeEntry] = Field(default_factory=list)
    runs: list[ExplicitRun] = Field(default_factory=list)
    repeats: int | None = Field(default=None, ge=1)
    layout: Literal["per-run", "array"] = "per-run"
    array_throttle: int | None = Field(default=None, ge=1)


def check_output_dir(value: str | None) -> str | None:
    """A relative ``output_dir`` must stay inside the group (no ``..`` part): jobs would
    write checkpoints outside the folders planc manages and tracks."""
    if isinstance(value, str) and not value.startswith(("/", "~", "$")) and ".." in \
            re.split(r"[/\\]+", value):
        raise ValueError(f"relative output_dir {value!r} leaves the group folder ('..'); "
                         "give an absolute path, or a folder inside the group")
    return value


# -- the normalised spec -----------------------------------------------------------------
@dataclass
class EvalTask:
    name: str
    script: str
    dataset: str | None = None
    description: str | None = None


@dataclass
class RunGroupSpec:
    """A run group with every fact compile needs, whatever form it was written in.

    ``factors`` maps factor → levels in plan order (``model`` and ``lora_rank`` included
    when they vary); ``explicit_runs`` (seed form: the "All Runs" table) replaces the grid
    when given; ``controls`` lists the models that get a base-model control run;
    ``models`` maps model name → path (``None``: from the cluster's ``models_dir``);
    ``training`` holds the :class:`Training` fields as a dict; ``positions`` maps fact names
    (``"compute.time"``, ``"training.batch_size"``, ``"runs.<name>"`` …) to 1-based
    ``(line, column)`` in the document for rules; ``stated`` holds estimates the document
    states (``gpu_hours``, per-run ``est_time`` strings) for rule CL007.
    """

    name: str
    source: str
    created: str
    question: str | None = None
    hypothesis: str | None = None
    project: str | None = None
    factors: dict[str, list[Any]] = field(default_factory=dict)
    design: str = "grid"
    explicit_runs: list[dict[str, Any]] | None = None
    controls: list[str] = field(default_factory=list)
    models: dict[str, str | None] = field(default_factory=dict)
    data_path: str = ""
    data_format: str = "json"
    dataset_label: str | None = None
    dataset_type: str = "instruct_dataset"
    splits: dict[str, int | str | None] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    eval_tasks: list[EvalTask] = field(default_factory=list)
    eval_epochs: str | list[int] = "last"
    eval_max_connections: int | None = None
    eval_seed: int | None = None
    eval_model: str | None = None
    eval_model_args: dict[str, Any] = field(default_factory=dict)
    matrix: dict[str, list[str]] | None = None
    compute: dict[str, Any] = field(default_factory=dict)
    eval_compute: dict[str, Any] = field(default_factory=dict)
    exclude: list[tuple[dict[str, Any], str | None, tuple[int, int]]] = field(default_factory=list)
    repeats: int | None = None
    layout: str = "per-run"
    array_throttle: int | None = None
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    stated: dict[str, Any] = field(default_factory=dict)
    purpose: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def pos(self, key: str) -> tuple[int, int]:
        """The position of fact ``key`` (falling back to its parents, then line 1)."""
        while key:
            if key in self.positions:
                return self.positions[key]
            key = key.rpartition(".")[0]
        return self.positions.get("", (1, 1))


def created_stamp(value: Any) -> str:
    """A deterministic ``YYYY-MM-DD HH:MM:SS`` from a plan date, else ``SOURCE_DATE_EPOCH``
    (UTC), else ``""`` — never the clock (reproducible builds)."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d 00:00:00")
    if isinstance(value, str) and value.strip():
        text = value.strip()
        m = re.match(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?))?", text)
        if m:
            time = m.group(2) or "00:00:00"
            if len(time) == 5:
                time += ":00"
            return f"{m.group(1)} {time}"
        return text
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return ""


def _fm_pos(doc: Any, loc: tuple[Any, ...]) -> tuple[int, int]:
    from ..document import node_position

    line0, col0, _exact = node_position(doc.fm_node, loc)
    return doc.fm_line + line0 + 1, col0 + 1


def _missing(doc: Any, line: int, col: int, message: str) -> Diagnostic:
    return Diagnostic(doc.path, line, col, MISSING_CODE, Severity.ERROR, message, MISSING_NAME)


def spec_from_document(doc: Any, settings: Any = None
                       ) -> tuple[RunGroupSpec | None, list[Diagnostic]]:
    """Normalise a run-group document into a :class:`RunGroupSpec`.

    Front-matter with ``kind: run-group`` wins; otherwise the seed 004 document is read
    through ``parse_run_plan``. Returns ``(spec, [])`` or ``(None, diagnostics)``: front-
    matter schema errors (``CM003``-style messages, code ``RG900``) and every missing fact
    (model paths, dataset path, evaluation tasks, epochs …), each located in the document.
    """
    fm = doc.front_matter
    if isinstance(fm, dict) and fm and ("experiment" in fm or "variables" in fm
                                        or "runs" in fm or "data" in fm
                                        or (fm.get("kind") == "run-group"
                                            and not _has_seed_title(doc))):
        return _from_front_matter(doc, fm)
    return _from_seed(doc)  # seed 004's document; its front-matter may add compute/layout


def _has_seed_title(doc: Any) -> bool:
    return any(line.startswith("# Run Plan:") for line in doc.text.splitlines())


def _from_front_matter(doc: Any, fm: dict[str, Any]
                       ) -> tuple[RunGroupSpec | None, list[Diagnostic]]:
    from ..document import data_path

    diags: list[Diagnostic] = []
    try:
        model = RunGroupFrontMatter.model_validate(fm)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = data_path(fm, tuple(err["loc"]))
            line, col = _fm_pos(doc, loc)
            dotted = ".".join(str(s) for s in err["loc"])
            diags.append(_missing(doc, line, col, f"front-matter {dotted}: {err['msg']}"))
        return None, diags
    pos: dict[str, tuple[int, int]] = {"": (max(1, doc.fm_line), 1)}

    def p(*loc: Any) -> tuple[int, int]:
        return _fm_pos(doc, loc)

    for top in ("experiment", "variables", "models", "data", "training", "evaluation",
                "compute", "exclude", "controls", "runs", "created", "array_throttle",
                "layout", "repeats"):
        if top in fm:
            pos[top] = p(top)
    for sect in ("training", "compute", "evaluation"):
        if isinstance(fm.get(sect), dict):
            for key in fm[sect]:
                pos[f"{sect}.{key}"] = p(sect, key)
    if isinstance(fm.get("compute"), dict) and isinstance(fm["compute"].get("eval"), dict):
        for key in fm["compute"]["eval"]:
            pos[f"compute.eval.{key}"] = p("compute", "eval", key)
    exp = model.experiment or Experiment()
    name = exp.name or model.id or model.title
    if not name:
        line, col = p("experiment")
        diags.append(_missing(doc, line, col, "run group has no name: set experiment.name"))
    if model.data is None:
        diags.append(_missing(doc, *pos[""], "run group has no training data: set "
                              "data.training.path (and splits)"))
    factors = {k: list(v) for k, v in model.variables.items()}
    for fname, levels in factors.items():
        pos[f"variables.{fname}"] = p("variables", fname)
        if not levels:
            diags.append(_missing(doc, *p("variables", fname), f"factor {fname!r} has no levels"))
    model_names: list[str] = []
    if "model" in factors:
        model_names = [str(m) for m in factors["model"]]
    for r in model.runs:
        if r.model not in model_names:
            model_names.append(r.model)
    for m in model.models:
        if m.name not in model_names and "model" not in factors:
            model_names.append(m.name)
    if not model_names:
        diags.append(_missing(doc, *pos.get("variables", pos[""]),
                              "no model: list models under models (or as the factor 'model')"))
    paths = {m.name: m.path for m in model.models}
    for i, m in enumerate(model.models):
        pos[f"models.{m.name}"] = p("models", i)
    models = {n: paths.get(n) for n in model_names}
    if isinstance(model.controls, bool):
        controls = list(model_names) if model.controls else []
    else:
        controls = list(model.controls)
    if not model.evaluation.tasks:
        diags.append(_missing(doc, *pos.get("evaluation", pos[""]),
                              "no evaluation tasks: list them under evaluation.tasks"))
    training = model.training.model_dump()
    if "lora_rank" not in factors and training["lora_rank"] is None and not any(
            r.lora_rank for r in model.runs):
        diags.append(_missing(doc, *pos.get("training", pos[""]),
                              "LoRA rank not stated: set training.lora_rank or make lora_rank "
                              "a factor"))
    if diags:
        return None, diags
    for i in range(len(model.exclude)):
        pos[f"exclude.{i}"] = p("exclude", i)
    spec = RunGroupSpec(
        name=str(name),
        source=doc.path,
        created=created_stamp(exp.date if exp.date is not None else model.created),
        question=exp.question,
        hypothesis=exp.hypothesis,
        project=exp.project,
        purpose=exp.purpose,
        meta=_meta(model, ignore_created=exp.date is not None),
        factors=factors,
        design=model.design,
        explicit_runs=[r.model_dump() for r in model.runs] or None,
        controls=controls,
        models=models,
        data_path=model.data.training.path if model.data else "",
        data_format=model.data.training.format if model.data else "json",
        dataset_label=model.data.training.dataset_label if model.data else None,
        dataset_type=model.data.training.dataset_type if model.data else "instruct_dataset",
        splits=model.data.training.splits.model_dump() if model.data else {},
        training=training,
        eval_tasks=[EvalTask(t.name, t.script, t.dataset, t.description)
                    for t in model.evaluation.tasks],
        eval_epochs=model.evaluation.epochs,
        eval_max_connections=model.evaluation.max_connections,
        eval_seed=model.evaluation.seed,
        eval_model=model.evaluation.model,
        eval_model_args=dict(model.evaluation.model_args),
        matrix=({e.run: list(e.tasks) for e in model.evaluation.matrix}
                if model.evaluation.matrix is not None else None),
        compute=model.compute.model_dump(exclude={"eval"}),
        eval_compute=model.compute.eval.model_dump(),
        exclude=[(dict(e.levels), e.reason, pos[f"exclude.{i}"])
                 for i, e in enumerate(model.exclude)],
        repeats=model.repeats,
        layout=model.layout,
        array_throttle=model.array_throttle,
        positions=pos,
    )
    return spec, []


# -- seed form -----------------------------------------------------------------------------
def _val(x: Any) -> Any:
    """The value of a ``Located`` (``.value``) or the object itself."""
    return getattr(x, "value", x)


def _line(x: Any, default: int = 1) -> int:
    line = getattr(x, "line", None)
    return int(line) if isinstance(line, int) and line > 0 else default


def _from_seed(doc: Any) -> tuple[RunGroupSpec | None, list[Diagnostic]]:
    from .rungroup_doc import parse_run_plan

    return spec_from_run_plan(parse_run_plan(doc), doc)


def spec_from_run_plan(rp: Any, doc: Any) -> tuple[RunGroupSpec | None, list[Diagnostic]]:
    """Normalise a parsed seed 004 ``runs_plan.md`` (``RunPlanDoc``) into a spec.

    Facts and where the seed keeps them: runs (``## All Runs`` table; run names are taken
    as written), factors (``## Variables``), model paths (``### Models`` → Models Used, or
    Location + model name), dataset path and splits (``### Dataset``), tasks and matrix
    (``## Evaluations``), epochs, packing, validation, gradient accumulation, system prompt,
    recipe and GPUs per job (``## Configuration`` bullets). Each missing fact is an
    ``RG900`` diagnostic naming the section it belongs in.
    """
    from .rungroup_doc import parse_bool, parse_int, parse_recipe

    diags: list[Diagnostic] = []
    title_line = int(getattr(rp, "title_line", 0) or 1)
    pos: dict[str, tuple[int, int]] = {"": (title_line, 1)}
    name = _val(getattr(rp, "name", None))
    if not name:
        diags.append(_missing(doc, 1, 1, "no run group name: the first heading must be "
                              "'# Run Plan: <run_group_name>'"))
    config = dict(getattr(rp, "config", {}) or {})

    def cfg(key: str) -> str | None:
        v = config.get(key)
        if v is None:
            return None
        pos[f"config.{key}"] = (_line(v), int(getattr(v, "column", 1) or 1))
        return str(_val(v))

    for key, fact in (("recipe", "training.recipe"), ("epochs", "training.epochs"),
                      ("batch sizes", "training.batch_size"), ("gpus per job", "compute.gpus")):
        if cfg(key) is not None:
            pos[fact] = pos[f"config.{key}"]
    runs_rows = list(getattr(rp, "runs", []) or [])
    runs_line = int(getattr(rp, "runs_line", 0) or title_line)
    if not runs_rows:
        diags.append(_missing(doc, title_line, 1, "no runs: add the '## All Runs' table "
                              "(| Run Name | Model | LoRA Rank | Batch Size | Type | Est. Time |)"))
    epochs_text = cfg("epochs")
    epochs = parse_int(epochs_text) if epochs_text is not None else None
    if epochs is None:
        diags.append(_missing(doc, title_line, 1, "epochs not stated: add '- **Epochs**: N' "
                              "under ## Configuration"))
    models_used = dict(getattr(rp, "models_used", {}) or {})
    models_location = _val(getattr(rp, "models_location", None))
    explicit: list[dict[str, Any]] = []
    models: dict[str, str | None] = {}
    controls: list[str] = []
    stated: dict[str, Any] = {"est_time": {}}
    for row in runs_rows:
        rname = str(row.name).strip("` ")
        model = str(row.model or "").strip("` ")
        line = int(row.line)
        pos[f"runs.{rname}"] = (line, doc.col_of(line, rname) if rname else 1)
        is_control = str(row.type).startswith(("control", "base"))
        full_model = _resolve_model_name(model, rname, list(models_used))
        if full_model is None:
            diags.append(_missing(doc, line, 1, f"run {rname}: model {model!r} is not one of "
                                  "the 'Models Used' under ### Models"))
            continue
        if full_model not in models:
            loc = models_used.get(full_model)
            path = _val(loc) if loc is not None else None
            if path is None and models_location:
                path = f"{str(models_location).rstrip('/')}/{full_model}"
            models[full_model] = str(path).strip("` ") if path else None
            if loc is not None:
                pos[f"models.{full_model}"] = (_line(loc, line), int(getattr(loc, "column", 1)))
        if is_control:
            controls.append(full_model)
            explicit.append({"name": rname, "model": full_model, "type": "control",
                             "factors": {}, "lora_rank": None, "batch_size": None})
            continue
        if row.lora_rank is None:
            diags.append(_missing(doc, line, 1, f"run {rname}: LoRA rank missing in the "
                                  "All Runs table"))
        if row.batch_size is None:
            diags.append(_missing(doc, line, 1, f"run {rname}: batch size missing in the "
                                  "All Runs table"))
        explicit.append({"name": rname, "model": full_model, "type": "fine-tuned",
                         "factors": {"model": full_model, "lora_rank": row.lora_rank},
                         "lora_rank": row.lora_rank,
                         "batch_size": row.batch_size})
        if getattr(row, "est_time", None):
            stated["est_time"][rname] = (str(row.est_time), line)
    for m, path in models.items():
        if not path:
            diags.append(_missing(doc, runs_line, 1, f"no path for model {m}: list it under "
                                  "### Models → Models Used"))
    data_loc = getattr(rp, "dataset_path", None)
    data_path = _val(data_loc)
    if not data_path:
        diags.append(_missing(doc, title_line, 1, "dataset path not stated: add "
                              "'- **Path**: `…`' under ### Dataset"))
    splits_raw = getattr(rp, "dataset_splits", None) or {}
    splits = {str(k).lower(): (int(v) if isinstance(v, int) else None)
              for k, v in dict(splits_raw).items()}
    tasks = []
    for t in getattr(rp, "eval_tasks", []) or []:
        dataset = str(t.dataset or "").strip("` ")
        tasks.append(EvalTask(str(t.name).strip("` "), str(t.script).strip("` "),
                              dataset if dataset and dataset.lower() not in (
                                  "same as training", "-") else None,
                              t.description or None))
        pos[f"tasks.{t.name}"] = (int(t.line), 1)
    if not tasks:
        diags.append(_missing(doc, title_line, 1, "no evaluation tasks: add the "
                              "'### Evaluation Tasks' table"))
    matrix_rows = getattr(rp, "matrix", None) or []
    matrix = None
    if matrix_rows:
        matrix = {str(r.run).strip("` "): [t for t, on in dict(r.tasks).items() if on]
                  for r in matrix_rows}
        pos["evaluation.matrix"] = (int(getattr(rp, "matrix_line", 0) or title_line), 1)
    batch_map = {e["model"]: e["batch_size"] for e in explicit if e["batch_size"]}
    gpus = parse_int(cfg("gpus per job") or "") or 1
    recipe = parse_recipe(cfg("recipe") or "") or "auto"
    validation = parse_bool(cfg("validation during training") or "")
    packed = parse_bool(cfg("dataset packing") or "")
    grad = parse_int(cfg("gradient accumulation") or "") or 1
    sys_prompt = cfg("system prompt")
    if sys_prompt is not None:
        m = re.search(r'"([^"]*)"', sys_prompt)
        sys_prompt = m.group(1) if m else ""
    fe = getattr(rp, "finetuned_epochs", None)
    if fe is not None:
        pos["evaluation.epochs"] = (_line(fe), int(getattr(fe, "column", 1) or 1))
    eval_sel: str | list[int] = "last"
    if fe is not None and "best" in str(_val(fe)).lower():
        eval_sel = "best"
    elif fe is not None and getattr(rp, "eval_epoch_list", None):
        chosen = rp.eval_epoch_list
        # "all epochs" is a range; a long one stays lazy as "all" (same epochs when the
        # epoch count is not a factor), so expansion counts it against max_runs first
        eval_sel = "all" if isinstance(chosen, range) and len(chosen) > 1000 else list(chosen)
    gh = getattr(getattr(rp, "estimates", None), "total_gpu_hours", None)
    if gh is not None:
        stated["gpu_hours"] = (float(_val(gh)), _line(gh), int(getattr(gh, "column", 1)))
    # the training speeds the document states ("speed=0.8 it/s") are estimate inputs
    stated["it_s"] = {}
    for me in getattr(getattr(rp, "estimates", None), "models", None) or []:
        full = _resolve_model_name(str(me.model or ""), "", list(models)) if me.model else None
        if full and me.its:
            stated["it_s"][full] = float(me.its)
    if diags:
        return None, diags
    try:
        training = Training(
            recipe=recipe,
            epochs=epochs or 1,
            batch_size=batch_map or 4,
            gradient_accumulation_steps=grad,
            packed=bool(packed),
            validation=bool(validation),
            system_prompt=sys_prompt or "",
        ).model_dump()
    except ValidationError as exc:  # e.g. a negative batch size in the All Runs table
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        return None, [_missing(doc, title_line, 1, f"invalid Configuration value {where}: "
                               f"{err['msg']}")]
    factors = {}
    for f in getattr(rp, "variables", []) or []:
        factors[str(f.name)] = list(f.levels or [])
        pos[f"variables.{f.name}"] = (int(f.line), 1)
    pos.setdefault("variables", (runs_line, 1))
    overview = getattr(rp, "overview", None) or {}
    created = next((_val(v) for k, v in overview.items() if str(k).lower() == "created"), None)
    spec = RunGroupSpec(
        name=str(name),
        source=doc.path,
        created=created_stamp(created),
        factors=factors,
        explicit_runs=explicit,
        controls=controls,
        models=models,
        data_path=str(data_path).strip("` "),
        splits=splits,
        training=training,
        eval_tasks=tasks,
        eval_epochs=eval_sel,
        matrix=matrix,
        compute={"gpus": gpus, **_seed_front_matter(doc, pos)},
        layout=_fm_value(doc, "layout") or "per-run",
        array_throttle=_fm_value(doc, "array_throttle"),
        meta=_seed_meta(doc),
        positions=pos,
        stated=stated,
    )
    return spec, []


def _meta(model: Any, ignore_created: bool = False) -> dict[str, Any]:
    """Front-matter metadata (``CommonFrontMatter`` fields) as strings for the README."""
    out: dict[str, Any] = {}
    for key in ("title", "id", "description", "author", "created", "updated", "status"):
        value = getattr(model, key, None)
        if value is not None and not (key == "created" and ignore_created):
            out[key] = str(value)
    if getattr(model, "tags", None):
        out["tags"] = tuple(str(t) for t in model.tags)
    return out


def _seed_meta(doc: Any) -> dict[str, Any]:
    fm = doc.front_matter if isinstance(doc.front_matter, dict) else {}
    out: dict[str, Any] = {k: str(fm[k]) for k in ("title", "id", "description", "author",
                                                    "created", "updated", "status")
                           if fm.get(k) is not None}
    if isinstance(fm.get("tags"), list) and fm["tags"]:
        out["tags"] = tuple(str(t) for t in fm["tags"])
    return out


def _fm_value(doc: Any, key: str) -> Any:
    fm = doc.front_matter
    return fm.get(key) if isinstance(fm, dict) else None


def _seed_front_matter(doc: Any, pos: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """Compute settings a seed-form ``runs_plan.md`` states in its front-matter
    (``compute: {cluster, cluster_type, partition, time, mem, cpus, output_dir}``); the
    document's own "GPUs per job" wins for ``gpus``."""
    compute = _fm_value(doc, "compute")
    if not isinstance(compute, dict):
        return {}
    out = {}
    for key in ("cluster", "cluster_type", "partition", "time", "mem", "cpus", "output_dir"):
        if compute.get(key) is not None:
            out[key] = compute[key]
            pos[f"compute.{key}"] = _fm_pos(doc, ("compute", key))
    if isinstance(out.get("output_dir"), str):
        try:
            check_output_dir(out["output_dir"])
        except ValueError:  # the front-matter's schema check (CM003) reports it, located
            del out["output_dir"]
    return out


def _resolve_model_name(cell: str, run_name: str, known: list[str]) -> str | None:
    """The full model name a run row means: exact, the run name's prefix, or a unique
    substring match ("1B" → "Llama-3.2-1B-Instruct")."""
    if cell in known or (not known and cell):
        return cell
    for k in known:
        if run_name.startswith(k + "_"):
            return k
    hits = [k for k in known if cell and cell.lower() in k.lower()]
    return hits[0] if len(hits) == 1 else None
