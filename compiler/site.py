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
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")
_SECRET = re.compile(
    r"(?i)((?:x-auth-token|authorization|token|api[_-]?key|secret|password)\s*[:=]\s*[\"']?"
    r"(?:(?:bearer|token|basic)\s+)?)([^\s\"'`,;}]{6,})"
)
_ENV_SECRET = re.compile(r"(?i)\b([A-Z0-9_]*(?:TOKEN|SECRET|PASSWORD|API_KEY)[A-Z0-9_]*=)(\S{6,})")


def redact(text: str) -> str:
    """Replace literal tokens after auth headers, ``token:``/``password=`` style keys and
    ``*_TOKEN=`` environment assignments with ``[REDACTED]``. Variables stay."""

    def keep_vars(m: re.Match[str]) -> str:
        value = m.group(2)
        if value.startswith(("$", "{", "<", "%")):
            return m.group(0)
        return m.group(1) + "[REDACTED]"

    return _ENV_SECRET.sub(keep_vars, _SECRET.sub(keep_vars, text))


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

    @property
    def kind(self) -> str:
        return self.doc.kind or "unknown"

    @property
    def errors(self) -> int:
        return sum(d.severity.value == "error" for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity.value == "warning" for d in self.diagnostics)

    def status_counts(self) -> dict[str, int]:
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
    linted with their plan but get no page of their own."""
    views: list[PlanView] = []
    if not plans_dir.is_dir():
        return views
    files = discover([plans_dir], settings)
    status_diags: dict[Path, list[Diagnostic]] = {}
    for f in files:
        if f.suffix in (".yaml", ".yml"):
            status_diags[f.parent] = lint_document(load(f), settings)
    for f in files:
        if f.suffix != ".md":
            continue
        doc = load(f)
        if doc.kind is None:
            continue
        diags = lint_document(doc, settings)
        if doc.kind == "run-group":
            diags = diags + status_diags.get(f.parent, [])
        rel = _rel(f, settings.root)
        slug = slugify(str(Path(rel).with_suffix("")).replace("/", "--").removeprefix("plans--"))
        view = PlanView(path=rel, slug=slug, doc=doc, title=plan_title(doc), diagnostics=diags)
        _attach_group(view, settings, build_dir)
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


def _attach_group(view: PlanView, settings: Settings, build_dir: Path) -> None:
    if view.kind not in ("run-group", "plan"):
        return
    matrix = _matrix(view.doc, settings)
    view.matrix = matrix
    group = getattr(matrix, "group", None) or _group_from_manifests(view.path, build_dir)
    group_dir = build_dir / group if group else None
    status: dict[str, Any] = {}
    results: dict[str, Any] = {}
    if group_dir is not None and group_dir.is_dir():
        from .tracker import TrackerError, read

        try:
            status = read(layout.status_path(group_dir)) or {}
        except TrackerError:
            status = {}
        try:
            results = json.loads((group_dir / layout.RESULTS_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            results = {}
    records = status.get("runs", {}) if isinstance(status.get("runs"), dict) else {}
    run_results = results.get("runs", {}) if isinstance(results.get("runs"), dict) else {}
    names: list[str] = []
    kinds: dict[str, str] = {}
    factors: dict[str, dict[str, Any]] = {}
    estimates: dict[str, dict[str, float]] = {}
    if matrix is not None:
        for run in matrix.runs:
            names.append(run.name)
            kinds[run.name] = run.kind
            factors[run.name] = dict(run.factors)
            estimates[run.name] = run.estimate.as_dict()
        view.totals = matrix.totals.as_dict()
    for name in records:
        if name not in kinds:
            names.append(name)
            rec = records[name] if isinstance(records[name], dict) else {}
            kinds[name] = str(rec.get("type") or ("sweep" if "run" in rec else "fine-tuned"))
    if not names:
        return
    view.group, view.group_dir = group, group_dir
    view.results_meta = {k: v for k, v in results.items() if k != "runs"}
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
        if group_dir is not None:
            _attach_files(rv, group_dir, view.slug)
        view.runs.append(rv)


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


def _read_text(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_LOG_BYTES + 1)
    except OSError:
        return None
    text = data[:MAX_LOG_BYTES].decode("utf-8", errors="replace")
    if len(data) > MAX_LOG_BYTES:
        text += "\n… (truncated)"
    return redact(text)


def _attach_files(run: RunView, group_dir: Path, slug: str) -> None:
    run_dir = layout.run_dir(group_dir, run.name)
    for name in (layout.FINETUNE_CONFIG, layout.FINETUNE_SLURM, layout.RUN_SLURM,
                 layout.SETUP_FINETUNE):
        text = _read_text(run_dir / name)
        if text is not None:
            run.files[name] = text
    for key, st in run.stages:
        out = st.get("output")
        if not out:
            continue
        p = Path(str(out))
        if not p.is_absolute():
            p = group_dir / p
        text = _read_text(p)
        if text is not None:
            site_path = f"plans/{slug}/logs/{slugify(run.name)}--{slugify(key)}.txt"
            run.logs[key] = (site_path, text)
    log = (run.results.get("training") or {}).get("log") if isinstance(run.results, dict) else None
    if log:
        text = _read_text(Path(str(log)))
        if text is not None:
            run.logs["training log"] = (f"plans/{slug}/logs/{slugify(run.name)}--train.txt", text)


# -- rendering ------------------------------------------------------------------------
def _cell(value: Any) -> markupsafe.Markup:
    """Escape for a markdown table cell: HTML-escaped, pipes and newlines neutralised."""
    text = "" if value is None else str(value)
    esc = markupsafe.escape(redact(text))
    return markupsafe.Markup(
        str(esc).replace("|", "&#124;").replace("\n", " ").replace("`", "&#96;")
    )


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
    env.filters.update(
        cell=_cell,
        badge=_badge,
        fmt=_fmt,
        slug=slugify,
        quantity=_quantity,
        amount=_amount,
        fence=lambda text, lang="": markupsafe.Markup(fence(redact(str(text)), lang)),
    )
    return env


def render_plan_html(doc: Document, diagnostics: list[Diagnostic]) -> str:
    """The plan's markdown rendered to HTML with raw HTML disabled (escaped), and each
    diagnostic placed right after the block that holds its line."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin

    md = MarkdownIt("commonmark", {"html": False}).enable("table").use(front_matter_plugin)
    text = redact(doc.text)
    offset = 0
    if doc.extracted:
        m = re.search(r"<plan>([\s\S]*?)</plan>", text)
        if m:
            offset = text.count("\n", 0, m.start(1))
            text = m.group(1)
    tokens = [t for t in md.parse(text) if t.type != "front_matter"]
    by_line: dict[int, list[Diagnostic]] = {}
    for d in diagnostics:
        if d.path.endswith(".md"):
            by_line.setdefault(d.line, []).append(d)
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
                parts.append(_diag_html(here))
        i = j + 1
    rest = [d for ln, ds in sorted(by_line.items()) if ln not in placed for d in ds]
    head = _diag_html(rest) if rest else ""
    return head + "".join(parts)


