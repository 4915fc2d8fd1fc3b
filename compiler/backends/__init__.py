"""Execution backends: :mod:`compiler.backends.slurm` (sbatch, scontrol, squeue, sacct).

A backend turns compiled group folders into scheduler jobs and reads job states back. Pure
parsing lives apart from the subprocess calls so that tests and benchmarks can feed recorded
scheduler output.
"""
