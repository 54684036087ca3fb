"""What produced a result: package versions, the git commit, Python and hardware. Stored with each stage's
summary so a number in results/metrics.csv can be traced to the code, libraries and machine that made it. The
hardware is that of the process that calls :func:`environment`: on a cluster, the node the job ran on (the round's
manifest, a local rule on the login node, collects the stages' records)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
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


def hardware() -> dict:
    """CPU, node and, if this job has loaded torch (model stages), the GPUs it sees; the SLURM job id under SLURM."""
    info = {"cpu": platform.processor() or platform.machine(), "cpus": os.cpu_count(), "node": platform.node()}
    if os.environ.get("SLURM_JOB_ID"):
        info["slurm_job_id"] = os.environ["SLURM_JOB_ID"]
    torch = sys.modules.get("torch")  # not imported for it: CPU stages would pay seconds for "no GPU"
    if torch is not None and torch.cuda.is_available():
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        info["cuda"] = torch.version.cuda
    return info


@lru_cache(maxsize=1)
def environment() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"packages": versions, "git_commit": _git_commit(), "python": platform.python_version(),
            "machine": platform.machine(), "system": platform.system(), "hardware": hardware()}
