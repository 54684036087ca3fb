"""Stale Snakemake locks after a killed run: cleared when, and only when, the run that took them is provably gone.

Snakemake locks the working directory (``.snakemake/locks/``) for the length of a run and removes the locks when
it ends; a run killed with SIGKILL (a preempted node, an out-of-memory kill, a closed laptop) leaves them, and the
next run refuses to start until the user runs ``--unlock``. Snakemake cannot tell a stale lock from a live one.
We can, on the machine the run was on: each run records its holder (``.snakemake/gatedloop-run.json``: host name,
the kernel's boot id, the PID and the kernel's start time of that process, so a reused PID is not mistaken for
it, and, under SLURM, the run's job name). A lock is cleared only if its holder was on this host and is gone:
the host rebooted since (another boot id), or the PID is gone or is another process now (another start time).
A holder on another host (a login node looking at a driver that runs in an sbatch job, or another login node)
cannot be checked from here: its locks are left, with a note naming the host, the PID and ``--unlock``. Locks
with no record are left for Snakemake to report as usual.

Only a real execution clears: a dry run, ``--summary``, ``--report``, ``--lint`` and the other read-only commands
parse the same Snakefile, so the Snakefile does not clear at parse time; :func:`clear_before_execution` hooks
the one call only executions reach, just before Snakemake takes its locks (``onstart`` comes after them).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

RECORD = "gatedloop-run.json"
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _boot_id() -> str | None:
    try:
        return BOOT_ID.read_text().strip()
    except OSError:
        return None


@dataclass(frozen=True)
class Holder:
    """The run recorded as holding the directory's locks."""

    pid: int
    start_time: str | None
    host: str | None
    boot_id: str | None
    slurm_run: str | None = None

    @property
    def on_this_host(self) -> bool:
        return self.host is not None and self.host == socket.gethostname()

    def is_gone(self) -> bool | None:
        """True if provably gone, False if alive, None if this host cannot tell (another host, no /proc)."""
        if not self.on_this_host or self.boot_id is None or _boot_id() is None:
            return None
        if self.boot_id != _boot_id():
            return True  # this host rebooted since: every process of that boot is gone
        now = _start_time(self.pid)
        return now is None or now != self.start_time


def holds_locks(workflow) -> bool:
    """This process runs the workflow and locks the directory: a --nolock run (`make figures` beside a sweep)
    neither records itself as the holder nor removes the record."""
    settings = workflow.execution_settings
    return workflow.is_main_process and (settings is None or settings.lock)


def record_holder(workdir: str | os.PathLike, pid: int | None = None, slurm_run: str | None = None) -> None:
    """Record this run as the directory's holder, unless another run is recorded that is alive: a second run beside
    it (``snakemake figures`` while a sweep runs; their locks do not overlap) must not hide the sweep's record."""
    pid = pid or os.getpid()
    state = Path(workdir) / ".snakemake"
    state.mkdir(exist_ok=True)
    if not _replaceable(read_holder(workdir), pid):
        return
    record = {"pid": pid, "start_time": _start_time(pid), "host": socket.gethostname(), "boot_id": _boot_id(),
              "slurm_run": slurm_run}
    (state / RECORD).write_text(json.dumps(record))


def _replaceable(holder: Holder | None, pid: int) -> bool:
    """Whether a run (``pid``, on this host) may write or remove the record: none is there, it is this run's own,
    or its holder is provably gone. A record this host cannot check (a run on another host: the driver in an sbatch
    job while `make figures` runs on a login node) is left alone."""
    if holder is None or holder.is_gone() is True:
        return True
    return holder.on_this_host and holder.pid == pid and holder.start_time == _start_time(pid)


def release(workdir: str | os.PathLike, pid: int | None = None) -> None:
    """Remove the record, if it is this run's (``pid``, default this process) or its holder is gone."""
    if _replaceable(read_holder(workdir), pid or os.getpid()):
        _forget(workdir)


def _forget(workdir: str | os.PathLike) -> None:
    with contextlib.suppress(FileNotFoundError):
        (Path(workdir) / ".snakemake" / RECORD).unlink()


