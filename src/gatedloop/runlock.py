"""Stale Snakemake locks after a killed run: detected and cleared, so rerunning the same command resumes.

Snakemake locks the working directory (``.snakemake/locks/``) for the length of a run and removes the locks when
it ends; a run killed with SIGKILL (a preempted node, an out-of-memory kill, a closed laptop) leaves them, and the
next run refuses to start until the user runs ``--unlock``. Snakemake cannot tell a stale lock from a live one.
We can: each local run records which process holds the directory (``.snakemake/gatedloop-run.json``: PID and the
kernel's start time of that process, so a reused PID is not mistaken for it). When a new run starts, locks whose
recorded holder no longer exists are removed, with a note; locks of a live run, or locks with no record, are left
for Snakemake to report as usual.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

RECORD = "gatedloop-run.json"


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def record_holder(workdir: str | os.PathLike, pid: int | None = None) -> None:
    """Record this run as the directory's holder, unless another live run is recorded: a second run beside it
    (``snakemake figures`` while a sweep runs; their locks do not overlap) must not hide the sweep's record."""
    pid = pid or os.getpid()
    state = Path(workdir) / ".snakemake"
    state.mkdir(exist_ok=True)
    if _recorded_pid(workdir) not in (None, pid) and holder_is_gone(workdir) is False:
        return
    (state / RECORD).write_text(json.dumps({"pid": pid, "start_time": _start_time(pid)}))


def _recorded_pid(workdir: str | os.PathLike) -> int | None:
    try:
        return json.loads((Path(workdir) / ".snakemake" / RECORD).read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return None


def release(workdir: str | os.PathLike, pid: int | None = None) -> None:
    """Remove the record, if it is this run's (``pid``, default this process) or its holder is gone."""
    if _recorded_pid(workdir) not in (None, pid or os.getpid()) and holder_is_gone(workdir) is False:
        return
    _forget(workdir)


def _forget(workdir: str | os.PathLike) -> None:
    with contextlib.suppress(FileNotFoundError):
        (Path(workdir) / ".snakemake" / RECORD).unlink()


def holder_is_gone(workdir: str | os.PathLike) -> bool | None:
    """True if the recorded run is no longer alive, False if it is, None if nothing is recorded."""
    path = Path(workdir) / ".snakemake" / RECORD
    try:
        holder = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    now = _start_time(holder["pid"])
    return now is None or now != holder["start_time"]


def clear_stale_locks(workdir: str | os.PathLike) -> bool:
    """Remove Snakemake's locks if the run that took them is gone; return whether any were removed."""
    locks = Path(workdir) / ".snakemake" / "locks"
    if not locks.is_dir() or not any(locks.iterdir()) or not holder_is_gone(workdir):
        return False
    shutil.rmtree(locks)
    locks.mkdir()
    _forget(workdir)
    return True
