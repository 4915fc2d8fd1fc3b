"""Expansion: counts follow product/zip arithmetic, names are unique safe path components,
exclusions need reasons, placeholders are checked, evaluations follow the plan."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.config import Settings
from compiler.document import load
from compiler.expand import (
    Options,
    combine,
    fill_command,
    matches,
    recipe_for,
    sweep_run_name,
)
from compiler.matrix import check_name
from compiler.spec import expand_document

from .conftest import ROOT

LEVEL = st.one_of(
    st.integers(-1000, 1000),
    st.floats(1e-6, 1e3, allow_nan=False, allow_infinity=False),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8),
)
FACTORS = st.dictionaries(
    st.from_regex(r"[a-z][a-z_]{0,6}", fullmatch=True),
    st.lists(LEVEL, min_size=1, max_size=4, unique_by=lambda v: str(v)),
    min_size=1, max_size=4,
)


@given(FACTORS)
def test_grid_count_is_the_product(factors: dict) -> None:
    combos, err = combine(factors, "grid")
    assert err is None
    assert len(combos) == math.prod(len(v) for v in factors.values())
    assert all(list(c) == list(factors) for c in combos)


@given(st.integers(1, 6), st.integers(1, 4))
def test_zip_count_is_the_common_length(n: int, k: int) -> None:
    factors = {f"f{i}": list(range(n)) for i in range(k)}
    combos, err = combine(factors, "zip")
    assert err is None and len(combos) == n
    assert all(len(set(c.values())) == 1 for c in combos)


def test_zip_of_unequal_lengths_is_an_error() -> None:
    combos, err = combine({"a": [1, 2], "b": [1, 2, 3]}, "zip")
    assert combos == [] and err is not None and "a=2, b=3" in err


@given(FACTORS)
@settings(max_examples=200)
def test_sweep_names_are_safe_and_unique_when_levels_differ(factors: dict) -> None:
    combos, _ = combine(factors, "grid")
    names = [sweep_run_name(c) for c in combos]
    for n in names:
        assert check_name(n) == n
        assert "/" not in n and n not in (".", "..")
    # distinct level texts that slug to distinct strings give distinct names
    slugs = {k: {str(v) for v in vals} for k, vals in factors.items()}
    if all(len({sweep_run_name({k: v}) for v in vals}) == len(vals)
           for k, vals in factors.items()):
        assert len(set(names)) == len(names), slugs


def test_exclusion_matches_on_text() -> None:
    assert matches({"model": "1B", "lora_rank": 4}, {"model": "1B", "lora_rank": "4"})
    assert not matches({"model": "3B"}, {"model": "1B", "lora_rank": 4})


def test_fill_command_quotes_values_and_reports_unknown_placeholders() -> None:
    cmd, unknown = fill_command("python t.py --x {x} --y {y} --z {{lit}}",
                                {"x": "a b; rm -rf /", "y": 3})
    assert cmd == "python t.py --x 'a b; rm -rf /' --y 3 --z {lit}"
    assert unknown == []
    _, unknown = fill_command("run {x} {nope}", {"x": 1})
    assert unknown == ["nope"]


def test_recipe_selection_follows_seed_004() -> None:
    assert recipe_for("auto", 1, False) == ("lora_finetune_single_device", None, None)
    assert recipe_for("auto", 1, True)[0] == "lora_finetune_single_device_val"
    assert recipe_for("auto", 4, False) == ("lora_finetune_distributed", 4, None)
    assert recipe_for("auto", 2, True)[2] is not None
    assert recipe_for("lora_finetune_distributed_v1", 2, False)[0] == "lora_finetune_distributed"


# -- documents ---------------------------------------------------------------------------
RUN_GROUP = """\
---
kind: run-group
experiment: {{name: grp, date: 2025-10-18}}
variables:
  model: [Llama-3.2-1B-Instruct, Llama-3.2-3B-Instruct]
  lora_rank: {ranks}
  word_len: [5L, 9L]
controls: true
models:
  - {{name: Llama-3.2-1B-Instruct, path: /m/Llama-3.2-1B-Instruct}}
  - {{name: Llama-3.2-3B-Instruct, path: /m/Llama-3.2-3B-Instruct}}
data:
  training: {{path: "/d/words_{{word_len}}.json",
             splits: {{train: 800, validation: 100, test: 100}}}}
training: {{epochs: {epochs}, batch_size: {{Llama-3.2-1B-Instruct: 16, Llama-3.2-3B-Instruct: 8}}}}
evaluation:
  tasks: [{{name: cap, script: tasks/cap/eval.py}}, {{name: rsn, script: tasks/rsn/eval.py}}]
  epochs: {eval_epochs}
