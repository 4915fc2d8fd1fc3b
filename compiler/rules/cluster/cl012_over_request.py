"""A request far above what the same stage used last time wastes the queue.

After jobs finish, ``planc results --efficiency`` stores each stage's measured use
(``efficiency.json`` beside ``runs_status.yaml``: sacct ``Elapsed`` and ``MaxRSS``). When the
run group is compiled again, a job whose ``time`` or ``mem`` is above ``factor`` (default 4)
times the use measured for the same run and stage is reported, so the next requests follow
what happened. Stages without a measurement (not run, no accounting) are not judged.

Severity: warning — a generous request is allowed on purpose (a larger model next time), but
it queues longer and holds resources others could use.

Failing::

    compute: {cluster: fx-gpu, time: "02:00:00", mem: 32G}   # efficiency.json: 10 min, 1.5 GiB

Passing::

    compute: {cluster: fx-gpu, time: "00:30:00", mem: 4G}
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..base import Context, Finding
from ._jobs import pos
from ._shared import cluster_context

CODE = "CL012"
NAME = "cluster-over-request"
SEVERITY = "warning"
KINDS = ("run-group", "experiment-summary")
OPTIONS: dict[str, object] = {"factor": 4.0}


def check(ctx: Context) -> Iterator[Finding]:
    cc = cluster_context(ctx)
    if cc is None or cc.matrix is None or cc.profile.type != "slurm" or not ctx.doc.path:
        return
    from ...efficiency import load_report
    from ...models.cluster import parse_mem_mib, parse_slurm_time

    report = load_report(Path(ctx.doc.path).parent)
    if report is None:
        return
    factor = float(ctx.options.get("factor", 4.0))
    measured = {(r.get("run"), r.get("stage")): r for r in report["stages"]
                if isinstance(r, dict)}
    seen: set[tuple[int, int, str]] = set()
    for run in cc.matrix.runs:
        stages = [("finetune", run.train, "compute")] if run.kind == "fine-tuned" else []
        stages += [(f"evaluations/{ev.key}", run.eval, "compute.eval")
                   for ev in run.evaluations]
        for stage, res, key in stages:
            row = measured.get((run.name, stage))
            if row is None:
                continue
            for field, asked, used, unit in (
                    ("time", parse_slurm_time(res.time), row.get("elapsed_s"), "s"),
                    ("mem", parse_mem_mib(res.mem), row.get("max_rss_mib"), "MiB")):
                if not isinstance(used, (int, float)) or used <= 0 or asked <= factor * used:
                    continue
                line, col = pos(cc, key, field)
                if (line, col, field) in seen:
                    continue
                seen.add((line, col, field))
                value = res.time if field == "time" else res.mem
                yield Finding(line, col, f"{field} {value} is {asked / used:.1f} × what "
                              f"{stage} of run {run.name} used last time ({used:.0f} {unit}, "
                              "efficiency.json)",
                              f"ask for about {factor / 2:g} × the measured use")
