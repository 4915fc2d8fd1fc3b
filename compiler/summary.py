"""The markdown summary ``planc results`` prints for a harvested group.

:func:`render_summary` lays out :func:`compiler.results.harvest_group`'s results in the
layout of cruijff_kit's ``summary.md`` (``../shared/reference/formats.md`` §11)::

    **Experiment:** <group> | **Generated:** <ts> | **Status:** X/Y complete
    ## Run Status          | Run | Type | Fine-tuning | Evaluation |
    ## Training Results    | Run | Final Loss | Total Steps | Epochs | Duration |
    ## Evaluation Results  | Run | Task | Epoch | Accuracy | Bal. Acc | F1 | Sat. | Samples |
    **Best performing:** <run> (<task>, epoch N): <acc>
    ## Datasets Used       | Run | Training dataset | Eval dataset(s) |
    ## Incomplete Runs     | Run | Stage | Status | Notes |

Status glyphs: ✓ done, ⚙️ running (or submitted), ⏸ pending, ✗ failed, – skipped. ``Sat.``
is ✓ when accuracy ≥ 0.95. Sweeps add a ``## Metrics`` table (before Datasets Used; its
best run is the highest first ``*accuracy*`` metric when no evaluation results exist);
tables without rows are replaced by a sentence, Datasets Used is left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

GLYPHS = {"completed": "✓", "running": "⚙️", "submitted": "⚙️", "pending": "⏸",
          "failed": "✗", "skipped": "–"}
SATURATED = 0.95


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text


def _fmt(value: Any, digits: int = 3) -> str:
    """A table number: ``digits`` decimals, small values (< 0.01) in 3 significant digits
    so that ``1e-4`` does not print as ``0.000``; booleans as ``yes``/``no``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != 0 and abs(value) < 0.01:
            return f"{value:.3g}"
        return f"{value:.{digits}f}"
    return str(value)


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "-"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}h {m:02d}m" if h else (f"{m}m {sec:02d}s" if m else f"{seconds:.1f}s")


def _glyph(status: Any) -> str:
    return f"{GLYPHS.get(str(status), '⚠️')} {status}"


