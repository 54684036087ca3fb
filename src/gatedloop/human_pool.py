"""Human-written code for the ``mix`` data regime: standard-library functions that the model's pre-training
corpus never included.

CLI: ``python -m gatedloop.human_pool --corpus corpus.jsonl --out human_pool.jsonl [--size N] [--seed S]``.
Each line is ``{"id", "source", "prompt": "", "completion": <function source>}``: top-level functions with a
docstring, from stdlib modules absent from the corpus taken in a seeded order, at most ``size`` of them.
"""

from __future__ import annotations

import argparse
import ast
import random
import sysconfig
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from gatedloop.core.io import read_jsonl, write_jsonl
from gatedloop.data.stdlib import stdlib_files
from gatedloop.engine.warm import run_cli

MAX_CHARS = 1500  # long functions would be cut at the fine-tuning length anyway


def functions_in(path: Path, root: Path) -> Iterator[dict]:
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and ast.get_docstring(node):
            source = ast.get_source_segment(text, node)
            if source and len(source) <= MAX_CHARS:
                name = f"{path.relative_to(root)}:{node.name}"
                yield {"id": name, "source": "stdlib", "prompt": "", "completion": source + "\n"}


def build_pool(corpus_names: set[str], size: int, seed: int, root: Path | None = None) -> list[dict]:
    root = Path(root or sysconfig.get_paths()["stdlib"])
    unused = [p for p in stdlib_files(root) if str(p.relative_to(root)) not in corpus_names]
    random.Random(seed).shuffle(unused)  # modules in a seeded order; parse only as many as the pool needs
    functions: list[dict] = []
    for path in unused:
        functions += functions_in(path, root)
        if len(functions) >= size:
            break
    return functions[:size]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    used = {doc["name"] for doc in read_jsonl(args.corpus) if doc["source"] == "stdlib"}
    pool = build_pool(used, args.size, args.seed)
    if not pool:
        raise SystemExit(f"{args.corpus}: no unused standard-library function left for the human pool")
    write_jsonl(args.out, pool)
    print(f"{len(pool)} human-written functions -> {args.out}")


if __name__ == "__main__":
    run_cli(main)
