"""Running the real workflow from tests: a Snakemake process on a scenario, and its dry-run job counts."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import REPO

CONFIG = REPO / "config" / "integration.yaml"


def snakemake(workdir: Path, *args: str, configfile: Path = CONFIG, env: dict | None = None
              ) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env or {}), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(configfile), "--cores", "2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1500)


def planned_jobs(result: subprocess.CompletedProcess) -> dict[str, int]:
    """Job counts from a dry run's 'Job stats' table."""
    assert result.returncode == 0, result.stdout + result.stderr
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def shell_commands(result: subprocess.CompletedProcess, rule: str) -> list[str]:
    """The shell commands of a dry run's jobs of ``rule`` (run with -p)."""
    text = result.stdout + result.stderr
    blocks = re.split(r"\n(?=(?:local)?rule \w+:)", text)
    return [re.search(r"Shell command: (.*)", b)[1] for b in blocks
            if re.match(rf"(?:local)?rule {rule}:", b.strip()) and "Shell command" in b]


def score_commands(result: subprocess.CompletedProcess) -> dict[str, list[list[str]]]:
    """benchmark -> the argument lists of a dry run's planned score commands (run with -p)."""
    commands: dict[str, list[list[str]]] = {}
    for line in result.stdout.splitlines():
        if "python -m gatedloop.score" in line:
            words = shlex.split(line)
            commands.setdefault(words[words.index("--benchmark") + 1], []).append(words)
    return commands