exclude: {exclude}
---
# grp
"""


def _expand(tmp_path: Path, text: str, **opts: object):
    p = tmp_path / "runs_plan.md"
    p.write_text(text, "utf-8")
    matrix, diags = expand_document(load(p), Settings(root=ROOT), Options(**opts))
    # the one info a plan without a cluster profile gets (EX013: which built-in profile)
    assert [d.code for d in diags if d.severity.value == "info"] in ([], ["EX013"])
    return matrix, [d for d in diags if d.severity.value != "info"]


@given(ranks=st.lists(st.integers(1, 256), min_size=1, max_size=4, unique=True),
       epochs=st.integers(1, 4), sel=st.sampled_from(["last", "all", "best"]))
@settings(max_examples=30, deadline=None)
def test_run_group_counts_names_and_evaluations(tmp_path_factory, ranks, epochs, sel) -> None:
    tmp = tmp_path_factory.mktemp("rg")
    matrix, diags = _expand(tmp, RUN_GROUP.format(ranks=ranks, epochs=epochs,
                                                   eval_epochs=sel, exclude="[]"))
    assert diags == [] and matrix is not None
    ft = matrix.fine_tuned
    assert len(ft) == 2 * len(ranks) * 2
    assert len(matrix.controls) == 2
    names = [r.name for r in matrix.runs]
    assert len(set(names)) == len(names)
    assert all(check_name(n) for n in names)
    per = {"last": 1, "all": epochs, "best": 1}[sel]
    assert all(len(r.evaluations) == 2 * per for r in ft)
    assert all([e.key for e in r.evaluations] == ["cap", "rsn"] for r in matrix.controls)
    for r in ft:
        assert r.finetune.lora_alpha == 2 * r.finetune.lora_rank
        assert r.name == f"{r.model}_{r.factors['word_len']}_rank{r.finetune.lora_rank}"
        assert r.finetune.data_path == f"/d/words_{r.factors['word_len']}.json"
        assert r.finetune.batch_size == (16 if "1B" in r.model else 8)


def test_exclusions_need_a_reason_and_remove_runs(tmp_path: Path) -> None:
    text = RUN_GROUP.format(ranks=[4, 64], epochs=1, eval_epochs="last",
                            exclude="[{levels: {model: Llama-3.2-3B-Instruct, lora_rank: 4}, "
                                    "reason: too small to matter}]")
    matrix, diags = _expand(tmp_path, text)
    assert diags == [] and matrix is not None
    assert len(matrix.fine_tuned) == 8 - 2
    assert matrix.excluded[0].reason == "too small to matter"
    text = text.replace(", reason: too small to matter", "")
    matrix, diags = _expand(tmp_path, text)
    assert matrix is None
    assert [(d.code, d.line) for d in diags] == [("EX002", 19)]


def test_a_run_name_that_would_escape_is_a_diagnostic(tmp_path: Path) -> None:
    text = RUN_GROUP.format(ranks=[4], epochs=1, eval_epochs="last", exclude="[]").replace(
        "word_len: [5L, 9L]", "word_len: [../../etc]")
    matrix, diags = _expand(tmp_path, text)
    # the level is slugged ('..-..-etc'), so the name stays inside the group folder
    assert matrix is not None and all("/" not in r.name for r in matrix.runs)
    text = text.replace("controls: true", "controls: true\nruns: [{name: ../x, model: "
                        "Llama-3.2-1B-Instruct, lora_rank: 4}]")
    matrix, diags = _expand(tmp_path, text)
    assert matrix is None and [d.code for d in diags] == ["EX003"]


def test_unknown_placeholder_in_a_sweep_command(tmp_path: Path) -> None:
    p = tmp_path / "plan.md"
    p.write_text(textwrap.dedent("""\
        ---
        kind: plan
        command: python train.py --lr {lr} --bogus {nope}
        sweep: {grid: {lr: [0.1, 0.01]}, seeds: [1, 2]}
        ---
        ## 📋 Plan: x
        """), "utf-8")
    matrix, diags = expand_document(load(p), Settings(root=ROOT), Options())
    assert matrix is None
    assert [(d.code, d.line, d.column) for d in diags] == [("EX005", 3, 1)]
    assert "{nope}" in diags[0].message


@given(st.lists(st.sampled_from([0.1, 0.01, 0.001, 1e-4]), min_size=1, max_size=4, unique=True),
       st.integers(1, 4))
@settings(max_examples=25, deadline=None)
def test_sweep_zip_grid_and_repeats(tmp_path_factory, lrs, repeats) -> None:
    tmp = tmp_path_factory.mktemp("sw")
    p = tmp / "plan.md"
    wds = [i / 10 for i in range(len(lrs))]
    p.write_text(f"---\nkind: plan\ncommand: python t.py --lr {{lr}} --wd {{wd}} --seed {{seed}}"
                 f" --out {{out}} --name {{run}}\nsweep: {{zip: {{lr: {lrs}, wd: {wds}}}, "
                 f"repeats: {repeats}}}\n---\n## 📋 Plan: x\n", "utf-8")
    matrix, diags = expand_document(load(p), Settings(root=ROOT), Options())
    assert diags == [] and matrix is not None
    assert len(matrix.runs) == len(lrs) * repeats
    for r in matrix.runs:
        assert r.command.endswith(f"--name {r.name}")
        assert '--out "$PLANC_RUN_DIR"/output' in r.command
        assert r.name == f"lr{r.factors['lr']}_wd{r.factors['wd']}_seed{r.factors['seed']}"


def test_shipped_sweep_expands_to_six_runs() -> None:
    matrix, diags = expand_document(load(ROOT / "plans/lr-sweep/plan.md"), Settings(root=ROOT),
                                    Options())
    assert diags == [] and matrix is not None
    assert [r.name for r in matrix.runs] == [
        "alpha0.0001_seed0", "alpha0.0001_seed1", "alpha0.001_seed0", "alpha0.001_seed1",
        "alpha0.01_seed0", "alpha0.01_seed1"]
    assert matrix.cluster.type == "cpu_only"
