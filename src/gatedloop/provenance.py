"""What produced a result: package versions, the git commit, Python and hardware. Stored with each stage's
summary so a number in results/metrics.csv can be traced to the code and libraries that made it."""

from __future__ import annotations

import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

PACKAGES = ("gatedloop", "torch", "transformers", "peft", "tokenizers", "snakemake", "numpy")


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


@lru_cache(maxsize=1)
def environment() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"packages": versions, "git_commit": _git_commit(), "python": platform.python_version(),
            "machine": platform.machine(), "system": platform.system()}
