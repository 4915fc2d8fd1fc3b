"""Pure SLURM parsing and state mapping, fed with output recorded in ``tests/data/slurm/``."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.backends import slurm
from compiler.backends.slurm import JobRecord, StageState, map_state

DATA = Path(__file__).parent / "data" / "slurm"


def read(name: str) -> str:
    return (DATA / name).read_text("utf-8")


# --- scontrol -o ---------------------------------------------------------------------------

FINISHED = {  # job id → (status, exit code, reason) after every job of the recording ended
    "1": ("completed", 0, None),
    "3": ("completed", 0, None),
    "4": ("failed", 3, "FAILED: NonZeroExitCode (exit code 3)"),
    "5": ("failed", None, "CANCELLED: DependencyNeverSatisfied (a job it depends on failed; "
          "it will never run)"),
    "6": ("failed", None, "CANCELLED (killed by signal 15, SIGTERM)"),
    "7": ("completed", 0, None),
    "8": ("completed", 0, None),
    "9_0": ("completed", 0, None),
    "9_1": ("completed", 0, None),
    "9_2": ("failed", 4, "FAILED: NonZeroExitCode (exit code 4)"),
    "9_3": ("completed", 0, None),
    "10_0": ("completed", 0, None),
    "10_2": ("failed", None, "CANCELLED: DependencyNeverSatisfied (a job it depends on failed; "
             "it will never run)"),
    "11": ("submitted", None, None),
    "12": ("failed", None, "FAILED: JobLaunchFailure (killed by signal 9, SIGKILL)"),
}


def test_scontrol_finished_jobs_map_to_tracker_states() -> None:
    recs = slurm.parse_scontrol(read("scontrol_all.txt"))
    assert len(recs) == 18
    for job_id, (status, code, reason) in FINISHED.items():
        assert map_state(recs[job_id]) == StageState(status, reason, code), job_id


def test_scontrol_expanded_stdout_and_array_raw_ids() -> None:
    recs = slurm.parse_scontrol(read("scontrol_all.txt"))
    assert recs["4"].stdout == "/tmp/rec/slurm-4.out"
    assert recs["9_2"].stdout == "/tmp/rec/slurm-9_2.out"
    assert recs["9_2"].raw_id == "18"
    assert recs["9_3"].raw_id == "9"  # the last task keeps the array's own id
    assert "9" not in recs  # an array's own id is never a plain job id
    assert recs["8"].partition == "gpu"


def test_scontrol_running_and_pending_states() -> None:
    recs = slurm.parse_scontrol(read("early_scontrol.txt"))
    states = {k: map_state(v).status for k, v in recs.items()}
    assert states["4"] == "running"
    assert states["5"] == "submitted"  # waiting for its dependency
    assert states["9_3"] == "submitted"
    assert states["11"] == "submitted"  # held
    assert states["3"] == "completed"


def test_scontrol_values_with_spaces_and_key_like_words() -> None:
    line = next(ln for ln in read("scontrol_all.txt").splitlines() if ln.startswith("JobId=7 "))
    kv = slurm.parse_keyvalue_line(line)
    assert kv["JobName"] == "name with spaces"
    assert kv["Comment"] == "a comment with Key=Value inside"
    assert kv["StdErr"] == "/tmp/rec/slurm-7.out"
    assert kv["StdOut"] == "/tmp/rec/slurm-7.out"
    assert kv["Power"] == ""
    assert kv["AllocNode:Sid"] == "localhost:6828"
    assert "Key" not in kv
    cmd = slurm.parse_keyvalue_line(read("command_scontrol.txt"))
    assert cmd["Command"] == "/tmp/rec/my script.slurm a1 b 2"
    assert cmd["WorkDir"] == "/tmp/rec"


def test_held_array_range_expands_to_elements_without_output() -> None:
    recs = slurm.parse_scontrol(read("held_array_scontrol.txt"))
    assert sorted(recs) == ["19_0", "19_1", "19_2", "19_3"]
    assert all(r.stdout is None and map_state(r).status == "submitted" for r in recs.values())
    sq = slurm.parse_squeue(read("held_array_squeue.txt"))
    assert sorted(sq) == ["19_0", "19_1", "19_2", "19_3"]


_PLAIN_KEYS = ["JobId", "JobState", "Reason", "ExitCode", "Partition", "NumCPUs", "Power"]
_FREE_KEYS = ["JobName", "Comment", "Command", "StdOut"]
_plain_value = st.text(st.characters(whitelist_categories=("L", "N"),
                                     whitelist_characters=":/_-.,()"), max_size=12)
# lower-case words: never one of scontrol's keys, so "x=y" inside a value must stay there
_free_value = st.lists(st.text(st.characters(whitelist_categories=("Ll", "Nd"),
                                             whitelist_characters="=:/_-.,"), min_size=1,
                               max_size=8), max_size=4).map(" ".join)


@given(st.fixed_dictionaries({k: _plain_value for k in _PLAIN_KEYS}),
       st.fixed_dictionaries({k: _free_value for k in _FREE_KEYS}), st.randoms())
def test_keyvalue_roundtrip(plain: dict[str, str], free: dict[str, str], rnd) -> None:
    pairs = list(plain.items()) + list(free.items())
    rnd.shuffle(pairs)
    pairs.sort(key=lambda kv: kv[0] == "JobId", reverse=True)
    line = " ".join(f"{k}={v}" for k, v in pairs) + " "
    assert slurm.parse_keyvalue_line(line) == dict(pairs)


# --- squeue / sacct --------------------------------------------------------------------------


def test_squeue_states_without_exit_codes() -> None:
    recs = slurm.parse_squeue(read("squeue_all.txt"))
    assert map_state(recs["4"]) == StageState("failed", "FAILED: NonZeroExitCode", None)
    assert map_state(recs["5"]).status == "failed"
    assert map_state(recs["9_1"]) == StageState("completed", None, 0)
    assert recs["7"].name == "name with spaces"
    assert recs["9_2"].raw_id == "18"
    early = slurm.parse_squeue(read("early_squeue.txt"))
    assert map_state(early["6"]).status == "running"
    assert map_state(early["5"]).status == "submitted"


def test_squeue_name_with_pipe() -> None:
    recs = slurm.parse_squeue("44|44|N/A|a|b|RUNNING|None|debug|N/A\n")
    assert recs["44"].name == "a|b"
    assert recs["44"].state == "RUNNING"


def test_sacct_states_suffixes_and_steps() -> None:
    recs = slurm.parse_sacct(read("sacct_accounting.txt"))
    assert "28.batch" not in recs
    assert map_state(recs["28"]) == StageState("failed", "FAILED (exit code 3)", 3)
    assert map_state(recs["23"]) == StageState("failed", "CANCELLED by 0", None)
    assert map_state(recs["19"]) == StageState("completed", None, 0)
    assert map_state(recs["30"]) == StageState(
        "failed", "OUT_OF_MEMORY: OutOfMemory (killed by signal 125)", None)
    assert map_state(recs["31"]).reason == "TIMEOUT: TimeLimit (killed by signal 15, SIGTERM)"
    assert [k for k in recs if k.startswith("18_")] == ["18_0", "18_1", "18_2", "18_3"]
    assert recs["32"].name == "a|b|name"
    assert map_state(recs["32"]).status == "running"


def test_accounting_disabled_is_read_from_the_text() -> None:
    assert slurm.accounting_disabled(read("sacct_disabled.txt"))
    assert not slurm.accounting_disabled(read("sacct_accounting.txt"))
    assert slurm.parse_sacct(read("sacct_disabled.txt")) == {}


# --- mapping table ---------------------------------------------------------------------------

@pytest.mark.parametrize("state,reason,exit_code,expected", [
    ("PENDING", "Resources", "0:0", ("submitted", None, None)),
    ("CONFIGURING", None, None, ("submitted", None, None)),
    ("RUNNING", None, "0:0", ("running", None, None)),
    ("COMPLETING", None, "0:0", ("running", None, None)),
    ("COMPLETED", None, "0:0", ("completed", None, 0)),
    ("FAILED", "NonZeroExitCode", "3:0", ("failed", "FAILED: NonZeroExitCode (exit code 3)", 3)),
    ("TIMEOUT", "TimeLimit", "0:15", ("failed", "TIMEOUT: TimeLimit (killed by signal 15, "
                                      "SIGTERM)", None)),
    ("OUT_OF_MEMORY", None, "0:9", ("failed", "OUT_OF_MEMORY (killed by signal 9, SIGKILL)",
                                    None)),
    ("CANCELLED by 1000", None, "0:0", ("failed", "CANCELLED by 1000", None)),
    ("CANCELLED+", None, "0:15", ("failed", "CANCELLED+ (killed by signal 15, SIGTERM)", None)),
    ("CANCELLED by 1000", None, "143:0",
     ("failed", "CANCELLED by 1000 (exit code 143 = 128 + 15, SIGTERM)", 143)),
    ("FAILED", "NonZeroExitCode", "200:0",
     ("failed", "FAILED: NonZeroExitCode (exit code 200)", 200)),
    ("NODE_FAIL", None, "0:0", ("failed", "NODE_FAIL", None)),
    ("PREEMPTED", None, "0:0", ("failed", "PREEMPTED", None)),
    ("BOOT_FAIL", None, "0:0", ("failed", "BOOT_FAIL", None)),
    ("DEADLINE", None, "0:0", ("failed", "DEADLINE", None)),
    ("PENDING", "DependencyNeverSatisfied", "0:0",
     ("failed", "PENDING: DependencyNeverSatisfied (a job it depends on failed; it will never "
      "run)", None)),
    ("SOMETHING_NEW", None, None, ("submitted", None, None)),
])
def test_state_mapping(state, reason, exit_code, expected) -> None:
    rec = JobRecord(job_id="1", state=state, reason=reason, exit_code=exit_code)
    assert map_state(rec) == StageState(*expected)


def test_exit_code_text() -> None:
    assert slurm.parse_exit_code("3:0") == (3, 0)
    assert slurm.parse_exit_code("0:15") == (0, 15)
    assert slurm.parse_exit_code("") is None
    assert slurm.parse_exit_code("x:y") is None


# --- sbatch ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text,job", [
    ("4812345\n", "4812345"),
    ("4812345;della\n", "4812345"),
    ("Submitted batch job 77\n", "77"),
    ("\n  12\n", "12"),
])
def test_sbatch_parsable_output(text: str, job: str) -> None:
    assert slurm.parse_sbatch_output(text) == job


@pytest.mark.parametrize("text", ["", "\n", "sbatch: error: x\n", "12a\n", "-3\n"])
def test_sbatch_output_without_an_id_is_an_error(text: str) -> None:
    with pytest.raises(slurm.SubmitError):
        slurm.parse_sbatch_output(text)


def test_sbatch_argv() -> None:
    assert slurm.sbatch_argv("f.slurm") == ["sbatch", "--parsable", "f.slurm"]
    assert slurm.sbatch_argv("e.slurm", dependency="aftercorr:5", array="0,2%1") == [
        "sbatch", "--parsable", "--array=0,2%1", "--dependency=aftercorr:5",
        "--kill-on-invalid-dep=yes", "e.slurm"]


# --- arrays, directives and output paths -----------------------------------------------------

@pytest.mark.parametrize("spec,tasks", [
    ("0-3", [0, 1, 2, 3]), ("1,3-5", [1, 3, 4, 5]), ("[0-3%2]", [0, 1, 2, 3]),
    ("0-7:2", [0, 2, 4, 6]), ("5", [5]),
])
def test_array_specs(spec: str, tasks: list[int]) -> None:
    assert slurm.expand_array_spec(spec) == tasks


def test_array_spec_bounds() -> None:
    with pytest.raises(ValueError):
        slurm.expand_array_spec("0-4294967294")
    with pytest.raises(ValueError):
        slurm.expand_array_spec("x")
    assert slurm.parse_scontrol("JobId=5 ArrayJobId=5 ArrayTaskId=0-99999999999 "
                                "JobState=PENDING\n") == {}


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=30, unique=True))
def test_array_spec_roundtrip(tasks: list[int]) -> None:
    assert slurm.expand_array_spec(",".join(map(str, tasks))) == tasks


def test_directives_stop_at_the_first_command() -> None:
    text = ("#!/bin/bash\n# comment\n#SBATCH --job-name=train-1\n#SBATCH -o logs/%x-%j.out\n"
            "#SBATCH --array=0-9%3 --chdir /work\n\necho hi\n#SBATCH --output=ignored\n")
    assert slurm.read_directives(text) == {"job-name": "train-1", "output": "logs/%x-%j.out",
                                           "array": "0-9%3", "chdir": "/work"}


def test_output_paths(tmp_path: Path) -> None:
    script = tmp_path / "run" / "finetune.slurm"
    assert slurm.output_path(script, "#!/bin/bash\necho\n", "42") == \
        str(tmp_path / "run" / "slurm-42.out")
    text = "#!/bin/bash\n#SBATCH --output=/abs/%x/%A_%3a.out\n#SBATCH -J job\n"
    assert slurm.output_path(script, text, "7_4", array_id="7", task=4) == "/abs/job/7_004.out"
    assert slurm.output_path(script, "#SBATCH --output=out-%j-%N.log\n", "9") is None
    assert slurm.output_path(script, "#SBATCH --output=a%%b-%j.log\n", "9") == \
        str(tmp_path / "run" / "a%b-9.log")
    # %j of an array element is its raw id, which SLURM assigns later
    assert slurm.output_path(script, "#SBATCH -o s-%j.out\n", "7_1", array_id="7",
                             task=1) is None
    assert slurm.output_path(script, "", "7_1", array_id="7", task=1) == \
        str(tmp_path / "run" / "slurm-7_1.out")


def test_scontrol_filter_by_job_and_array_ids() -> None:
    text = read("scontrol_all.txt")
    recs = slurm.parse_scontrol(text, frozenset({"4", "9"}))
    assert sorted(recs) == ["4", "9_0", "9_1", "9_2", "9_3"]
    full = slurm.parse_scontrol(text)
    assert all(recs[k] == full[k] for k in recs)
    assert slurm.parse_scontrol(text, frozenset()) == {}


def test_output_folders_are_created_before_sbatch(tmp_path: Path) -> None:
    script = tmp_path / "g" / "run_array.slurm"
    script.parent.mkdir()
    text = ("#!/bin/bash\n#SBATCH --job-name=sweep\n#SBATCH --output=logs/%x/%A_%a.out\n"
            "#SBATCH --error=/nonexistent-%j/err\n")
    assert slurm.ensure_output_dirs(script, text) == [tmp_path / "g" / "logs" / "sweep"]
    assert (tmp_path / "g" / "logs" / "sweep").is_dir()
    assert not Path("/nonexistent-%j").exists()  # a job-time value in the folder: left alone
    assert slurm.ensure_output_dirs(script, text) == []
    assert slurm.ensure_output_dirs(script, "#SBATCH -o slurm-%j.out\n") == []


_slurmish = st.text(st.sampled_from(list("JobId=ArrayTaskId=1-3%_|: \n0123456789abcXYZ[],+.()")),
                    max_size=300)


@given(st.one_of(st.text(max_size=300), _slurmish))
def test_parsers_never_raise_on_arbitrary_text(text: str) -> None:
    for parse in (slurm.parse_scontrol, slurm.parse_squeue, slurm.parse_sacct):
        for rec in parse(text).values():
            assert map_state(rec).status in ("submitted", "running", "completed", "failed")
    try:
        job = slurm.parse_sbatch_output(text)
    except slurm.SubmitError:
        return
    assert job.isdigit()
