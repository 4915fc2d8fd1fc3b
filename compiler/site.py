"""Site data and pages: plans, their run groups, statuses, results and rules → MkDocs pages.

Pure functions: :func:`collect` gathers what the site shows (plans linted, their compiled
groups' ``runs_status.yaml``, ``results.json`` and ``manifest.json``, the expanded run
matrix); :func:`render_pages` turns that into ``{docs path: str | bytes}`` through jinja2
templates in ``compiler/templates/site/``. The MkDocs plugin (:mod:`compiler.mkdocs_plugin`)
only adds these as generated files.

Safety: every text from a plan, a log or a sample is HTML-escaped where it lands (the
templates autoescape; code is put in fenced blocks whose fence is longer than any backtick
run inside), and every auth token is redacted before anything reaches the site.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from . import layout
from .config import Settings
from .diagnostics import Diagnostic
from .document import Document, load
from .lint import discover, lint_document
from .outcome import analyse, read_intent, run_metrics
from .secrets import redact  # one pattern set for lint (CM006) and the site

# Glyphs from fonts every system has (the seed's ⏸/⚙️ render as boxes without emoji fonts).
STATUS_GLYPH = {
    "completed": "✓",
    "running": "▶",
    "submitted": "↑",
    "pending": "○",
    "failed": "✗",
    "skipped": "–",
}
STATUS_ORDER = ("completed", "running", "submitted", "pending", "failed", "skipped")
MAX_LOG_BYTES = 256 * 1024
TAIL_LINES = 25
_ERROR_LINE = re.compile(r"^\s*(?:[\w.]+(?:Error|Exception|Exit|Interrupt)\b.*|error:.*|"
                         r"FATAL.*|.*\bKilled\b.*|.*out of memory.*)$", re.IGNORECASE)
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")
def _error_line(text: str) -> str:
    """The last line of ``text`` that reads as an error (``ValueError: …``, ``error: …``)."""
    for line in reversed(text.splitlines()):
        if _ERROR_LINE.match(line):
            return line.strip()[:300]
    return ""


def localise(text: str, roots: tuple[str, ...]) -> str:
    """``text`` without this machine's absolute paths: each of ``roots`` (the project
    folder first) becomes relative, and the home folder ``~``."""
    for root in roots:
        if root and root != "/":
            text = text.replace(root.rstrip("/") + "/", "").replace(root.rstrip("/"), ".")
    home = str(Path.home())
    if home not in ("", "/"):
        text = text.replace(home, "~")
    return text


def slugify(text: str) -> str:
    s = _SLUG.sub("-", text).strip("-.")
    return s or "plan"


def fence(text: str, lang: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run in ``text``."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


@dataclass
class RunView:
    """One run as the site shows it (status from the tracker, results from results.json)."""

    name: str
    kind: str
    factors: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    estimate: dict[str, float] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # label -> text (config, script)
    logs: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (site path, text)
    metrics: dict[str, float] = field(default_factory=dict)  # outcome.run_metrics
    config: dict[str, Any] = field(default_factory=dict)  # what the comparison view diffs

    @property
    def main_stage(self) -> dict[str, Any]:
        """The fine-tune (or sweep run) stage record, else the first stage's."""
        for key in ("finetune", "run"):
            st = self.record.get(key)
            if isinstance(st, dict) and st.get("status") != "skipped":
                return st
        stages = self.stages
        return stages[0][1] if stages else {}

    @property
    def actual_seconds(self) -> float | None:
        """Seconds the run's main job took: the harvested training time, else the
        ``elapsed_s`` the runner recorded on the stage."""
        tr = self.results.get("training") if isinstance(self.results, dict) else None
        if isinstance(tr, dict) and isinstance(tr.get("duration_s"), int | float):
            return float(tr["duration_s"])
        elapsed = self.main_stage.get("elapsed_s")
        if isinstance(elapsed, int | float) and not isinstance(elapsed, bool):
            return float(elapsed)
        return None

    @property
    def estimate_seconds(self) -> float | None:
        value = self.estimate.get("train_seconds") or self.estimate.get("seconds")
        return float(value) if isinstance(value, int | float) and value else None

    @property
    def exit_code(self) -> Any:
        return self.main_stage.get("exit_code")

    @property
    def reason(self) -> str:
        """Why the run is not completed: the recorded reason, else the exit code and the
        last error line of its log."""
        st = self.main_stage
        reason = str(st.get("reason") or st.get("error") or "")
        if self.main_status != "failed" or reason:
            return reason
        parts = []
        if st.get("exit_code") not in (None, 0):
            parts.append(f"exit code {st['exit_code']}")
        err = _error_line(self.log_tail)
        if err:
            parts.append(err)
        return " — ".join(parts)

    @property
    def log_tail(self) -> str:
        """The last lines of the main stage's log (``TAIL_LINES``)."""
        for key, (_path, text) in self.logs.items():
            if key in ("finetune", "run") or key == "training log":
                lines = text.rstrip().splitlines()
                return "\n".join(lines[-TAIL_LINES:])
        return ""

    @property
    def stages(self) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for key in ("finetune", "run"):
            if isinstance(self.record.get(key), dict):
                out.append((key, self.record[key]))
        evals = self.record.get("evaluations")
        if isinstance(evals, dict):
            out.extend((f"eval {k}", v) for k, v in evals.items() if isinstance(v, dict))
        return out

    @property
    def main_status(self) -> str:
        for key in ("finetune", "run"):
            st = self.record.get(key)
            if isinstance(st, dict) and st.get("status") not in (None, "skipped"):
                return str(st.get("status"))
        evals = [v.get("status") for _, v in self.stages[1:] if isinstance(v, dict)]
        if evals:
            for s in ("failed", "running", "submitted", "pending"):
                if s in evals:
                    return s
            return "completed" if all(e == "completed" for e in evals) else str(evals[0])
        return "pending"