def _diag_html(diags: list[Diagnostic]) -> str:
    items = "".join(
        f"<li><code>{markupsafe.escape(d.code)}</code> line {d.line}:{d.column} "
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
    """Actuals in the units of the estimate totals: ``train_seconds``, ``eval_seconds``,
    ``gpu_hours`` (duration × GPUs of the job ÷ 3600) and ``disk_gib`` (checkpoint sizes)."""
    gpus = {r.name: r.train.gpus for r in getattr(view.matrix, "runs", ())}
    out = {"train_seconds": 0.0, "eval_seconds": 0.0, "gpu_hours": 0.0, "disk_gib": 0.0}
    seen = False
    for run in view.runs:
        res = run.results if isinstance(run.results, dict) else {}
        tr = res.get("training") or {}
        if isinstance(tr.get("duration_s"), (int, float)):
            seen = True
            out["train_seconds"] += tr["duration_s"]
            out["gpu_hours"] += tr["duration_s"] * max(1, gpus.get(run.name, 1)) / 3600
        ck = tr.get("checkpoint_gib")
        if isinstance(ck, dict):
            out["disk_gib"] += sum(v for v in ck.values() if isinstance(v, (int, float)))
        for ev in (res.get("evaluations") or {}).values():
            if isinstance(ev, dict) and isinstance(ev.get("duration_s"), (int, float)):
                seen = True
                out["eval_seconds"] += ev["duration_s"]
    return {k: round(v, 3) for k, v in out.items()} if seen else {}


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
    est = [
        (
            run.name,
            run.estimate.get("train_seconds") or run.estimate.get("seconds"),
            (run.results.get("training") or {}).get("duration_s")
            if isinstance(run.results, dict)
            else None,
        )
        for run in view.runs
    ]
    est = [(n, e, a) for n, e, a in est if e is not None and a is not None]
    if est:
        data = [
            (n, [("estimate", float(e) / 60), ("actual", float(a) / 60)]) for n, e, a in est[:12]
        ]
        out["estimate-vs-actual"] = plots.bar_chart(
            data, "Training time: estimate vs actual", "minutes"
        )
    return {k: v for k, v in out.items() if v}


def render_pages(views: list[PlanView], rules: tuple[Any, ...]) -> dict[str, str]:
    """All generated pages as ``{docs-relative path: markdown}`` (plus log text files)."""
    env = _env()
    pages: dict[str, str] = {}
    kinds = sorted({v.kind for v in views})
    pages["index.md"] = env.get_template("home.md.j2").render(
        views=views, kinds=kinds, STATUS_ORDER=STATUS_ORDER
    )
    for view in views:
        rows = _eval_rows(view)
        pages[f"plans/{view.slug}/index.md"] = env.get_template("plan.md.j2").render(
            view=view,
            body=markupsafe.Markup(render_plan_html(view.doc, view.diagnostics)),
            eval_rows=rows,
            best=_best(rows),
            plots={k: markupsafe.Markup(v) for k, v in _plots(view).items()},
            tasks=_tasks(view),
            STATUS_ORDER=STATUS_ORDER,
            actual=actual_totals(view),
        )
        for run in view.runs:
            curve = ""
            tr = run.results.get("training") if isinstance(run.results, dict) else None
            if isinstance(tr, dict) and tr.get("loss_curve"):
                from . import plots

                curve = plots.line_chart(
                    [(run.name, [(float(s), float(v)) for s, v in tr["loss_curve"]])],
                    "Training loss",
                    "step",
                    "loss",
                )
            pages[f"plans/{view.slug}/runs/{slugify(run.name)}.md"] = env.get_template(
                "run.md.j2"
            ).render(
                view=view,
                run=run,
                curve=markupsafe.Markup(curve),
                eval_rows=[r for r in rows if r["run"] == run.name],
                logs={k: (f"../logs/{Path(p).name}", t) for k, (p, t) in run.logs.items()},
            )
            for _label, (site_path, text) in run.logs.items():
                pages[site_path] = text
    pages["rules/index.md"] = env.get_template("rules.md.j2").render(rules=_rule_rows(rules))
    for rule in _rule_rows(rules):
        pages[f"rules/{rule['code']}.md"] = env.get_template("rule.md.j2").render(rule=rule)
    return pages


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
        rows.append(
            {
                "code": rule.CODE,
                "name": rule.NAME,
                "severity": rule.SEVERITY,
                "kinds": ", ".join(rule.KINDS),
                "summary": summary,
                "body": body_html,
                "options": dict(getattr(rule, "OPTIONS", {})),
            }
        )
    return rows