def _stages(rec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for key in ("finetune", "run"):
        if isinstance(rec.get(key), dict):
            out.append((key, rec[key]))
    evals = rec.get("evaluations")
    for key, st in (evals.items() if isinstance(evals, dict) else []):
        if isinstance(st, dict):
            out.append((f"evaluations/{key}", st))
    return out


def _eval_summary(rec: dict[str, Any]) -> str:
    evals = rec.get("evaluations")
    if not isinstance(evals, dict) or not evals:
        return "-"
    statuses = [st.get("status") for st in evals.values() if isinstance(st, dict)]
    done = sum(s in ("completed", "skipped") for s in statuses)
    for bad in ("failed", "running", "submitted", "pending"):
        if bad in statuses:
            return f"{GLYPHS[bad]} {done}/{len(statuses)} ({statuses.count(bad)} {bad})"
    return f"✓ {done}/{len(statuses)}"


def _kind(rec: dict[str, Any], result: dict[str, Any]) -> str:
    """The run's type: recorded, else from its stages (a skipped fine-tune is a control, or
    an eval-only run when its note says it evaluates a pre-existing checkpoint)."""
    from .models.status import EVAL_ONLY_NOTE

    if rec.get("type") or result.get("type"):
        return str(rec.get("type") or result.get("type"))
    if "run" in rec:
        return "sweep"
    ft = rec.get("finetune")
    if isinstance(ft, dict) and ft.get("status") == "skipped":
        return "eval-only" if ft.get("note") == EVAL_ONLY_NOTE else "control"
    return "fine-tuned"


def _accuracy(ev: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(accuracy, balanced accuracy, F1) from an evaluation's scores (first scorer that has
    each metric)."""
    def find(*names: str) -> Any:
        for metrics in (ev.get("scores") or {}).values():
            for n in names:
                if isinstance(metrics, dict) and isinstance(metrics.get(n), int | float):
                    return metrics[n]
        return None

    return find("accuracy", "mean"), find("balanced_accuracy", "bal_acc"), find("f1", "f1_score")


def render_summary(results: dict[str, Any], status: dict[str, Any],
                   outcome: Any = None) -> str:
    """The markdown summary (layout in the module docstring) of harvested ``results`` and
    the tracker mapping ``status``; with an ``outcome`` (:func:`group_outcome`), also the
    plan's primary metric by level and its Success Criteria verdicts (``## Outcome``)."""
    records = status.get("runs") if isinstance(status.get("runs"), dict) else {}
    runs = results.get("runs", {})
    names = list(records) + [n for n in runs if n not in records]
    lines = _header(results, records, names)
    lines += _run_status(records, runs, names)
    lines += _training(runs, names)
    eval_lines, rows = _evaluations(runs, names)
    lines += eval_lines
    lines += _metrics(runs, names, has_eval_rows=bool(rows))
    lines += _outcome(outcome)
    lines += _datasets(runs, names)
    lines += _incomplete(records, names)
    return "\n".join(lines) + "\n"


VERDICT_GLYPHS = {"pass": "✓ pass", "fail": "✗ fail", "pending": "⏸ pending",
                  "unchecked": "– not machine-checkable"}


def _outcome(outcome: Any) -> list[str]:
    """``## Outcome``: the primary metric per level (mean ± sd), the best level or that
    none is separated, and each Success Criteria verdict with its evidence."""
    if outcome is None or not (outcome.primary or outcome.verdicts):
        return []
    lines = ["", "## Outcome", ""]
    if outcome.primary:
        better = "higher" if outcome.direction == "max" else "lower"
        lines += [f"**Primary metric:** {outcome.primary} ({better} is better)", ""]
        if outcome.levels:
            lines += ["| Level | Mean | SD | n |", "|---|---|---|---|"]
            for lv in outcome.levels:
                lines.append(f"| {_cell(lv.label)} | {_fmt(lv.mean, 4)} | {_fmt(lv.spread, 4)}"
                             f" | {len(lv.values)} |")
            lines += ["", outcome.statement]
    if outcome.verdicts:
        lines += ["", "## Success Criteria", "", "| Verdict | Criterion | Evidence |",
                  "|---|---|---|"]
        for c, verdict, evidence in outcome.verdicts:
            lines.append(f"| {VERDICT_GLYPHS[verdict]} | {_cell(c.text)} | {_cell(evidence)} |")
    return lines


def group_outcome(group_dir: Path, results: dict[str, Any], status: dict[str, Any]) -> Any:
    """The :class:`compiler.outcome.Outcome` of a harvested group: its plan is the one
    ``manifest.json`` names (looked up from the current folder, then from the folders above
    the group), expanded for each run's factors. ``None`` when the plan cannot be found."""
    import json

    from . import layout
    from .outcome import analyse, read_intent, run_metrics

    try:
        manifest = json.loads((Path(group_dir) / layout.MANIFEST).read_text("utf-8"))
        rel = manifest["source"]["path"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    group = Path(group_dir).resolve()
    for root in (Path.cwd(), *group.parents):
        if (root / rel).is_file():
            break
    else:
        return None
    from .config import Settings
    from .document import load
    from .spec import expand_document

    doc = load(root / rel)
    try:
        matrix, _diags = expand_document(doc, Settings(root=root))
    except Exception:  # a plan edited since it was compiled: no factors, still verdicts
        matrix = None
    factors = {r.name: dict(r.factors) for r in getattr(matrix, "runs", ())}
    records = status.get("runs") if isinstance(status.get("runs"), dict) else {}
    runs = results.get("runs") or {}
    names = list(records) + [n for n in runs if n not in records]
    statuses = {}
    for name in names:
        rec = _record(records, name)
        main = next((rec[k] for k in ("finetune", "run") if isinstance(rec.get(k), dict)
                     and rec[k].get("status") != "skipped"), None)
        stages = _stages(rec)
        statuses[name] = str((main or (stages[0][1] if stages else {})).get("status", "pending"))
    return analyse({n: run_metrics(runs.get(n)) for n in names},
                   {n: factors.get(n, {}) for n in names}, statuses, read_intent(doc))


def _record(records: dict[str, Any], name: str) -> dict[str, Any]:
    return records.get(name) if isinstance(records.get(name), dict) else {}


def _header(results: dict[str, Any], records: dict[str, Any], names: list[str]) -> list[str]:
    complete = 0
    for name in names:
        stages = _stages(_record(records, name))
        if stages and all(st.get("status") in ("completed", "skipped") for _k, st in stages):
            complete += 1
    return [f"**Experiment:** {results.get('group')} | **Generated:** {results.get('generated')}"
            f" | **Status:** {complete}/{len(names)} complete", ""]


def _run_status(records: dict[str, Any], runs: dict[str, Any], names: list[str]) -> list[str]:
    lines = ["## Run Status", "", "| Run | Type | Fine-tuning | Evaluation |", "|---|---|---|---|"]
    for name in names:
        rec = _record(records, name)
        kind = _kind(rec, runs.get(name) or {})
        ft = rec.get("finetune") if isinstance(rec.get("finetune"), dict) else rec.get("run")
        ft_cell = _glyph(ft.get("status")) if isinstance(ft, dict) else "-"
        lines.append(f"| {_cell(name)} | {_cell(kind)} | {ft_cell} | {_eval_summary(rec)} |")
    return lines


def _training(runs: dict[str, Any], names: list[str]) -> list[str]:
    trained = [(n, runs[n]["training"]) for n in names if (runs.get(n) or {}).get("training")]
    lines = ["", "## Training Results", ""]
    if not trained:
        return lines + ["No training results yet."]
    lines += ["| Run | Final Loss | Total Steps | Epochs | Duration |", "|---|---|---|---|---|"]
    for name, tr in trained:
        lines.append(f"| {_cell(name)} | {_fmt(tr.get('final_loss'), 4)} | "
                     f"{_fmt(tr.get('steps'))} | {_fmt(tr.get('epochs'))} | "
                     f"{_duration(tr.get('duration_s'))} |")
    return lines


def _evaluations(runs: dict[str, Any], names: list[str]) -> tuple[list[str], list[Any]]:
    """The Evaluation Results section and its rows ``(run, key, result, acc, bal, f1)``."""
    rows = []
    for name in names:
        for key, ev in ((runs.get(name) or {}).get("evaluations") or {}).items():
            acc, bal, f1 = _accuracy(ev)
            rows.append((name, key, ev, acc, bal, f1))
    lines = ["", "## Evaluation Results", ""]
    if not rows:
        return lines + ["No evaluation results yet."], rows
    lines += ["| Run | Task | Epoch | Accuracy | Bal. Acc | F1 | Sat. | Samples |",
              "|---|---|---|---|---|---|---|---|"]
    for name, _key, ev, acc, bal, f1 in rows:
        sat = "✓" if isinstance(acc, int | float) and acc >= SATURATED else "-"
        samples = ev.get("samples")
        if ev.get("completed_samples") not in (None, samples):
            samples = f"{ev.get('completed_samples')}/{samples}"
        task = ev.get("task") or _key
        if ev.get("status") not in (None, "success"):
            task = f"{task} ({ev.get('status')})"
        lines.append(f"| {_cell(name)} | {_cell(task)} | {_fmt(ev.get('epoch'))} | "
                     f"{_fmt(acc)} | {_fmt(bal)} | {_fmt(f1)} | {sat} | {_cell(samples)} |")
    scored = [r for r in rows if isinstance(r[3], int | float)]
    if scored:
        name, _key, ev, acc, _b, _f = max(scored, key=lambda r: r[3])
        where = ev.get("task") or _key
        if ev.get("epoch") is not None:
            where += f", epoch {ev['epoch']}"
        lines += ["", f"**Best performing:** {name} ({where}): {acc:.3f}"]
    return lines, rows


def _metrics(runs: dict[str, Any], names: list[str], *, has_eval_rows: bool) -> list[str]:
    """Sweeps' Metrics section; its best run only when there are no evaluation rows."""
    metric_rows = [(n, runs[n]["metrics"]) for n in names if (runs.get(n) or {}).get("metrics")]
    if not metric_rows:
        return []
    keys: list[str] = []
    for _n, m in metric_rows:
        keys += [k for k, v in m.items() if k not in keys and not isinstance(v, list)]
    keys = keys[:8]
    lines = ["", "## Metrics", "", "| Run | " + " | ".join(_cell(k) for k in keys) + " |",
             "|---|" + "---|" * len(keys)]
    for name, m in metric_rows:
        lines.append(f"| {_cell(name)} | " + " | ".join(_fmt(m.get(k)) for k in keys) + " |")
    primary = next((k for k in keys if "accuracy" in k.lower()), None)
    scored = [(n, m[primary]) for n, m in metric_rows if primary
              and isinstance(m.get(primary), int | float)
              and not isinstance(m.get(primary), bool)]
    if scored and not has_eval_rows:
        name, value = max(scored, key=lambda r: r[1])
        lines += ["", f"**Best performing:** {name} ({primary}): {_fmt(value)}"]
    return lines


def _datasets(runs: dict[str, Any], names: list[str]) -> list[str]:
    used = [(n, (runs.get(n) or {}).get("datasets") or {}) for n in names]
    used = [(n, d) for n, d in used if d.get("training") or d.get("evaluation")]
    if not used:
        return []
    lines = ["", "## Datasets Used", "", "| Run | Training dataset | Eval dataset(s) |",
             "|---|---|---|"]
    for name, d in used:
        evals = list(dict.fromkeys((d.get("evaluation") or {}).values()))
        lines.append(f"| {_cell(name)} | {_cell(d.get('training'))} | "
                     f"{_cell(', '.join(evals) or None)} |")
    return lines


def _incomplete(records: dict[str, Any], names: list[str]) -> list[str]:
    incomplete = []
    for name in names:
        for key, st in _stages(_record(records, name)):
            if st.get("status") in ("completed", "skipped"):
                continue
            note = st.get("reason") or st.get("note") or ""
            if st.get("exit_code") not in (None, 0):
                note = f"exit {st['exit_code']}" + (f"; {note}" if note else "")
            if not note and st.get("job_id"):
                note = f"job {st['job_id']}"
            incomplete.append(f"| {_cell(name)} | {_cell(key)} | {_glyph(st.get('status'))} | "
                              f"{_cell(note or '-')} |")
    lines = ["", "## Incomplete Runs", ""]
    if incomplete:
        return lines + ["| Run | Stage | Status | Notes |", "|---|---|---|---|", *incomplete]
    return lines + ["All runs complete."]