@dataclass
class PlanView:
    """A plan file with its lint result and, when compiled, its group's runs."""

    path: str
    slug: str
    doc: Document
    title: str
    diagnostics: list[Diagnostic]
    group: str | None = None
    group_dir: Path | None = None
    runs: list[RunView] = field(default_factory=list)
    matrix: Any = None
    results_meta: dict[str, Any] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    outcome: Any = None  # compiler.outcome.Outcome once the group has runs
    data_files: dict[str, str] = field(default_factory=dict)  # site name -> text
    efficiency: dict[str, Any] | None = None  # compiler.efficiency.group_report, stored
    ledger: list[dict[str, Any]] = field(default_factory=list)  # estimate error per key

    def run_counts(self) -> dict[str, int]:
        """Runs by their main status (a run counts once, whatever its stages)."""
        counts = Counter(run.main_status for run in self.runs)
        return {s: counts[s] for s in STATUS_ORDER if counts[s]} | {
            s: n for s, n in counts.items() if s not in STATUS_ORDER
        }

    @property
    def kind(self) -> str:
        return self.doc.kind or "unknown"

    @property
    def errors(self) -> int:
        return sum(d.severity.value == "error" for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity.value == "warning" for d in self.diagnostics)

    def stage_counts(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for run in self.runs:
            for _key, st in run.stages:
                counts[str(st.get("status", "pending"))] += 1
        return {s: counts[s] for s in STATUS_ORDER if counts[s]}

    @property
    def last_update(self) -> str:
        stamps = [
            str(st.get("last_updated"))
            for r in self.runs
            for _k, st in r.stages
            if st.get("last_updated")
        ]
        return max(stamps) if stamps else "—"


def plan_title(doc: Document) -> str:
    fm = doc.front_matter if isinstance(doc.front_matter, dict) else {}
    if isinstance(fm.get("title"), str) and fm["title"].strip():
        return fm["title"].strip()
    if doc.kind == "experiment-summary":  # cruijff_kit: the group is experiment.name
        data = doc.yaml_data if isinstance(doc.yaml_data, dict) else fm
        exp = data.get("experiment")
        if isinstance(exp, dict) and isinstance(exp.get("name"), str) and exp["name"].strip():
            return str(exp["name"]).strip()
    for sec in doc.sections:
        for prefix in ("Run Plan:", "Plan:"):
            if prefix in sec.title:
                return sec.title.split(prefix, 1)[1].strip() or sec.title
    goal = doc.section("Goal")
    if goal is not None:
        for _line, text in doc.iter_inline(doc.section_tokens(goal)):
            if text.strip():
                return _shorten(text.replace("`", "").strip().splitlines()[0])
    return Path(doc.path).stem


def _shorten(text: str, limit: int = 70) -> str:
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    if len(first) <= limit:
        return first.rstrip(".")
    return first[:limit].rsplit(" ", 1)[0] + "…"


def collect(settings: Settings, plans_dir: Path, build_dir: Path) -> list[PlanView]:
    """Lint every plan under ``plans_dir`` and join it with its compiled group under
    ``build_dir`` (``<build_dir>/<group>/``). ``runs_status.yaml`` files beside plans are
    linted with their plan but get no page of their own; cruijff_kit's
    ``experiment_summary*.yaml`` (kind ``experiment-summary``, the run-group format that
    replaced ``runs_plan.md``) is a plan with a page, like a ``runs_plan.md``."""
    views: list[PlanView] = []
    if not plans_dir.is_dir():
        return views
    files = discover([plans_dir], settings)
    roots = tuple(dict.fromkeys((str(settings.root.resolve()), str(settings.root))))
    status_diags: dict[Path, list[Diagnostic]] = {}
    docs: list[tuple[Path, Document]] = []
    for f in files:
        if f.suffix in (".yaml", ".yml"):
            ydoc = load(f)
            if ydoc.kind == "experiment-summary":
                docs.append((f, ydoc))
            else:
                status_diags.setdefault(f.parent, []).extend(lint_document(ydoc, settings))
        elif f.suffix == ".md":
            docs.append((f, load(f)))
    for f, doc in docs:
        if doc.kind is None:
            continue
        diags = lint_document(doc, settings)
        if doc.kind in ("run-group", "experiment-summary"):
            diags = diags + status_diags.get(f.parent, [])
        rel = _rel(f, settings.root)
        slug = slugify(str(Path(rel).with_suffix("")).replace("/", "--").removeprefix("plans--"))
        view = PlanView(path=rel, slug=slug, doc=doc, title=plan_title(doc), diagnostics=diags)
        _attach_group(view, settings, build_dir, roots)
        views.append(view)
    views.sort(key=lambda v: v.path)
    return views


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _matrix(doc: Document, settings: Settings) -> Any:
    """The plan's run matrix through the compiler's expansion (``None`` when it has none)."""
    try:
        from .spec import expand_document
    except ImportError:
        return None
    try:
        result = expand_document(doc, settings)
    except Exception:  # a plan that does not expand still gets its page
        return None
    matrix = result[0] if isinstance(result, tuple) else result
    return matrix


def _attach_group(view: PlanView, settings: Settings, build_dir: Path,
                  roots: tuple[str, ...] = ()) -> None:
    if view.kind not in ("run-group", "plan", "experiment-summary"):
        return
    matrix = _matrix(view.doc, settings)
    view.matrix = matrix
    group = getattr(matrix, "group", None) or _group_from_manifests(view.path, build_dir)
    group_dir = build_dir / group if group else None
    status: dict[str, Any] = {}
    results: dict[str, Any] = {}
    status_text = ""
    if group_dir is not None and group_dir.is_dir():
        from .tracker import TrackerError, read

        try:
            status = read(layout.status_path(group_dir)) or {}
            status_text = layout.status_path(group_dir).read_text("utf-8")
        except (TrackerError, OSError, UnicodeDecodeError):
            status = {}
        try:
            results = json.loads((group_dir / layout.RESULTS_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            results = _harvest(group_dir) if status else {}
    records = status.get("runs", {}) if isinstance(status.get("runs"), dict) else {}
    run_results = results.get("runs", {}) if isinstance(results.get("runs"), dict) else {}
    names: list[str] = []
    kinds: dict[str, str] = {}
    factors: dict[str, dict[str, Any]] = {}
    estimates: dict[str, dict[str, float]] = {}
    configs: dict[str, dict[str, Any]] = {}
    if matrix is not None:
        for run in matrix.runs:
            names.append(run.name)
            # cruijff_kit's word for a control run that loads a pre-existing checkpoint
            kinds[run.name] = "eval-only" if getattr(run, "eval_only", False) else run.kind
            factors[run.name] = dict(run.factors)
            estimates[run.name] = run.estimate.as_dict()
            configs[run.name] = _run_config(run)
        view.totals = matrix.totals.as_dict()
    for name in records:
        if name not in kinds:
            names.append(name)
            rec = records[name] if isinstance(records[name], dict) else {}
            kinds[name] = str(rec.get("type") or ("sweep" if "run" in rec else "fine-tuned"))
    if not names:
        return
    view.group, view.group_dir = group, group_dir
    if group_dir is not None:
        from .efficiency import load_report  # efficiency.json of planc results --efficiency

        view.efficiency = load_report(group_dir)
    view.results_meta = {k: v for k, v in results.items() if k != "runs"}
    allowed = _allowed_roots(group_dir, view) if group_dir is not None else ()
    for name in names:
        rec = records.get(name) if isinstance(records.get(name), dict) else {}
        rv = RunView(
            name=name,
            kind=kinds.get(name, "fine-tuned"),
            factors=factors.get(name, {}),
            record=rec,
            results=run_results.get(name, {}) or {},
            estimate=estimates.get(name, {}),
        )
        rv.metrics = run_metrics(rv.results)
        rv.config = {**{f"factor {k}": v for k, v in rv.factors.items()},
                     **configs.get(name, {"type": rv.kind})}
        if group_dir is not None:
            _attach_files(rv, group_dir, view.slug, roots, allowed)
        view.runs.append(rv)
    view.outcome = analyse(
        {r.name: r.metrics for r in view.runs},
        {r.name: r.factors for r in view.runs},
        {r.name: r.main_status for r in view.runs},
        read_intent(view.doc),
    )
    view.data_files = _data_files(view, results, status_text, roots)
    view.ledger = _estimate_ledger(status)


def _estimate_ledger(status: dict[str, Any]) -> list[dict[str, Any]]:
    """The estimate ledger rows (issue 14, :func:`compiler.results.estimate_ledger`)."""
    from .results import estimate_ledger

    return estimate_ledger(status) if status else []


def _harvest(group_dir: Path) -> dict[str, Any]:
    """Results read straight from the group's files when ``planc results`` has not stored
    ``results.json`` yet (nothing is written)."""
    from .results import HarvestError, harvest_group

    try:
        return harvest_group(group_dir, store=False)
    except (HarvestError, OSError, ValueError):
        return {}


def _run_config(run: Any) -> dict[str, Any]:
    """The settings of a matrix run that the comparison view diffs (flat, JSON-ready)."""
    out: dict[str, Any] = {"type": "eval-only" if getattr(run, "eval_only", False)
                           else run.kind}
    for key in ("model", "checkpoint_path", "command", "output_dir", "system_prompt",
                "eval_model"):
        value = getattr(run, key, None)
        if value not in (None, ""):
            out[key] = value
    ft = getattr(run, "finetune", None)
    if ft is not None:
        from dataclasses import asdict

        for k, v in asdict(ft).items():
            out[f"finetune {k}"] = list(v) if isinstance(v, tuple) else v
    for res in ("train", "eval"):
        r = getattr(run, res, None)
        if r is not None:
            out[f"{res} gpus"] = r.gpus
            out[f"{res} time"] = r.time
    out["evaluations"] = ", ".join(e.key for e in getattr(run, "evaluations", ())) or "—"
    return out


def _data_files(view: PlanView, results: dict[str, Any], status_text: str,
                roots: tuple[str, ...]) -> dict[str, str]:
    """``results.json`` (the harvest plus the outcome), ``runs.csv`` and the tracker, for
    notebooks and agents; local paths made relative and secrets redacted."""
    import csv
    import io

    out: dict[str, str] = {}
    o = view.outcome
    doc = {
        **results,
        "plan": view.path,
        "outcome": None if o is None else {
            "primary_metric": o.primary,
            "direction": o.direction,
            "statement": o.statement,
            "best_run": list(o.best_run) if o.best_run else None,
            "separated": o.separated,
            "levels": [
                {"label": lv.label, "levels": lv.levels, "runs": lv.runs, "mean": lv.mean,
                 "sd": lv.spread, "n": len(lv.values)}
                for lv in o.levels
            ],
            "criteria": [
                {"text": c.text, "verdict": v, "evidence": e} for c, v, e in o.verdicts
            ],
        },
    }
    text = json.dumps(doc, indent=1, ensure_ascii=False, default=str)
    out[layout.RESULTS_FILE] = redact(localise(text, roots))
    metric_names: list[str] = []
    factor_names: list[str] = []
    for run in view.runs:
        metric_names += [k for k in run.metrics if k not in metric_names]
        factor_names += [k for k in run.factors if k not in factor_names]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "status", *factor_names, *metric_names, "actual_seconds",
                "estimate_seconds", "exit_code", "reason"])
    for run in view.runs:
        w.writerow([_csv_safe(run.name), run.main_status,
                    *(_csv_safe(run.factors.get(f, "")) for f in factor_names),
                    *(run.metrics.get(m, "") for m in metric_names),
                    run.actual_seconds or "", run.estimate_seconds or "",
                    run.exit_code if run.exit_code is not None else "",
                    _csv_safe(run.reason)])
    out["runs.csv"] = redact(localise(buf.getvalue(), roots))
    if status_text:
        out[layout.STATUS_FILE] = redact(localise(status_text, roots))
    return out


def _csv_safe(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _group_from_manifests(plan_path: str, build_dir: Path) -> str | None:
    """The compiled group whose ``manifest.json`` names ``plan_path`` as its source."""
    if not build_dir.is_dir():
        return None
    for manifest in sorted(build_dir.glob(f"*/{layout.MANIFEST}")):
        try:
            data = json.loads(manifest.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        src = data.get("source") if isinstance(data, dict) else None
        path = src.get("path") if isinstance(src, dict) else src or data.get("source_path")
        if isinstance(path, str) and Path(path).as_posix() == Path(plan_path).as_posix():
            return manifest.parent.name
    return None


def _read_text(path: Path, roots: tuple[str, ...] = ()) -> str | None:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_LOG_BYTES + 1)
    except OSError:
        return None
    text = data[:MAX_LOG_BYTES].decode("utf-8", errors="replace")
    if len(data) > MAX_LOG_BYTES:
        text += "\n… (truncated)"
    return redact(localise(text, roots))


# What the site may publish from a group: its configs and scripts, and logs (SLURM output,
# local stage logs, torchtune and inspect-ai text logs). Nothing else is ever read.
PUBLISHABLE_SUFFIXES = (".yaml", ".yml", ".slurm", ".sh", ".out", ".err", ".log", ".txt")


def _publishable(path: Path, allowed: tuple[Path, ...]) -> bool:
    """Whether the site may read ``path``: a regular file of a kind it expects
    (:data:`PUBLISHABLE_SUFFIXES`) whose real location (links resolved) is inside one of
    ``allowed`` (the group folder, and the outputs root the plan names). Tracker
    ``output:`` values and harvested log paths are untrusted: ``/etc/passwd`` or a key
    under ``~/.ssh`` must never be published."""
    try:
        real = path.resolve(strict=True)
        if not real.is_file() or real.suffix.lower() not in PUBLISHABLE_SUFFIXES:
            return False
    except (OSError, RuntimeError):
        return False
    return any(real.is_relative_to(root) for root in allowed)


def _allowed_roots(group_dir: Path, view: Any = None) -> tuple[Path, ...]:
    roots = [group_dir]
    matrix = getattr(view, "matrix", None)
    outputs = getattr(getattr(matrix, "settings", None), "outputs_root", None)
    if outputs:
        roots.append(Path(outputs))
    out = []
    for r in roots:
        try:
            out.append(r.resolve())
        except (OSError, RuntimeError):
            continue
    return tuple(out)


def _attach_files(run: RunView, group_dir: Path, slug: str, roots: tuple[str, ...] = (),
                  allowed: tuple[Path, ...] | None = None) -> None:
    allowed = allowed if allowed is not None else _allowed_roots(group_dir)
    try:
        run_dir = layout.run_dir(group_dir, run.name)
    except layout.UnsafeName:
        return  # a tracker key that is a path: nothing of it is read
    for name in (layout.FINETUNE_CONFIG, layout.FINETUNE_SLURM, layout.RUN_SLURM,
                 layout.SETUP_FINETUNE):
        if not _publishable(run_dir / name, allowed):
            continue
        text = _read_text(run_dir / name, roots)
        if text is not None:
            run.files[name] = text
    seen: set[Path] = set()
    for key, st in run.stages:
        out = st.get("output")
        if not out:
            continue
        p = Path(str(out))
        if not p.is_absolute():
            p = group_dir / p
        if not _publishable(p, allowed):
            continue
        text = _read_text(p, roots)
        if text is not None:
            seen.add(p)
            site_path = f"plans/{slug}/logs/{slugify(run.name)}--{slugify(key)}.md"
            run.logs[key] = (site_path, text)
    log = (run.results.get("training") or {}).get("log") if isinstance(run.results, dict) else None
    if log and Path(str(log)) not in seen and _publishable(Path(str(log)), allowed):
        text = _read_text(Path(str(log)), roots)
        if text is not None:
            run.logs["training log"] = (f"plans/{slug}/logs/{slugify(run.name)}--train.md", text)


# -- rendering ------------------------------------------------------------------------
# Markdown syntax that could turn untrusted text into a link (``[x](javascript:…)``, an
# image, a reference) or into HTML attributes (attr_list's ``{: onclick=… }``): written as
# character references, which Python-Markdown shows as the characters and never parses.
_MD_SYNTAX = str.maketrans({"|": "&#124;", "`": "&#96;", "[": "&#91;", "]": "&#93;",
                            "{": "&#123;", "}": "&#125;", "\\": "&#92;", "\n": " ",
                            "\r": " "})


def _cell(value: Any) -> markupsafe.Markup:
    """Escape untrusted text for markdown (a table cell, a heading, a link label):
    HTML-escaped, and the markdown syntax of links, images and attribute lists, pipes,
    backticks and newlines neutralised (:data:`_MD_SYNTAX`)."""
    text = "" if value is None else str(value)
    esc = markupsafe.escape(redact(text))
    return markupsafe.Markup(str(esc).translate(_MD_SYNTAX))


def _meta(value: Any) -> markupsafe.Markup:
    """A page-meta value (the ``title:`` of a page's YAML front-matter): one YAML
    double-quoted scalar (JSON string syntax) with no ``<``, ``>`` or ``&`` at all, because
    the theme writes the title into ``<title>`` through ``striptags``, which decodes
    entities. Those three characters become look-alikes (‹ › ＆)."""
    text = redact("" if value is None else str(value))
    text = " ".join(text.split()).translate(str.maketrans({"<": "‹", ">": "›", "&": "＆"}))
    return markupsafe.Markup(json.dumps(text, ensure_ascii=False))


def _badge(status: Any) -> markupsafe.Markup:
    s = str(status or "pending")
    glyph = STATUS_GLYPH.get(s, "?")
    cls = s if s in STATUS_GLYPH else "unknown"
    return markupsafe.Markup(
        f'<span class="planc-badge planc-{cls}">{glyph} {markupsafe.escape(s)}</span>'
    )


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}"
    return str(value)


def _quantity(key: str) -> str:
    names = {
        "train_seconds": "training time",
        "eval_seconds": "evaluation time",
        "seconds": "total time (sequential)",
        "parallel_seconds": "wall-clock (fully parallel)",
        "gpu_hours": "GPU hours",
        "disk_gib": "disk (GiB)",
        "runs": "runs",
        "evaluations": "evaluation jobs",
    }
    return names.get(key, key.replace("_", " "))


def _amount(value: Any, key: str) -> str:
    """Seconds as minutes or hours, GPU hours and GiB with two decimals."""
    if value is None:
        return "—"
    if not isinstance(value, (int, float)):
        return str(value)
    if key.endswith("seconds"):
        return f"{value / 60:.1f} min" if value < 5400 else f"{value / 3600:.2f} h"
    if key in ("gpu_hours", "disk_gib"):
        return f"{value:.2f}"
    return f"{value:g}"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("compiler", "templates/site"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(icon=icon)
    env.filters.update(
        cell=_cell,
        meta=_meta,
        badge=_badge,
        fmt=_fmt,
        slug=slugify,
        duration=_duration,
        quantity=_quantity,
        amount=_amount,
        fence=lambda text, lang="": markupsafe.Markup(fence(redact(str(text)), lang)),
    )
    return env


# Unicode emoji agents put in plans → Material's bundled icons (inline SVG): no emoji font
# is needed offline. Other emoji stay as text.
ICONS = {
    "📋": "clipboard-text-outline", "💡": "lightbulb-on-outline", "⚠️": "alert-outline",
    "⚠": "alert-outline", "✅": "check-circle-outline", "❌": "close-circle-outline",
    "🎯": "target", "📊": "chart-bar", "📈": "chart-line", "🔬": "microscope",
    "🚀": "rocket-launch-outline", "⚙️": "cog-outline", "⚙": "cog-outline", "🧪": "flask-outline",
    "⏱️": "timer-outline", "⏱": "timer-outline", "🔍": "magnify", "📝": "note-edit-outline",
    "⏸️": "pause", "⏸": "pause", "✨": "star-four-points-outline", "📚": "book-open-variant",
}
_ICON_RE = re.compile("|".join(sorted(map(re.escape, ICONS), key=len, reverse=True)))


@functools.lru_cache(maxsize=64)
def icon(name: str, label: str = "") -> markupsafe.Markup:
    """Material's bundled icon ``material/<name>.svg`` inline (class ``twemoji``, as the
    Material emoji extension writes it); empty when mkdocs-material is not installed."""
    try:
        from importlib import resources

        svg = (resources.files("material") / "templates" / ".icons" / "material"
               / f"{name}.svg").read_text("utf-8")
    except (ModuleNotFoundError, OSError):
        return markupsafe.Markup("")
    title = f' title="{markupsafe.escape(label)}"' if label else ""
    return markupsafe.Markup(f'<span class="twemoji planc-icon"{title}>{svg}</span>')


def emoji_icons(html: str) -> str:
    """Replace the emoji of :data:`ICONS` in rendered, escaped HTML by inline icons."""
    return _ICON_RE.sub(lambda m: str(icon(ICONS[m.group(0)], m.group(0))) or m.group(0), html)


@dataclass
class Urls:
    """Links between generated pages as MkDocs writes them: ``page.html`` or, with
    ``use_directory_urls``, ``page/``. Needed where links sit in raw HTML (which MkDocs
    does not rewrite)."""

    directory_urls: bool = False

    def url(self, md_path: str) -> str:
        """The site URL (from the site root) of the page ``md_path``."""
        if not md_path.endswith(".md"):
            return md_path
        stem = md_path[:-3]
        if not self.directory_urls:
            return stem + ".html"
        if stem == "index" or stem.endswith("/index"):
            return stem[: -len("index")]
        return stem + "/"

    def rel(self, from_md: str, to_md: str) -> str:
        """A relative link from the page ``from_md`` to the page or file ``to_md``."""
        import posixpath

        src = self.url(from_md)
        base = src.rstrip("/") if src.endswith("/") else posixpath.dirname(src)
        target = self.url(to_md)
        rel = posixpath.relpath(target.rstrip("/") or ".", base or ".")
        if target.endswith("/") or target == "":
            rel = rel.rstrip("/") + "/"
        return rel


def render_plan_html(doc: Document, diagnostics: list[Diagnostic],
                     rule_url: Any = None) -> str:
    """The plan's markdown rendered to HTML with raw HTML disabled (escaped), task lists
    as disabled checkboxes, an ``id="L<n>"`` anchor on each block starting at line ``n``,
    and each diagnostic placed right after the block that holds its line (linked to its
    rule through ``rule_url(code)`` when given)."""
    return render_plan(doc, diagnostics, rule_url)[0]


def render_plan(doc: Document, diagnostics: list[Diagnostic], rule_url: Any = None
                ) -> tuple[str, list[tuple[Diagnostic, str]]]:
    """:func:`render_plan_html` and each diagnostic with the anchor it links to."""
    if doc.path.endswith((".yaml", ".yml")):
        return _render_yaml(doc, diagnostics, rule_url)
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin
    from mdit_py_plugins.tasklists import tasklists_plugin

    md = (MarkdownIt("commonmark", {"html": False}).enable("table")
          .use(front_matter_plugin).use(tasklists_plugin))
    text = redact(doc.text)
    offset = 0
    if doc.extracted:
        m = re.search(r"<plan>([\s\S]*?)</plan>", text)
        if m:
            offset = text.count("\n", 0, m.start(1))
            text = m.group(1)
    tokens = [t for t in md.parse(text) if t.type != "front_matter"]
    anchors: list[int] = []
    for t in tokens:
        if t.map and t.nesting >= 0 and t.type.endswith(("_open", "fence", "code_block", "hr")):
            line = t.map[0] + 1 + offset
            if not anchors or line > anchors[-1]:
                t.attrSet("id", f"L{line}")
                anchors.append(line)

    def anchor_of(line: int) -> str:
        best = anchors[0] if anchors else 1
        for a in anchors:
            if a <= line:
                best = a
        return f"L{best}"

    by_line: dict[int, list[Diagnostic]] = {}
    for d in diagnostics:
        if d.path.endswith(".md"):
            by_line.setdefault(d.line, []).append(d)
    linked = [(d, anchor_of(d.line) if d.path.endswith(".md") else "")
              for d in sorted(diagnostics, key=lambda d: (d.line, d.column))]
    placed: set[int] = set()
    parts: list[str] = []
    i = 0
    while i < len(tokens):
        j, depth = i, 0
        while True:
            depth += tokens[j].nesting
            if depth <= 0:
                break
            j += 1
        block = tokens[i : j + 1]
        parts.append(md.renderer.render(block, md.options, {}))
        span = tokens[i].map
        if span:
            lo, hi = span[0] + 1 + offset, span[1] + offset
            here = [d for ln in range(lo, hi + 1) for d in by_line.get(ln, []) if ln not in placed]
            for ln in range(lo, hi + 1):
                if ln in by_line:
                    placed.add(ln)
            if here:
                parts.append(_diag_html(here, rule_url))
        i = j + 1
    rest = [d for ln, ds in sorted(by_line.items()) if ln not in placed for d in ds]
    head = _diag_html(rest, rule_url) if rest else ""
    return emoji_icons(head + "".join(parts)), linked


def _render_yaml(doc: Document, diagnostics: list[Diagnostic], rule_url: Any = None
                 ) -> tuple[str, list[tuple[Diagnostic, str]]]:
    """A YAML plan (``experiment_summary.yaml``) as an escaped code block, each line with an
    ``id="L<n>"`` anchor, each diagnostic of the file after its line (the rest, from other
    files such as a tracker beside it, before the block)."""
    mine = doc.path
    by_line: dict[int, list[Diagnostic]] = {}
    for d in diagnostics:
        if d.path == mine:
            by_line.setdefault(d.line, []).append(d)
    linked = [(d, f"L{d.line}" if d.path == mine else "")
              for d in sorted(diagnostics, key=lambda d: (d.line, d.column))]
    lines = redact(doc.text).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    parts = ['<pre class="planc-yaml"><code class="language-yaml">']
    for n, line in enumerate(lines, 1):
        parts.append(f'<span id="L{n}">{markupsafe.escape(line)}</span>\n')
        if n in by_line:
            parts.append("</code></pre>" + _diag_html(by_line.pop(n), rule_url)
                         + '<pre class="planc-yaml"><code class="language-yaml">')
    parts.append("</code></pre>")
    rest = [d for d in diagnostics if d.path != mine] + [
        d for ds in by_line.values() for d in ds]  # beyond the last line
    head = _diag_html(rest, rule_url) if rest else ""
    return emoji_icons(head + "".join(parts)), linked


def _diag_html(diags: list[Diagnostic], rule_url: Any = None) -> str:
    def code(d: Diagnostic) -> str:
        c = markupsafe.escape(d.code)
        if rule_url is None:
            return f"<code>{c}</code>"
        return f'<a href="{rule_url(d.code)}"><code>{c}</code></a>'

    items = "".join(
        f"<li>{code(d)} line {d.line}:{d.column} "
        f"<em>{markupsafe.escape(d.severity.value)}</em> — {markupsafe.escape(redact(d.message))}"
        + (f" (fix: {markupsafe.escape(redact(d.fix))})" if d.fix else "")
        + "</li>"
        for d in diags
    )
    level = "failure" if any(d.severity.value == "error" for d in diags) else "warning"
    return (
        f'<div class="admonition {level} planc-diagnostics"><p class="admonition-title">'
        f"planc lint</p><ul>{items}</ul></div>\n"
    )


def actual_totals(view: PlanView) -> dict[str, float]:
    """Actuals in the units of the estimate totals: ``runs`` and ``evaluations`` finished,
    ``train_seconds`` (harvested training time, else the recorded ``elapsed_s`` of the
    run's job), ``eval_seconds``, ``seconds`` (their sum), ``parallel_seconds`` (the longest
    job of each kind), ``gpu_hours`` (duration × GPUs of the job ÷ 3600) and ``disk_gib``
    (checkpoint sizes)."""
    gpus = {r.name: r.train.gpus for r in getattr(view.matrix, "runs", ())}
    out = {"train_seconds": 0.0, "eval_seconds": 0.0, "gpu_hours": 0.0, "disk_gib": 0.0}
    longest_train = longest_eval = 0.0
    seen = False
    for run in view.runs:
        res = run.results if isinstance(run.results, dict) else {}
        tr = res.get("training") or {}
        took = run.actual_seconds
        if took is not None:
            seen = True
            out["train_seconds"] += took
            out["gpu_hours"] += took * gpus.get(run.name, 0) / 3600
            longest_train = max(longest_train, took)
        ck = tr.get("checkpoint_gib")
        if isinstance(ck, dict):
            out["disk_gib"] += sum(v for v in ck.values() if isinstance(v, int | float))
        for ev in (res.get("evaluations") or {}).values():
            if isinstance(ev, dict) and isinstance(ev.get("duration_s"), int | float):
                seen = True
                out["eval_seconds"] += ev["duration_s"]
                longest_eval = max(longest_eval, ev["duration_s"])
    if not seen:
        return {}
    out["seconds"] = out["train_seconds"] + out["eval_seconds"]
    out["parallel_seconds"] = longest_train + longest_eval
    out["runs"] = sum(r.main_status == "completed" for r in view.runs)
    out["evaluations"] = sum(
        1 for r in view.runs for k, st in r.stages
        if k.startswith("eval ") and st.get("status") == "completed"
    )
    return {k: round(v, 3) for k, v in out.items()}


def _eval_rows(view: PlanView) -> list[dict[str, Any]]:
    rows = []
    for run in view.runs:
        evals = (run.results.get("evaluations") or {}) if isinstance(run.results, dict) else {}
        for key, ev in sorted(evals.items()):
            if not isinstance(ev, dict):
                continue
            for scorer, metrics in sorted((ev.get("scores") or {}).items()):
                if not isinstance(metrics, dict):
                    continue
                rows.append(
                    {
                        "run": run.name,
                        "key": key,
                        "task": ev.get("task", key),
                        "epoch": ev.get("epoch"),
                        "scorer": scorer,
                        "accuracy": metrics.get("accuracy", metrics.get("mean")),
                        "stderr": metrics.get("stderr"),
                        "samples": ev.get("samples"),
                        "status": ev.get("status"),
                    }
                )
    return rows


def _best(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    scored = [r for r in rows if isinstance(r.get("accuracy"), (int, float))]
    return max(scored, key=lambda r: r["accuracy"]) if scored else None


def _plots(view: PlanView) -> dict[str, str]:
    from . import plots

    out: dict[str, str] = {}
    curves = []
    for run in view.runs:
        tr = run.results.get("training") if isinstance(run.results, dict) else None
        if isinstance(tr, dict) and tr.get("loss_curve"):
            curves.append((run.name, [(float(s), float(v)) for s, v in tr["loss_curve"]]))
    if curves:
        out["loss"] = plots.line_chart(curves[:8], "Training loss per run", "step", "loss")
    rows = _eval_rows(view)
    factor_names: list[str] = []
    for run in view.runs:
        for f in run.factors:
            if f not in factor_names:
                factor_names.append(f)
    if rows and factor_names:
        series_factor = factor_names[0] if len(factor_names) > 1 else None
        for factor in factor_names:
            if factor == series_factor:
                continue
            groups: dict[str, dict[str, list[float]]] = {}
            for r in rows:
                run = next((x for x in view.runs if x.name == r["run"]), None)
                if (
                    run is None
                    or factor not in run.factors
                    or not isinstance(r["accuracy"], (int, float))
                ):
                    continue
                series = f"{run.factors.get(series_factor)}" if series_factor else r["task"]
                groups.setdefault(str(run.factors[factor]), {}).setdefault(series, []).append(
                    r["accuracy"]
                )
            if groups:
                data = [
                    (lvl, [(s, sum(v) / len(v)) for s, v in sorted(ser.items())])
                    for lvl, ser in groups.items()
                ]
                out[f"by-{slugify(factor)}"] = plots.bar_chart(
                    data,
                    f"Score by {factor}" + (f" for each {series_factor}" if series_factor else ""),
                    "score",
                )
    o = view.outcome
    if o is not None and o.primary:
        for factor, levels in o.by_factor.items():
            if len(levels) < 2 and len(o.by_factor) > 1:
                continue
            out[f"{slugify(o.primary)}-by-{slugify(factor)}"] = plots.level_chart(
                [(str(lv.levels.get(factor)), lv.mean, lv.spread, lv.values) for lv in levels],
                f"{o.primary} by {factor} (mean ± sd over {', '.join(o.replicates) or 'runs'})",
                o.primary,
                factor,
            )
        if not o.by_factor and len(o.levels) == 1 and len(o.levels[0].values) > 1:
            lv = o.levels[0]
            out[f"{slugify(o.primary)}-all"] = plots.level_chart(
                [("all runs", lv.mean, lv.spread, lv.values)], f"{o.primary} (mean ± sd)",
                o.primary)
    est = [(run.name, run.estimate_seconds, run.actual_seconds) for run in view.runs]
    est = [(n, e, a) for n, e, a in est if e is not None and a is not None]
    if est:
        data = [
            (n, [("estimate", float(e) / 60), ("actual", float(a) / 60)]) for n, e, a in est[:12]
        ]
        out["estimate-vs-actual"] = plots.bar_chart(
            data, "Training time: estimate vs actual", "minutes"
        )
    return {k: v for k, v in out.items() if v}


def _metric_columns(view: PlanView, limit: int = 3) -> list[str]:
    """The run table's metric columns: the primary metric, the plan's secondary metrics
    that were recorded, then other recorded metrics, ``limit`` in all."""
    available: list[str] = []
    for run in view.runs:
        available += [k for k in run.metrics if k not in available]
    cols: list[str] = []
    o = view.outcome
    if o is not None and o.primary:
        cols.append(o.primary)
    if view.kind == "plan":
        from .models.plan import parse_plan
        from .outcome import resolve_metric

        for m in parse_plan(view.doc).metrics:
            if m.role != "primary":
                hit = resolve_metric(m.name, available)
                if hit and hit not in cols:
                    cols.append(hit)
    skip = {f for run in view.runs for f in run.factors}
    cols += [k for k in available if k not in cols and k not in skip]
    return cols[:limit]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.2f} h"


def _compare_data(view: PlanView) -> str:
    """JSON for the comparison view (an HTML attribute, so search does not index it)."""
    data = [
        {"name": run.name, "status": run.main_status,
         "config": {k: v if isinstance(v, int | float | bool) else str(v)
                    for k, v in run.config.items()},
         "metrics": run.metrics}
        for run in view.runs
    ]
    return redact(json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str))


def render_pages(views: list[PlanView], rules: tuple[Any, ...],
                 directory_urls: bool = False) -> dict[str, str]:
    """All generated pages as ``{docs-relative path: markdown}`` (plus the data files:
    ``results.json``, ``runs.csv``, the tracker); links in raw HTML follow
    ``directory_urls`` (MkDocs' ``use_directory_urls``)."""
    from . import plots

    env = _env()
    urls = Urls(directory_urls)
    pages: dict[str, str] = {}
    kinds = sorted({v.kind for v in views})
    statuses = [s for s in STATUS_ORDER if any(s in v.run_counts() for v in views)]
    pages["index.md"] = env.get_template("home.md.j2").render(
        views=views, kinds=kinds, statuses=statuses, STATUS_ORDER=STATUS_ORDER
    )
    for view in views:
        rows = _eval_rows(view)
        here = f"plans/{view.slug}/index.md"
        body, linked = render_plan(
            view.doc, view.diagnostics, lambda code, here=here: urls.rel(here, f"rules/{code}.md")
        )
        for name, text in view.data_files.items():
            pages[f"plans/{view.slug}/{name}"] = text
        all_plots = _plots(view)
        primary = view.outcome.primary if view.outcome is not None else None
        prefix = f"{slugify(primary)}-" if primary else None
        mine = {k for k in all_plots if prefix and k.startswith(prefix)}
        pages[here] = env.get_template("plan.md.j2").render(
            view=view,
            body=markupsafe.Markup(body),
            linked=linked,
            eval_rows=rows,
            best=_best(rows),
            outcome=view.outcome,
            metric_cols=_metric_columns(view),
            plots={k: markupsafe.Markup(v) for k, v in all_plots.items() if k not in mine},
            outcome_plots={k: markupsafe.Markup(v) for k, v in all_plots.items() if k in mine},
            rule_href={d.code: urls.rel(here, f"rules/{d.code}.md") for d, _a in linked},
            tasks=_tasks(view),
            STATUS_ORDER=STATUS_ORDER,
            statuses=list(view.run_counts()),
            actual=actual_totals(view),
            compare=_compare_data(view) if len(view.runs) > 1 else "",
            data_files=list(view.data_files),
        )
        for run in view.runs:
            curve = ""
            tr = run.results.get("training") if isinstance(run.results, dict) else None
            if isinstance(tr, dict) and tr.get("loss_curve"):
                curve = plots.line_chart(
                    [(run.name, [(float(s), float(v)) for s, v in tr["loss_curve"]])],
                    "Training loss",
                    "step",
                    "loss",
                )
            run_md = f"plans/{view.slug}/runs/{slugify(run.name)}.md"
            pages[run_md] = env.get_template("run.md.j2").render(
                view=view,
                run=run,
                primary=primary,
                curve=markupsafe.Markup(curve),
                eval_rows=[r for r in rows if r["run"] == run.name],
                extra=_extra_metrics(run),
                logs={k: (f"../logs/{Path(p).name}", t) for k, (p, t) in run.logs.items()},
            )
            for label, (site_path, text) in run.logs.items():
                pages[site_path] = env.get_template("log.md.j2").render(
                    view=view, run=run, label=label, text=text,
                    back=f"../runs/{slugify(run.name)}.md",
                )
    pages["rules/index.md"] = env.get_template("rules.md.j2").render(rules=_rule_rows(rules))
    for rule in _rule_rows(rules):
        pages[f"rules/{rule['code']}.md"] = env.get_template("rule.md.j2").render(rule=rule)
    return pages


def _extra_metrics(run: RunView) -> dict[str, Any]:
    """``metrics.json`` values that are not numbers (``converged: true``, labels)."""
    m = run.results.get("metrics") if isinstance(run.results, dict) else None
    if not isinstance(m, dict):
        return {}
    return {k: v for k, v in m.items() if k not in run.metrics and not isinstance(v, list | dict)}


def _tasks(view: PlanView) -> list[str]:
    tasks: list[str] = []
    for run in view.runs:
        for key, _st in run.stages:
            if key.startswith("eval "):
                task = re.sub(r"_epoch_\d+$", "", key[5:])
                if task not in tasks:
                    tasks.append(task)
    return tasks


def _md_safe() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _rule_rows(rules: tuple[Any, ...]) -> list[dict[str, Any]]:
    from textwrap import dedent

    rows = []
    for rule in rules:
        doc = dedent((rule.__doc__ or "").strip("\n")).strip()
        lines = doc.splitlines()
        summary = lines[0] if lines else rule.NAME
        body = "\n".join(lines[1:]).strip()
        body = re.sub(r"^(\w[\w ]*)::\s*$", r"**\1**\n", body, flags=re.MULTILINE)
        body_html = markupsafe.Markup(_md_safe().render(body))
        summary_html = markupsafe.Markup(
            _md_safe().renderInline(summary).replace("|", "&#124;").replace("\n", " ")
        )
        rows.append(
            {
                "code": rule.CODE,
                "name": rule.NAME,
                "severity": rule.SEVERITY,
                "kinds": ", ".join(rule.KINDS),
                "summary": summary,
                "summary_html": summary_html,
                "body": body_html,
                "options": dict(getattr(rule, "OPTIONS", {})),
            }
        )
    return rows