def read_holder(workdir: str | os.PathLike) -> Holder | None:
    path = Path(workdir) / ".snakemake" / RECORD
    try:
        record = json.loads(path.read_text())
        return Holder(pid=int(record["pid"]), start_time=record.get("start_time"), host=record.get("host"),
                      boot_id=record.get("boot_id"), slurm_run=record.get("slurm_run"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def holder_is_gone(workdir: str | os.PathLike) -> bool | None:
    """True if the recorded run is provably gone, False if it is alive, None if nothing is recorded or the record
    cannot be checked here (it names another host, or predates host records)."""
    holder = read_holder(workdir)
    return None if holder is None else holder.is_gone()


def _locks(workdir: str | os.PathLike) -> Path:
    return Path(workdir) / ".snakemake" / "locks"


def _is_locked(workdir: str | os.PathLike) -> bool:
    locks = _locks(workdir)
    return locks.is_dir() and any(locks.iterdir())


def scancel_hint(holder: Holder) -> str:
    if not holder.slurm_run:
        return ""
    return (f" Its SLURM jobs (job name {holder.slurm_run}) may still be queued or running and write the same"
            f" outputs: `squeue --name={holder.slurm_run}` lists them, `scancel --name={holder.slurm_run}`"
            " cancels them.")


def clear_stale_locks(workdir: str | os.PathLike) -> str | None:
    """Remove Snakemake's locks if the run that took them is provably gone; return a note for the user: what was
    removed, or why locks were left (their run is on another host), or None when there is nothing to say."""
    if not _is_locked(workdir):
        return None
    holder = read_holder(workdir)
    if holder is None:
        return None
    gone = holder.is_gone()
    if gone:
        shutil.rmtree(_locks(workdir))
        _locks(workdir).mkdir()
        _forget(workdir)
        return "gatedloop: removed the directory locks of a run that was killed; resuming." + scancel_hint(holder)
    if gone is None and not holder.on_this_host:
        return lock_elsewhere_note(holder)
    return None


def lock_elsewhere_note(holder: Holder) -> str:
    host = holder.host or "an unrecorded host"
    return (f"gatedloop: the directory is locked by a run on {host} (pid {holder.pid}), which cannot be checked"
            f" from {socket.gethostname()}; the locks are left. If that run is gone, remove them with"
            f" `{unlock_command()}`, then rerun." + scancel_hint(holder))


def clear_before_execution(workflow, note: Callable[[str], None] = lambda text: print(text, file=sys.stderr)) -> bool:
    """Make ``workflow.execute`` clear stale locks first, in real executions only (not ``-n``, not ``--nolock``).

    ``Workflow.execute`` is what Snakemake calls for a run or a dry run, before it checks and takes the locks;
    ``--summary``, ``--report``, ``--lint``, ``--list-changes``, ``--unlock`` never call it. Returns False (and
    changes nothing: locks are then Snakemake's as usual) if this Snakemake has no such method."""
    execute = getattr(workflow, "execute", None)
    if execute is None:
        return False

    def execute_clearing_stale_locks(*args, **kwargs):
        plugin = kwargs.get("executor_plugin", args[0] if args else None)
        dry = plugin is None or plugin.common_settings.dryrun_exec
        if dry:
            holder = read_holder(os.getcwd())
            if _is_locked(os.getcwd()) and holder is not None:
                if not holder.on_this_host:
                    note(lock_elsewhere_note(holder))
                elif holder.is_gone():
                    note(f"gatedloop: the locks belong to a run that was killed (pid {holder.pid}); a real run"
                         " (without -n) removes them and resumes. A dry run leaves them.")
        elif workflow.execution_settings is None or workflow.execution_settings.lock:
            said = clear_stale_locks(os.getcwd())
            if said:
                note(said)
        return execute(*args, **kwargs)

    workflow.execute = execute_clearing_stale_locks
    return True


def slurm_run_name(workflow) -> str | None:
    """The SLURM executor's job name for this run (its run uuid: every job it submits carries it), if any."""
    executor = getattr(getattr(workflow, "scheduler", None), "_executor", None)
    return getattr(executor, "run_uuid", None)


def orphan_note(slurm_run: str) -> str:
    """Said when a SLURM run starts: a killed driver does not cancel the jobs it submitted."""
    return (f"gatedloop: this run's SLURM jobs are named {slurm_run}. If this process is killed they keep running"
            f" (and a rerun would submit the same jobs again): `scancel --name={slurm_run}` cancels them.")


def unlock_command() -> str:
    """This command line with --unlock (a dry run's -n dropped: unlocking is what it is for)."""
    args = [a for a in sys.argv[1:] if a not in ("-n", "--dry-run", "--dryrun")]
    return shlex.join(["snakemake", *args, "--unlock"])
