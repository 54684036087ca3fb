"""Python standard-library sources: the human-written code the embedded world pre-trains on, probes with and
mixes in."""

from __future__ import annotations

import hashlib
import sysconfig
from pathlib import Path

# Test suites, IDLE and lib2to3 are large, repetitive or odd Python: they drown the code we want to imitate.
EXCLUDED_DIRS = {"test", "tests", "idlelib", "lib2to3", "site-packages", "dist-packages", "__pycache__",
                 "turtledemo", "ensurepip", "tkinter"}


def stdlib_files(root: Path | None = None) -> list[Path]:
    root = Path(root or sysconfig.get_paths()["stdlib"])
    files = [p for p in root.rglob("*.py") if not EXCLUDED_DIRS.intersection(p.relative_to(root).parts)]
    return sorted(files, key=lambda p: hashlib.sha256(str(p.relative_to(root)).encode()).hexdigest())
