"""Python standard-library sources: the human-written code the embedded world pre-trains on, probes with and
mixes in."""

from __future__ import annotations

import ast
import hashlib
import sysconfig
import textwrap
from pathlib import Path

# Test suites, IDLE and lib2to3 are large, repetitive or odd Python: they drown the code we want to imitate.
EXCLUDED_DIRS = {"test", "tests", "idlelib", "lib2to3", "site-packages", "dist-packages", "__pycache__",
                 "turtledemo", "ensurepip", "tkinter"}


def stdlib_files(root: Path | None = None) -> list[Path]:
    root = Path(root or sysconfig.get_paths()["stdlib"])
    files = [p for p in root.rglob("*.py") if not EXCLUDED_DIRS.intersection(p.relative_to(root).parts)]
    return sorted(files, key=lambda p: hashlib.sha256(str(p.relative_to(root)).encode()).hexdigest())


# Installed packages and bytecode caches: not standard-library source, in no corpus of ours.
NOT_STDLIB_DIRS = {"site-packages", "dist-packages", "__pycache__"}
# The standard-library directories the pre-training corpus leaves out: the probe set and the stdlib_heldout prompt
# corpus (gatedloop.prompt_sources.file_prefixes) draw from them.
HELD_OUT_DIRS = sorted(EXCLUDED_DIRS - NOT_STDLIB_DIRS)


def heldout_files(root: Path | None = None) -> list[Path]:
    """The standard-library files the pre-training corpus leaves out, in a fixed hash order: every ``.py`` file
    with a held-out directory anywhere in its path (test/, idlelib/, unittest/test/, ...), installed packages
    aside. These are exactly the stdlib's ``.py`` files that ``stdlib_files`` does not list, so no file is in both."""
    root = Path(root or sysconfig.get_paths()["stdlib"])
    files = [p for p in root.rglob("*.py") if _held_out(p.relative_to(root).parts)]
    return sorted(files, key=lambda p: _digest(str(p.relative_to(root))))


def _held_out(parts: tuple[str, ...]) -> bool:
    return bool(EXCLUDED_DIRS.intersection(parts)) and not NOT_STDLIB_DIRS.intersection(parts)


def probe_files(n: int, root: Path | None = None) -> set[str]:
    """The files (relative to the stdlib root) the probe set's ``n`` snippets come from (source stdlib_heldout):
    what a prompt corpus must leave out to stay disjoint from the probe."""
    return {snippet["name"].rsplit(":", 2)[0] for snippet in stdlib_heldout_functions(n, root=root)}


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
