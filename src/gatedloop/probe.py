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
import ast
import hashlib
import sys
import sysconfig
import textwrap
from collections.abc import Sequence
from pathlib import Path

from gatedloop.core.io import read_jsonl, write_jsonl
from gatedloop.data.stdlib import EXCLUDED_DIRS
from gatedloop.engine.warm import run_cli

HELD_OUT_DIRS = sorted(EXCLUDED_DIRS - {"site-packages", "dist-packages", "__pycache__"})


def stdlib_heldout_functions(n: int, min_lines: int = 4, max_lines: int = 40, per_file: int = 2,
                             root: Path | None = None) -> list[dict]:
    """Up to ``per_file`` functions from each held-out file, files in a fixed hash order, until ``n``."""
    root = Path(root or sysconfig.get_paths()["stdlib"])
    files = [p for d in HELD_OUT_DIRS if (root / d).is_dir() for p in (root / d).rglob("*.py")]
    if not files:
        raise ValueError(f"{root} has none of {', '.join(HELD_OUT_DIRS)} (some distributions strip them): set "
                         "analysis.probe.source to microtasks or file")
    files.sort(key=lambda p: _digest(str(p.relative_to(root))))
    snippets: list[dict] = []
    for path in files:
        snippets += _functions(path, root, min_lines, max_lines)[:per_file]
        if len(snippets) >= n:
            break
    return snippets[:n]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _functions(path: Path, root: Path, min_lines: int, max_lines: int) -> list[dict]:
    """The file's functions of a fitting length that parse on their own, in a fixed hash order."""
    source = path.read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    lines = source.splitlines(keepends=True)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if not min_lines <= node.end_lineno - node.lineno + 1 <= max_lines:
            continue
        text = textwrap.dedent("".join(lines[node.lineno - 1 : node.end_lineno]))
        try:
            ast.parse(text)
        except (SyntaxError, ValueError):  # e.g. a string literal at column 0 inside a method
            continue
        name = f"{path.relative_to(root)}:{node.name}:{node.lineno}"
        found.append((_digest(name), {"name": name, "text": text}))
    return [snippet for _, snippet in sorted(found, key=lambda pair: pair[0])]


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
