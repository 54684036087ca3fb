"""Refresh the figures on cached results: change a figure setting, rerun, print the wall time and what ran.

    python bench/figures_refresh.py [--workdir .] [--configfile config/config.yaml] [--cores 2]

The working directory must hold a finished run of that config (``make demo`` leaves one in results/). The script
writes a copy of the config with another ``figures.dpi``, runs Snakemake on it, prints the wall time and the jobs
per rule from Snakemake's summary, and says whether anything but the figure rules ran (it must not). Then it runs
the original config again, so the results are left as the config makes them (also timed).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from gatedloop.tools.estimate import job_counts

REPO = Path(__file__).resolve().parents[1]
FIGURE_RULES = {"figure_pass_at_1", "figure_heatmap", "figure_gate_audit", "figure_spectral", "figure_execution",
                "figure_diversity", "figure_effect", "figure_coverage", "collapse_table", "all"}


def snakemake(workdir: Path, configfile: Path, cores: int) -> tuple[float, dict[str, int]]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(configfile), "--cores", str(cores)]
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(result.stderr[-3000:])
    return seconds, job_counts(result.stdout + result.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("."))
    parser.add_argument("--configfile", type=Path, default=REPO / "config" / "config.yaml")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    if not (args.workdir / "results" / "metrics.csv").exists():
        sys.exit(f"{args.workdir}/results/metrics.csv is missing: run the workflow first (make demo)")
    config = yaml.safe_load(args.configfile.read_text())
    figures = config.setdefault("figures", {})
    figures["dpi"] = figures.get("dpi", 120) + 1
    with tempfile.TemporaryDirectory() as tmp:
        changed = Path(tmp) / "changed.yaml"
        changed.write_text(yaml.safe_dump(config))
        seconds, jobs = snakemake(args.workdir, changed, args.cores)
    heavy = sorted(set(jobs) - FIGURE_RULES)
    print(f"refresh after a figure setting changed: {seconds:.1f} s wall, jobs {jobs}")
    print(f"only figure rules ran: {not heavy}" + (f" (also: {heavy})" if heavy else ""))
    seconds, jobs = snakemake(args.workdir, args.configfile, args.cores)
    print(f"back to the original setting: {seconds:.1f} s wall, jobs {jobs}")


if __name__ == "__main__":
    main()
