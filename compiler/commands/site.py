"""``planc site build|serve``: wrap ``mkdocs build --strict`` and ``mkdocs serve``.

MkDocs runs in a subprocess with ``NO_MKDOCS_2_WARNING=1`` (mkdocs-material 9.8 prints an
end-of-life banner otherwise; toolchain.md §5). Exit code is MkDocs' own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("build", "serve"))
    p.add_argument("--config-file", "-f", default="mkdocs.yml")
    p.add_argument("--site-dir", "-d", default=None, help="output folder (build)")
    p.add_argument("--dev-addr", "-a", default="127.0.0.1:8000", help="address (serve)")
    p.add_argument("--no-strict", action="store_true", help="do not fail on warnings")


def run(args: argparse.Namespace) -> int:
    config = Path(args.config_file)
    if not config.is_file():
        print(f"planc: no MkDocs configuration at {config}", file=sys.stderr)
        return 2
    cmd = [sys.executable, "-m", "mkdocs", args.action, "-f", str(config)]
    if args.action == "build":
        if not args.no_strict:
            cmd.append("--strict")
        if args.site_dir:
            cmd += ["-d", args.site_dir]
    else:
        cmd += ["-a", args.dev_addr]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    try:
        return subprocess.call(cmd, env=env)
    except FileNotFoundError:
        print("planc: mkdocs is not installed (pip install 'planc[site]')", file=sys.stderr)
        return 2
