"""The probe set for the spectral analysis: a fixed list of human-written code snippets no round ever trains on.

CLI: ``python -m gatedloop.probe --source stdlib_heldout|microtasks|file [--path FILE] [--heldout heldout.jsonl]
--n 200 --out probe.jsonl``. Sources:
- ``stdlib_heldout`` (default): functions from the standard-library directories the pre-training corpus leaves
  out (test/, idlelib/, lib2to3/, ...), 4 to 40 lines each, in a fixed hash order;
- ``microtasks``: the held-out microtasks' prompts with their reference solutions;
- ``file``: a JSONL file with a ``text`` field per line (for real models: code you know they never saw).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from gatedloop.core.io import read_jsonl, write_jsonl
from gatedloop.data.stdlib import HELD_OUT_DIRS, stdlib_heldout_functions  # noqa: F401  (HELD_OUT_DIRS: tests)
from gatedloop.engine.warm import run_cli


def microtask_snippets(heldout: Path, n: int) -> list[dict]:
    rows = read_jsonl(heldout)
    return [{"name": r["task_id"], "text": r["prompt"] + r["canonical_solution"]} for r in rows[:n]]


def file_snippets(path: Path, n: int) -> list[dict]:
    rows = read_jsonl(path)
    for number, row in enumerate(rows, start=1):
        if not isinstance(row.get("text"), str) or not row["text"].strip():
            raise ValueError(f"{path}:{number}: a probe line needs a non-empty 'text'")
    return [{"name": row.get("name", f"{path.name}:{i}"), "text": row["text"]} for i, row in enumerate(rows[:n])]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", choices=["stdlib_heldout", "microtasks", "file"], default="stdlib_heldout")
    parser.add_argument("--path", type=Path, default=None, help="the probe file (source: file)")
    parser.add_argument("--heldout", type=Path, default=None, help="held-out microtasks (source: microtasks)")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.source == "stdlib_heldout":
            snippets = stdlib_heldout_functions(args.n)
        elif args.source == "microtasks":
            if args.heldout is None:
                parser.error("--heldout is required with --source microtasks")
            snippets = microtask_snippets(args.heldout, args.n)
        else:
            if args.path is None or not args.path.is_file():
                parser.error(f"--path: {args.path} is not a file")
            snippets = file_snippets(args.path, args.n)
    except ValueError as exc:
        sys.exit(f"probe: error: {exc}")
    if len(snippets) < 2:
        sys.exit(f"probe: error: only {len(snippets)} snippet(s) from source {args.source}; the spectrum needs more")
    write_jsonl(args.out, snippets)
    print(f"{len(snippets)} probe snippets from {args.source} -> {args.out}")


if __name__ == "__main__":
    run_cli(main)
