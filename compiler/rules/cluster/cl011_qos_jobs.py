"""The jobs a group puts in the queue at once must fit the QoS's ``MaxSubmitJobsPerUser``.

Submitting every job at once (fine-tunes plus dependent evaluations, all pending) over the
QoS cap makes sbatch refuse the rest (``QOSMaxSubmitJobPerUserLimit``) half-way through.
The rule is quiet when the profile sets ``max_queued`` (at most the cap): the profile then
states that its groups are drip-fed with ``planc submit --max-queued N`` (held stages are
submitted by later ``planc submit``/``planc status --sync`` calls as jobs finish). Each
fine-tune and each evaluation is one job, in either layout: SLURM counts every task of a job
array against the cap, and an array's ``%N`` throttle limits running tasks, not submitted
ones (checked on the project's SLURM with accounting: ``sbatch --array=0-4%1`` under
``MaxSubmitJobsPerUser=2`` is refused with ``QOSMaxSubmitJobPerUserLimit``).

Severity: error — the group cannot be submitted as written: sbatch refuses the jobs over
the cap.

Failing::

    compute: {cluster: fx-qos}        # 88 jobs; QoS normal: MaxSubmitJobsPerUser 25

Passing::

    compute: {cluster: fx-qos-drip}   # max_queued: 25 — planc submit drip-feeds
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base import Context, Finding
from ._jobs import count
from ._shared import cluster_context

CODE = "CL011"
NAME = "cluster-qos-jobs"
SEVERITY = "error"
KINDS = ("run-group", "experiment-summary", "plan")
OPTIONS: dict[str, object] = {}


def check(ctx: Context) -> Iterator[Finding]:
    cc = cluster_context(ctx)
    if cc is None or cc.matrix is None or cc.profile.type != "slurm":
        return
    qos = cc.profile.qos_limit()
    cap = qos.max_submit_jobs_per_user if qos is not None else None
    if not cap:
        return
    if cc.profile.max_queued and cc.profile.max_queued <= cap:
        return
    total = count(cc.matrix)
    if total <= cap:
        return
    line, col = cc.name_pos
    yield Finding(line, col, f"the group submits {total} jobs at once; QoS "
                  f"{cc.profile.qos or 'normal'!r} allows {cap} per user "
                  "(MaxSubmitJobsPerUser)",
                  f"drip-feed it: `planc submit --max-queued {cap}` (or max_queued: {cap} in "
                  "the cluster profile); an array throttle (%N) does not help, as SLURM "
                  "counts every array task")
