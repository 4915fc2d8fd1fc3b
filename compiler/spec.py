"""One plan → one typed spec: the only road from a document to its runs.

Every source form — seed 004's ``runs_plan.md`` (with optional front-matter for compute and
layout), a front-matter run group, cruijff_kit's ``experiment_summary.yaml``
(:func:`compiler.models.experiment_summary.spec_from_experiment_summary`), a plan with a
``command:`` template (a sweep) —
normalises here into a spec (:class:`compiler.models.rungroup.RunGroupSpec` or
:class:`compiler.expand.SweepSpec`) and expands into one typed
:class:`compiler.matrix.RunMatrix` (runs with :class:`~compiler.matrix.FineTune`
settings, :class:`~compiler.matrix.Estimate` s and
:class:`~compiler.matrix.GroupSettings`). Lint (the ``compile`` rule family and the
``CL`` rules), ``planc expand``, ``planc compile``, the tracker payloads and the site all
call :func:`build`; nothing downstream re-parses a plan.

Because lint and compile run the same :func:`build`, every error compile can raise is a
lint diagnostic at the plan location that caused it: ``planc lint`` exit 0 ⇒ ``planc
compile`` succeeds (``tests/test_lint_compile.py`` states it with hypothesis).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, Severity


@dataclass(frozen=True)
class Built:
    """What :func:`build` returns: the matrix (``None`` when an error stops expansion),
    every diagnostic of building it (errors, and infos such as the chosen target), and
    the normalised spec it came from (``None`` when the document is not compilable or its
    facts are missing)."""

    matrix: Any
    diagnostics: tuple[Diagnostic, ...]
    spec: Any = None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == Severity.ERROR]


def compilable(doc: Any) -> bool:
    """Whether ``doc`` describes runs: a run group, or a plan with a front-matter
    ``command:``. Cheap (no imports)."""
    if doc.kind in ("run-group", "experiment-summary"):
        return True
    fm = doc.front_matter
    return doc.kind == "plan" and isinstance(fm, dict) and bool(fm.get("command"))


def source_sha256(doc: Any) -> str:
    """sha256 of the plan file's bytes (its text when the file is gone)."""
    from .document import read_bounded

    raw, _why = read_bounded(Path(doc.path))
    if raw is None:
        raw = doc.text.encode("utf-8")
    return hashlib.sha256(raw).hexdigest()


def _options_key(options: Any) -> tuple[Any, ...]:
    if options is None:
        return (None, None, None, None)
    hist = options.history
    return (options.cluster, options.layout, options.out_root,
            None if hist is None else id(hist))


def build(doc: Any, settings: Any, options: Any = None) -> Built:
    """Normalise and expand ``doc`` (memoised per document and options).

    ``options`` is a :class:`compiler.expand.Options` (cluster override, layout override,
    outputs root, history); ``None`` means the plan's own choices, which is what lint
    checks. A document that is not compilable gives an ``EX005`` error saying so.
    Never raises for bad content.
    """
    key = "planc.spec.build" + repr(_options_key(options))
    return doc.cached(key, lambda d: _build(d, settings, options))


def _build(doc: Any, settings: Any, options: Any) -> Built:
    from .expand import (
        Options,
        _diag,
        expand_rungroup,
        expand_sweep,
        sweep_spec_from_document,
    )

    options = options or Options()
    sha = source_sha256(doc)
    if doc.kind == "run-group":
        from .models.rungroup import spec_from_document

        spec, diags = spec_from_document(doc, settings)
        if spec is None:
            return Built(None, tuple(diags))
        matrix, diags = expand_rungroup(spec, settings, options, sha)
    elif doc.kind == "experiment-summary":
        from .models.experiment_summary import spec_from_experiment_summary

        spec, infos = spec_from_experiment_summary(doc, settings)
        if spec is None:
            return Built(None, tuple(infos))
        matrix, diags = expand_rungroup(spec, settings, options, sha)
        diags = [*infos, *diags]
    elif compilable(doc):
        spec, diags = sweep_spec_from_document(doc)
        if spec is None:
            return Built(None, tuple(diags))
        matrix, diags = expand_sweep(spec, settings, options, sha)
    else:
        what = ("this plan has no command template (front-matter 'command:'), so there is "
                "nothing to compile" if doc.kind == "plan" else
                f"cannot compile a document of kind {doc.kind or 'unknown'!r}; compile takes "
                "a run group or a plan with a command")
        return Built(None, (_diag(doc.path, (1, 1), "EX005", what),))
    if matrix is not None:
        matrix = _with_plan_text(matrix, doc, spec)
    if matrix is not None:
        from .scripts import check_matrix

        problem = check_matrix(matrix)
        if problem:
            diags = [*diags, Diagnostic(doc.path, *spec.pos(""), "EX012", Severity.ERROR,
                                        f"cannot generate the artifacts: {problem}",
                                        "compile-render")]
            matrix = None
    return Built(matrix, tuple(diags), spec)


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?^(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S | re.M)


