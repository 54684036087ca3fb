"""Plan a sweep without running it: the wall time of Snakemake's dry run and the jobs per rule.

    python bench/plan_sweep.py [--configfile config/paper.yaml]

Runs ``snakemake -n`` offline in a temporary directory (nothing is fetched or computed) and prints how long
planning took (goal for the study's sweep: at most 30 s) and the job counts from Snakemake's own summary.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", type=Path, default=REPO / "config" / "paper.yaml")
    args = parser.parse_args()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    with tempfile.TemporaryDirectory() as workdir:
        cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", workdir,
               "--configfile", str(args.configfile.resolve()), "--cores", "1", "-n", "--quiet", "rules"]
        start = time.perf_counter()
        result = subprocess.run(cmd, capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(result.stderr[-3000:])
    text = result.stdout + result.stderr
    table = text.split("Job stats:")[1].split("total")[0] if "Job stats:" in text else ""
    jobs = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}
    print(f"{args.configfile.name}: planned {sum(jobs.values())} jobs in {seconds:.1f} s (dry run, offline)")
    for rule, count in sorted(jobs.items(), key=lambda item: -item[1]):
        print(f"  {rule:<24} {count:6d}")


if __name__ == "__main__":
    main()
