"""Plan a sweep without running it: the wall time of Snakemake's dry run and the jobs per rule.

    python bench/plan_sweep.py [--configfile config/paper.yaml]

Runs ``snakemake -n`` offline in a temporary directory (nothing is fetched or computed) and prints how long
planning took (goal for the study's sweep: at most 30 s) and the job counts from Snakemake's own summary.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from gatedloop.tools.estimate import planned_jobs

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", type=Path, default=REPO / "config" / "paper.yaml")
    args = parser.parse_args()
    start = time.perf_counter()
    jobs = planned_jobs(args.configfile)
    seconds = time.perf_counter() - start
    print(f"{args.configfile.name}: planned {sum(jobs.values())} jobs in {seconds:.1f} s (dry run, offline)")
    for rule, count in sorted(jobs.items(), key=lambda item: -item[1]):
        print(f"  {rule:<24} {count:6d}")


if __name__ == "__main__":
    main()
