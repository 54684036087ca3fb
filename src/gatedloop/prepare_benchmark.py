"""Fetch and check one benchmark's data before any model job needs it (download where the network allows, read
the local file otherwise, compute expected outputs once), and record what was found.

``python -m gatedloop.prepare_benchmark --benchmark NAME [--data FILE] [--option NAME.KEY=VALUE] --out READY.json``.
A missing or broken file fails here, first in the workflow, with the message that says how to provide it.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from gatedloop.benchmarks import BENCHMARKS, load, parse_options
from gatedloop.benchmarks.plus import BenchmarkDataMissing
from gatedloop.core.io import write_json
from gatedloop.core.provenance import environment
from gatedloop.engine.warm import run_cli


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmark", required=True, help=f"one of: {', '.join(BENCHMARKS.names())}")
    parser.add_argument("--data", default=None, help="a local file instead of the benchmark's download")
    parser.add_argument("--option", action="append", default=[], help="BENCHMARK.KEY=VALUE")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.benchmark not in BENCHMARKS:
        parser.error(f"--benchmark: unknown benchmark {args.benchmark!r}; known: {', '.join(BENCHMARKS.names())}")
    if args.data is not None and not Path(args.data).is_file():
        parser.error(f"--data: {args.data} is not a file")
    try:
        bench = load(args.benchmark, args.data, parse_options(args.option).get(args.benchmark))
        record = bench.prepare()
    except (BenchmarkDataMissing, ValueError) as exc:
        sys.exit(f"prepare_benchmark: error: {exc}")
    write_json(args.out, {**record, "options": dataclasses.asdict(bench.settings), "provenance": environment()})
    print(f"{args.benchmark}: {record['n_tasks']} tasks ready")


if __name__ == "__main__":
    run_cli(main)
