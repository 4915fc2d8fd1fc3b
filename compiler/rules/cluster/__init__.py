"""Rules that check a run group or sweep against its cluster profile (codes ``CL``).

They run when a profile is known: named by the plan (run group ``compute.cluster``, plan
front-matter ``cluster``) or by ``[tool.planc] cluster``; profiles are
``<root>/clusters/<name>.yaml``. Without a profile they report nothing.
"""

from __future__ import annotations

from types import ModuleType

from . import (
    cl001_profile,
    cl002_partition,
    cl003_time_limit,
    cl004_gpus_without_gres,
    cl005_gpus_per_node,
    cl006_batch_memory,
    cl007_estimates,
    cl008_node_memory,
    cl009_node_cpus,
    cl010_qos_wall,
    cl011_qos_jobs,
    cl012_over_request,
    cl013_gpu_type,
)

RULES: tuple[ModuleType, ...] = (
    cl001_profile,
    cl002_partition,
    cl003_time_limit,
    cl004_gpus_without_gres,
    cl005_gpus_per_node,
    cl006_batch_memory,
    cl007_estimates,
    cl008_node_memory,
    cl009_node_cpus,
    cl010_qos_wall,
    cl011_qos_jobs,
    cl012_over_request,
    cl013_gpu_type,
)
