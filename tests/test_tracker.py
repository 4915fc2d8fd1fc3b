"""runs_status.yaml IO: atomic locked writes, merges that never lose a status."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import tracker
from compiler.models.status import RunsStatus


def compiled(runs: dict[str, list[str]]) -> dict:
    return {
        "schema_version": 1,
        "run_group": "g",
        "runs": {
            name: {"finetune": tracker.stage(), "evaluations": {e: tracker.stage() for e in evals}}
            for name, evals in runs.items()
        },
    }


def test_merge_keeps_statuses_adds_new_and_reports_removed() -> None:
    old = compiled({"a": ["t_epoch_0"], "gone": ["t_epoch_0"]})
    old["runs"]["a"]["finetune"].update(status="completed", job_id="42", extra="kept")
    old["runs"]["a"]["evaluations"]["t_epoch_0"]["status"] = "failed"
    old["runs"]["a"]["results"] = {"final_loss": 1.5}
    new = compiled({"a": ["t_epoch_0", "t_epoch_1"], "b": ["t_epoch_0"]})
    merged, report = tracker.merge(old, new)
    a = merged["runs"]["a"]
    assert a["finetune"] == {"status": "completed", "job_id": "42", "output": None,
                             "last_updated": None, "extra": "kept"}
    assert a["evaluations"]["t_epoch_0"]["status"] == "failed"
    assert a["evaluations"]["t_epoch_1"]["status"] == "pending"
    assert a["results"] == {"final_loss": 1.5}
    assert merged["runs"]["gone"] == old["runs"]["gone"]
    assert report.added_runs == ["b"]
    assert report.added_stages == ["a/t_epoch_1"]
    assert report.removed_runs == ["gone"]
    assert list(merged) == ["schema_version", "run_group", "runs"]


def test_a_recompile_refreshes_the_estimate_of_stages_never_submitted() -> None:
    """The ledger: a pending stage takes the new compile's estimate (more history, a better
    prediction); a submitted or finished stage keeps the estimate its job was sized by."""
    def with_estimate(seconds: float, key: str) -> dict:
        data = compiled({"a": ["t"], "b": ["t"]})
        for rec in data["runs"].values():
            rec["finetune"].update(estimate_s=seconds, estimate_key=key)
            rec["evaluations"]["t"].update(estimate_s=seconds / 2, estimate_key=key)
        return data

    old = with_estimate(120.0, "no calibration · seed 004 default")
    old["runs"]["b"]["finetune"].update(status="completed", job_id="7", elapsed_s=100)
    old["runs"]["b"]["evaluations"]["t"].update(status="submitted", job_id="8")
    merged, _ = tracker.merge(old, with_estimate(58.0, "k"))
    a, b = merged["runs"]["a"], merged["runs"]["b"]
    assert (a["finetune"]["estimate_s"], a["finetune"]["estimate_key"]) == (58.0, "k")
    assert a["evaluations"]["t"]["estimate_s"] == 29.0
    assert (b["finetune"]["estimate_s"], b["finetune"]["elapsed_s"]) == (120.0, 100)
    assert b["evaluations"]["t"]["estimate_key"] == "no calibration · seed 004 default"
    # a compile without an estimate for a pending stage drops the stale one
    merged, _ = tracker.merge(merged, compiled({"a": ["t"], "b": ["t"]}))
    assert "estimate_s" not in merged["runs"]["a"]["finetune"]
    assert merged["runs"]["b"]["finetune"]["estimate_s"] == 120.0


def test_dump_quotes_job_ids_and_timestamps_and_roundtrips(tmp_path: Path) -> None:
    data = compiled({"a": ["t"]})
    data["runs"]["a"]["finetune"].update(job_id="4812345", last_updated="2025-10-18 14:03:22")
    text = tracker.dump(data, "2025-10-18 14:03:22")
    assert "job_id: '4812345'" in text
    assert "last_updated: '2025-10-18 14:03:22'" in text
    assert yaml.safe_load(text) == data
    RunsStatus.model_validate(yaml.safe_load(text))


def _bump(args: tuple[str, int]) -> None:
    path, i = args
    def change(cur):
        cur["runs"]["a"].setdefault("counter", []).append(i)
        return cur
    tracker.update(Path(path), change)


def test_concurrent_updates_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "runs_status.yaml"
    path.write_text(tracker.dump(compiled({"a": ["t"]})))
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_bump, [(str(path), i) for i in range(40)])
    data = tracker.read(path)
    assert sorted(data["runs"]["a"]["counter"]) == list(range(40))


def test_update_does_not_rewrite_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "runs_status.yaml"
    tracker.update(path, lambda cur: compiled({"a": ["t"]}), "2025-01-01 00:00:00")
    before = path.read_text()
    tracker.update(path, lambda cur: cur, "2026-01-01 00:00:00")
    assert path.read_text() == before


names = st.text(alphabet="abcdefgh_", min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(names, st.lists(names, max_size=3, unique=True), max_size=5),
       st.dictionaries(names, st.lists(names, max_size=3, unique=True), max_size=5),
       st.sampled_from(["submitted", "running", "completed", "failed"]))
def test_recompile_never_loses_a_status(first, second, status) -> None:
    old = compiled(first)
    for rec in old["runs"].values():
        rec["finetune"]["status"] = status
        rec["finetune"]["job_id"] = "7"
        for ev in rec["evaluations"].values():
            ev["status"] = status
    merged, _ = tracker.merge(old, compiled(second))
    for name, rec in old["runs"].items():
        assert merged["runs"][name]["finetune"] == rec["finetune"]
        for ek, ev in rec["evaluations"].items():
            assert merged["runs"][name]["evaluations"][ek] == ev
    for name, evals in second.items():
        assert set(evals) <= set(merged["runs"][name]["evaluations"])


def big(n: int) -> dict:
    return compiled({f"run{i}": ["t_epoch_0"] for i in range(n)})


def test_json_copy_is_used_only_for_identical_yaml_bytes(tmp_path: Path) -> None:
    path = tmp_path / "runs_status.yaml"
    tracker.update(path, lambda cur: big(800))
    cache = path.with_name(".runs_status.yaml.cache.json")
    assert cache.is_file()
    assert tracker.read(path) == big(800)
    # A person edits the YAML: the copy no longer matches and is ignored.
    text = path.read_text().replace("run0:", "renamed:", 1)
    path.write_text(text)
    data = tracker.read(path)
    assert "renamed" in data["runs"] and "run0" not in data["runs"]
    # A corrupted copy is ignored and the YAML is parsed again.
    cache.write_text("{not json")
    assert tracker.read(path)["runs"]["renamed"]["finetune"]["status"] == "pending"


def test_no_json_copy_when_json_cannot_represent_the_data(tmp_path: Path) -> None:
    path = tmp_path / "runs_status.yaml"
    data = big(800)
    data["runs"]["run1"]["finetune"]["last_updated"] = "2025-10-18 14:03:22"
    text = tracker.dump(data).replace("'2025-10-18 14:03:22'", "2025-10-18 14:03:22")
    path.write_text(text)  # an unquoted timestamp loads as a datetime
    loaded = tracker.read(path)
    assert not path.with_name(".runs_status.yaml.cache.json").exists()
    assert loaded["runs"]["run1"]["finetune"]["last_updated"].year == 2025
