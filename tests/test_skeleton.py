"""Rendering once per shape (compiler/skeleton.py) gives exactly what jinja2 gives per file."""

from __future__ import annotations

import json

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.emit import prepare
from compiler.render import environment, json_value
from compiler.skeleton import Fixed, PathRef, SkeletonRenderer, flatten, unwrap

TEMPLATE = """\
#!/bin/bash
# {{ run.name }} ({{ shared }})
cd {% if run.out.absolute %}{{ run.out.path|sh }}{% else %}"$D"/{{ run.out.path|sh }}{% endif %}
{% if run.gpus > 0 %}
#SBATCH --gres=gpu:{{ run.gpus }}
{% endif %}
tune{% for w in run.args %} {{ w|sh }}{% endfor %}
{% for k, v in run.env.items() %}
export {{ k }}={{ v|sh }}
{% endfor %}
{% if run.note %}
# note: {{ run.note }}
{% endif %}
lr: {{ run.lr|yq }}
body: {{ run.note|json }}
"""

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
scalar = st.one_of(st.none(), st.booleans(), st.integers(-5, 5),
                   st.floats(allow_nan=False, allow_infinity=False), text)


def _env() -> jinja2.Environment:
    env = prepare(environment(None))
    env.loader = jinja2.DictLoader({
        "t.j2": TEMPLATE, "cmp.j2": "{% if run.name == 'b' %}B{% endif %}{{ run.name }}\n",
        "up.j2": "{{ run.name|upper }}\n", "cat.j2": "{{ ('x/' ~ run.name)|sh }}\n"})
    return env


def _run(name: str, out: str, gpus: int, args: list[str], env: dict[str, str], note,
         lr) -> dict:
    return {"name": name, "out": PathRef(out), "gpus": Fixed(gpus), "args": args,
            "env": env, "note": note, "lr": lr}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(text, text, st.integers(0, 2), st.lists(text, max_size=3),
                          st.dictionaries(st.sampled_from(["A", "B_1", "C"]), text, max_size=2),
                          scalar, scalar), min_size=1, max_size=6))
def test_every_file_equals_a_direct_render(runs) -> None:
    env = _env()
    template = env.get_template("t.j2")
    renderer = SkeletonRenderer(template)
    for run in runs:
        per_run = {"run": _run(*run)}
        expected = template.render({"shared": "S", **unwrap(per_run)})
        assert renderer.render({"shared": "S"}, per_run) == expected
    assert not renderer.direct  # the template is one the skeleton can replay


def test_shapes_are_reused_across_runs() -> None:
    env = _env()
    renderer = SkeletonRenderer(env.get_template("t.j2"))
    for i in range(50):
        renderer.render({"shared": "S"}, {"run": _run(f"r{i}", "/abs" if i % 2 else "rel", 1,
                                                      ["run", f"--x={i}"], {"A": "$HOME"},
                                                      "n", 0.1 * i)})
    # absolute/relative path × (lr == 0.0 is falsy for the first run only)
    assert len(renderer.skeletons) == 3


def test_a_template_that_compares_or_transforms_a_value_renders_directly() -> None:
    env = _env()
    for name in ("cmp.j2", "up.j2"):
        template = env.get_template(name)
        renderer = SkeletonRenderer(template)
        outs = [renderer.render({}, {"run": {"name": n}}) for n in ("a", "b", "c")]
        assert renderer.direct
        assert outs == [template.render(run={"name": n}) for n in ("a", "b", "c")]


def test_a_concatenated_value_that_is_filtered_renders_directly() -> None:
    template = _env().get_template("cat.j2")
    renderer = SkeletonRenderer(template)
    assert renderer.render({}, {"run": {"name": "a b"}}) == "'x/a b'\n"
    assert renderer.render({}, {"run": {"name": "c"}}) == "x/c\n"
    assert renderer.direct


def test_flatten_names_every_leaf_and_keeps_fixed_values_apart() -> None:
    flat = flatten({"run": {"name": "a", "res": Fixed({"gpus": 1}), "out": PathRef("/o"),
                            "args": ["x", "y"], "pairs": [("k", 1)], "empty": []}})
    assert dict(flat) == {"run.name": "a", "run.out.path": "/o", "run.args.0": "x",
                          "run.args.1": "y", "run.pairs.k": 1}
    assert flat.fixed == (("run.res", (("gpus", 1),)), ("run.out", True))


@given(scalar | st.lists(st.integers(), max_size=2))
def test_the_json_filter_is_json_dumps(value) -> None:
    assert json_value(value) == json.dumps(value, ensure_ascii=False)


def _boom(x: int) -> int:
    raise ValueError(f"bad {x}")


def _pid_and(x: int) -> tuple[int, int]:
    import os

    return os.getpid(), x * 2


def test_a_forked_call_gives_the_result_or_the_plain_call_s_error() -> None:
    import os

    from compiler import forked

    pending = forked.start(_pid_and, 21)
    pid, value = pending.result()
    assert value == 42
    assert (pid != os.getpid()) == forked.can_fork()
    with pytest.raises(ValueError, match="bad 3"):  # raised here by the plain call
        forked.start(_boom, 3).result()
    pending = forked.start(_pid_and, 1)
    pending.cancel()  # this process failed first: the child is stopped and reaped
    assert pending.pid is None and pending.read_fd is None


def test_a_large_group_renders_the_same_with_and_without_the_child(tmp_path, monkeypatch):
    import compiler.emit as emit
    from compiler import forked

    from .test_compile import PLAN, _compile, _tree

    monkeypatch.setattr(emit, "PARALLEL_RUNS", 1)
    _compile(tmp_path / "forked")
    monkeypatch.setattr(forked, "can_fork", lambda: False)
    _compile(tmp_path / "plain")
    group = PLAN.parent.name
    assert _tree(tmp_path / "forked" / group) == _tree(tmp_path / "plain" / group)
