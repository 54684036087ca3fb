"""Time the embedded demo from scratch and print per-rule times from Snakemake's `benchmark:` files.

    python bench/demo_time.py [--cores 2] [--configfile config/config.yaml] [--workdir DIR] [--keep]

Runs the workflow in a fresh working directory (a temporary one unless --workdir is given), so an existing
results/ is left alone. Prints the wall time of the whole run, then one line per rule: jobs, summed seconds,
slowest job, and the peak resident memory any of its jobs reached.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(workdir: Path, cores: int, configfile: Path) -> float:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(configfile), "--cores", str(cores), "--quiet", "rules"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    return time.perf_counter() - start


def per_rule(benchmarks: Path) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = defaultdict(list)
    for tsv in sorted(benchmarks.rglob("*.tsv")):
        rule = tsv.relative_to(benchmarks).parts[0]
        with tsv.open() as f:
            rows[rule].extend(csv.DictReader(f, delimiter="\t"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--configfile", type=Path, default=REPO / "config" / "config.yaml")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the temporary working directory")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gatedloop-bench-"))
    total = run(workdir, args.cores, args.configfile.resolve())
    print(f"config {args.configfile.name}, --cores {args.cores}: total wall {total:.1f} s ({total / 60:.1f} min)")
    print(f"{'rule':<12}{'jobs':>6}{'sum s':>10}{'max s':>10}{'max RSS MB':>12}")
    for rule, rows in sorted(per_rule(workdir / "results" / "benchmarks").items(), key=lambda kv: kv[0]):
        seconds = [float(r["s"]) for r in rows]
        rss = [float(r["max_rss"]) for r in rows if r["max_rss"] not in ("", "NA", "-")]
        print(f"{rule:<12}{len(rows):>6}{sum(seconds):>10.1f}{max(seconds):>10.1f}{max(rss, default=0):>12.0f}")
    metrics = workdir / "results" / "metrics.csv"
    print(f"\nmetrics: {metrics}")
    print(metrics.read_text())
    if args.workdir is None and not args.keep:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