def strip_front_matter(text: str) -> str:
    """``text`` without a leading YAML front-matter block (``---`` … ``---``/``...``)."""
    return _FRONT_MATTER.sub("", text, count=1).lstrip("\n")


def _plan_text(doc: Any, spec: Any) -> dict[str, str]:
    """What the tracker's plan record says (research-agent-api.md §2, seed 001's Plan Mode):
    ``title``; ``goal``, a plan's ``### Objective`` (a run group's question, purpose or
    hypothesis, else its Overview's type and task); ``raw_markdown`` from the ``## 📋 Plan:``
    heading on (a run group: the document without front-matter); ``plan_status`` the
    front-matter ``status``; ``command_template`` the front-matter ``command``;
    ``environment`` the Compute Setup's ``venv``/``conda``/``system``."""
    fm = doc.front_matter if isinstance(doc.front_matter, dict) else {}
    out = {"plan_status": str(fm.get("status") or ""),
           "command_template": str(fm.get("command") or "")}
    if doc.kind == "experiment-summary":
        exp = (doc.yaml_data or {}).get("experiment") or {}
        goal = spec.question or spec.purpose or spec.hypothesis
        out.update(goal=str(goal or ""), raw_markdown=doc.text, title=str(exp.get("name") or ""))
        return out
    if doc.kind == "run-group":
        from .models.rungroup_doc import parse_run_plan

        exp = fm.get("experiment") if isinstance(fm.get("experiment"), dict) else {}
        rp = parse_run_plan(doc)
        overview = [f"{k[:1].upper()}{k[1:]}: {v.value}" for k, v in rp.overview.items()
                    if k in ("type", "task")]
        goal = (getattr(spec, "question", None) or exp.get("purpose")
                or exp.get("hypothesis") or "; ".join(overview))
        title = fm.get("title") or (rp.name.value if rp.name else None)
        out.update(goal=str(goal or ""), raw_markdown=strip_front_matter(doc.text),
                   title=str(title or ""))
        return out
    from .models.plan import parse_plan

    pm = parse_plan(doc)
    if pm.title and 1 <= pm.title_line <= len(doc.lines):
        raw = "\n".join(doc.lines[pm.title_line - 1:])
    else:
        raw = strip_front_matter(doc.text)
    out.update(goal=str(pm.objective or fm.get("description") or ""), raw_markdown=raw,
               title=str(pm.title or fm.get("title") or ""),
               environment=str(fm.get("environment") or pm.setup_value("environment") or ""))
    return out


def _with_plan_text(matrix: Any, doc: Any, spec: Any) -> Any:
    """``matrix`` with the tracker's plan facts (:func:`_plan_text`) in its settings."""
    facts = {k: v for k, v in _plan_text(doc, spec).items() if v or k != "title"}
    return replace(matrix, settings=replace(matrix.settings, **facts))


def expand_document(doc: Any, settings: Any, options: Any = None
                    ) -> tuple[Any, list[Diagnostic]]:
    """:func:`build` as ``(matrix or None, diagnostics)`` (``planc expand``, the site)."""
    built = build(doc, settings, options)
    return built.matrix, list(built.diagnostics)
