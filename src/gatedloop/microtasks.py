"""Microtasks: write the three disjoint task sets of the embedded world (``gatedloop.data.task_families``).

CLI: ``python -m gatedloop.microtasks --out-dir DIR [--heldout-fraction F] [--seed S] [--pool-size N]`` writes
``pretrain.jsonl`` (tasks for the pre-training corpus), ``pool.jsonl`` (the fixed prompt pool used for
generation each round) and ``heldout.jsonl`` (the benchmark).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from gatedloop.core.io import write_jsonl
from gatedloop.data.task_families import split_tasks
from gatedloop.engine.warm import run_cli


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--heldout-fraction", type=float, default=0.15)
    parser.add_argument("--pool-size", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    splits = split_tasks(args.heldout_fraction, args.seed, args.pool_size)
    for name, tasks in splits.items():
        write_jsonl(args.out_dir / f"{name}.jsonl", (t.to_json() for t in tasks))
        print(f"{name}: {len(tasks)} tasks")


if __name__ == "__main__":
    run_cli(main)
