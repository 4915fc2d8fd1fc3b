"""``planc cluster detect [--json] [--profile]``: describe this machine or SLURM cluster.

Prints the research-agent cluster record (``type`` slurm / local_gpu / cpu_only, GPUs, nodes,
partitions and GRES; shape in :mod:`compiler.gpus`). ``--json`` prints
``{"cluster": {...}, "profile": {...}}``; ``--profile`` prints a starting
``clusters/<name>.yaml`` (a :class:`~compiler.models.cluster.ClusterProfile`) instead. On
SLURM the profile carries ``qos_limits`` from ``sacctmgr show qos`` where accounting exists
(:func:`compiler.clusters.detect_qos`).
Exit code 0 (detection degrades, it does not fail), 2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    d = sub.add_parser("detect", help="detect GPUs (NVML) and SLURM partitions",
                       description="Detect GPUs (NVML) and SLURM partitions and GRES.")
    d.add_argument("--json", action="store_true", help="print machine-readable JSON")
    d.add_argument("--profile", action="store_true",
                   help="print a starting cluster profile (YAML) for clusters/<name>.yaml")
    d.add_argument("--name", help="profile name (default: the host name)")


def run(args: argparse.Namespace) -> int:
    from ..clusters import detect_qos
    from ..gpus import detect_cluster, profile_from_cluster

    cluster = detect_cluster()
    profile = profile_from_cluster(cluster, args.name)
    qos_note = "no QoS limits: not a SLURM cluster"
    if profile.type == "slurm":
        limits, qos_note = detect_qos()
        profile = profile.model_copy(update={"qos_limits": limits})
    if args.json:
        json.dump({"cluster": cluster, "profile": profile.model_dump(mode="json"),
                   "qos": qos_note},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if args.profile:
        import yaml

        sys.stdout.write("# Detected by planc cluster detect; review before use.\n")
        sys.stdout.write(yaml.safe_dump(profile.model_dump(mode="json", exclude_defaults=True)
                                        | {"name": profile.name, "type": profile.type},
                                        sort_keys=False))
        return 0
    d = cluster["details"]
    print(f"type: {cluster['type']} (server type {cluster['server_type']}, "
          f"confidence {cluster['confidence']:.2f}, {cluster['source']}, "
          f"status {cluster['status']})")
    print(f"description: {cluster['description']}")
    gpu_count = cluster["gpu_count"]
    print(f"nodes: {cluster['node_count'] if cluster['node_count'] is not None else '-'}; "
          f"GPUs: {gpu_count if gpu_count is not None else 'unknown'}"
          + (f" ({', '.join(d['gpu_names'])})" if d["gpu_names"] else ""))
    for g in d["gpus"]:
        print(f"  gpu {g['index']}: {g['name']} {g['memory_total_mb']} MiB, "
              f"{g['memory_used_mb']} MiB used, {g['process_count']} process(es), {g['uuid']}")
    for p in d["partitions"]:
        gres = ",".join(f"{g['name']}{':' + g['type'] if g['type'] else ''}:{g['count']}"
                        for g in p["gres"]) or "none"
        print(f"  partition {p['name']}{' (default)' if p['default'] else ''}: "
              f"{p['available']}, time limit {p['time_limit']}, {p['nodes']} node(s), "
              f"{p['cpus']} CPUs, {p['memory_mb']} MB, GRES {gres}")
    mem = d["memory_gib"]
    print(f"this host: {d['cpus']} CPUs, {mem if mem is not None else '?'} GiB memory; "
          f"NVML: {d['nvml']['reason']}")
    for name, q in profile.qos_limits.items():
        tres = ",".join(f"{k}={v}" for k, v in q.max_tres_per_user.items()) or "-"
        grp = ",".join(f"{k}={v}" for k, v in q.grp_tres.items()) or "-"
        print(f"  qos {name}: MaxSubmitJobsPerUser {q.max_submit_jobs_per_user or '-'}, "
              f"MaxWall {q.max_wall or '-'}, MaxTRESPerUser {tres}, GrpTRES {grp}")
    print(qos_note)
    print("signals: " + "; ".join(d["signals"]))
    return 0
