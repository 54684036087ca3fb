"""Pre-training corpus for a from-scratch model: Python standard-library sources plus microtask documents.

CLI: ``python -m gatedloop.corpus --tasks pretrain.jsonl --out corpus.jsonl [--stdlib-chars N]`` writes one
JSON line per document, ``{"source": "stdlib" | "microtask", "name", "text"}``. Microtask documents are the
prompt followed by the reference body; held-out tasks never reach this file (the microtasks split sees to it).
"""

from __future__ import annotations

import argparse
import sysconfig
from collections.abc import Iterator, Sequence
from pathlib import Path

from gatedloop.core.io import read_jsonl, write_jsonl
from gatedloop.data.stdlib import stdlib_files
from gatedloop.engine.warm import run_cli


def stdlib_documents(max_chars: int, root: Path | None = None) -> Iterator[dict]:
    """Standard-library modules in a fixed hash order until ``max_chars`` characters are reached."""
    root = Path(root or sysconfig.get_paths()["stdlib"])
    total = 0
    for path in stdlib_files(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        if total + len(text) > max_chars:
            continue
        total += len(text)
        yield {"source": "stdlib", "name": str(path.relative_to(root)), "text": text}


def microtask_documents(tasks: list[dict]) -> Iterator[dict]:
    for task in tasks:
        yield {"source": "microtask", "name": task["task_id"], "text": task["prompt"] + task["canonical_solution"]}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=Path, nargs="+", required=True,
                        help="microtasks for pre-training (JSONL files: the pre-training split, and the prompt pool "
                             "where microtasks.pool_in_pretraining is set)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--stdlib-chars", type=int, default=3_000_000)
    args = parser.parse_args(argv)
    tasks = [task for path in args.tasks for task in read_jsonl(path)]
    docs = [*stdlib_documents(args.stdlib_chars), *microtask_documents(tasks)]
    write_jsonl(args.out, docs)
    print(f"{len(docs)} documents, {sum(len(d['text']) for d in docs)} characters -> {args.out}")


if __name__ == "__main__":
    run_cli(main)
