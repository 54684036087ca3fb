"""Stale Snakemake locks: removed only when the run that took them is provably gone on this host (its PID gone or
reused, or the host rebooted), kept while it lives, when it ran on another host, or when unrecorded; and never
removed by a dry run or another read-only command (real Snakemake runs at the end)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from conftest import REPO

from gatedloop.engine.runlock import clear_stale_locks, holder_is_gone, read_holder, record_holder, release


def locked(workdir, key="results/metrics.csv", kind="input"):
    locks = workdir / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / f"0.{kind}.lock").write_text(f"{key}\n")
    return locks


def edit_record(workdir, **changes):
    record = workdir / ".snakemake" / "gatedloop-run.json"
    record.write_text(json.dumps({**json.loads(record.read_text()), **changes}))


def dead_pid() -> int:
    run = subprocess.Popen(["true"])
    run.wait()
    return run.pid


def test_locks_of_a_killed_run_are_removed(tmp_path):
    locks = locked(tmp_path)
    run = subprocess.Popen(["sleep", "30"])
    record_holder(tmp_path, run.pid)
    assert holder_is_gone(tmp_path) is False
    run.kill()
    run.wait()
    assert holder_is_gone(tmp_path) is True
    note = clear_stale_locks(tmp_path)
    assert note and "removed the directory locks of a run that was killed" in note and not any(locks.iterdir())
    assert holder_is_gone(tmp_path) is None  # the record went with the locks


def test_locks_of_a_live_run_or_an_unrecorded_one_are_kept(tmp_path):
    locks = locked(tmp_path)
    assert clear_stale_locks(tmp_path) is None and any(locks.iterdir())  # no record: Snakemake reports them
    record_holder(tmp_path, os.getpid())
    assert holder_is_gone(tmp_path) is False
    assert clear_stale_locks(tmp_path) is None and any(locks.iterdir())
    release(tmp_path)
    assert holder_is_gone(tmp_path) is None


def test_a_reused_pid_is_not_taken_for_the_holder(tmp_path):
    locked(tmp_path)
    record_holder(tmp_path, os.getpid())
    record = tmp_path / ".snakemake" / "gatedloop-run.json"
    record.write_text(record.read_text().replace('"start_time": "', '"start_time": "9'))  # another process's start
    assert holder_is_gone(tmp_path) is True


def test_a_run_on_another_host_is_never_cleared_even_with_a_pid_dead_here(tmp_path):
    """A login node cannot see the processes of a driver running in an sbatch job on a compute node."""
    locks = locked(tmp_path)
    record_holder(tmp_path, dead_pid(), slurm_run="3f2a-run")
    edit_record(tmp_path, host="gpu-node-17")
    assert holder_is_gone(tmp_path) is None
    note = clear_stale_locks(tmp_path)
    assert any(locks.iterdir()) and read_holder(tmp_path).host == "gpu-node-17"  # locks and record kept
    assert "gpu-node-17" in note and f"pid {read_holder(tmp_path).pid}" in note and "--unlock" in note
    assert "scancel --name=3f2a-run" in note


def test_a_record_without_a_host_is_not_trusted(tmp_path):
    """Records written before hosts were recorded: which machine held the PID is unknown, so nothing is cleared."""
    locks = locked(tmp_path)
    (tmp_path / ".snakemake" / "gatedloop-run.json").write_text(json.dumps({"pid": dead_pid(), "start_time": "1"}))
    assert holder_is_gone(tmp_path) is None
    clear_stale_locks(tmp_path)
    assert any(locks.iterdir())


def test_a_holder_from_before_this_hosts_reboot_is_gone_even_if_its_pid_is_alive_again(tmp_path):
    locks = locked(tmp_path)
    record_holder(tmp_path, os.getpid())  # a live PID with its true start time...
    edit_record(tmp_path, boot_id="00000000-0000-0000-0000-000000000000")  # ...but recorded in an earlier boot
    assert holder_is_gone(tmp_path) is True
    assert clear_stale_locks(tmp_path) and not any(locks.iterdir())


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(REPO / "config/integration.yaml"), "--cores", "1", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)


def test_dry_runs_and_read_only_commands_leave_a_killed_runs_locks_and_a_real_run_clears_them(tmp_path):
    """Real Snakemake in a workdir whose lock record names a dead process of this host: `-n`, `--summary` and
    `--list-changes` leave locks and record (each of them, run from another login node while a sweep runs, used
    to unlock it); the real run removes them, says so, and runs."""
    target = "results/data/microtasks/pool.jsonl"
    locks = locked(tmp_path, key=target, kind="output")
    record_holder(tmp_path, dead_pid())
    record = (tmp_path / ".snakemake/gatedloop-run.json").read_text()
    for args in (["-n"], ["--summary"], ["--list-changes", "params"]):
        result = snakemake(tmp_path, *args)
        assert result.returncode == 0, result.stderr[-3000:]
        assert any(locks.iterdir()), args
        assert (tmp_path / ".snakemake/gatedloop-run.json").read_text() == record, args
    dry = snakemake(tmp_path, "-n", target)
    assert "a real run (without -n) removes them" in dry.stderr
    run = snakemake(tmp_path, target)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "removed the directory locks of a run that was killed" in run.stderr
    assert (tmp_path / target).is_file()
    assert not (tmp_path / ".snakemake/gatedloop-run.json").exists()  # released at the end of the run


def test_a_dry_run_names_the_host_of_a_run_elsewhere_and_leaves_its_locks(tmp_path):
    target = "results/data/microtasks/pool.jsonl"
    locks = locked(tmp_path, key=target, kind="output")
    record_holder(tmp_path, dead_pid())
    edit_record(tmp_path, host=f"not-{socket.gethostname()}")
    for args in (["-n", target], [target]):
        result = snakemake(tmp_path, *args)
        assert f"locked by a run on not-{socket.gethostname()}" in result.stderr, result.stderr[-3000:]
        assert any(locks.iterdir())
    assert result.returncode != 0  # the real run: Snakemake refuses, as it must while that run may live
    assert "--unlock" in result.stderr


def test_a_second_run_beside_a_live_one_keeps_the_first_runs_record(tmp_path):
    """`snakemake figures` while a sweep runs: it neither replaces the sweep's record nor removes it when done, so
    the sweep's locks are still cleared if the sweep is killed later."""
    locks = locked(tmp_path)
    sweep = subprocess.Popen(["sleep", "30"])
    try:
        record_holder(tmp_path, sweep.pid)
        record_holder(tmp_path, os.getpid())  # the second run starts ...
        release(tmp_path, os.getpid())  # ... and ends
        assert holder_is_gone(tmp_path) is False
        sweep.kill()
        sweep.wait()
        assert clear_stale_locks(tmp_path) and not any(locks.iterdir())
    finally:
        sweep.kill()


def test_a_run_beside_a_sweep_on_another_host_neither_replaces_nor_removes_its_record(tmp_path):
    """The driver runs in an sbatch job on a compute node; `make figures` runs on a login node: the sweep's record
    (which this host cannot check) stays, so a later kill of the sweep is still told apart from a live sweep."""
    locked(tmp_path)
    record_holder(tmp_path, dead_pid(), slurm_run="sweep-uuid")
    edit_record(tmp_path, host="gpu-node-17")
    record_holder(tmp_path, os.getpid())  # the second run starts here ...
    assert read_holder(tmp_path).host == "gpu-node-17"
    release(tmp_path, os.getpid())  # ... and ends
    assert read_holder(tmp_path).host == "gpu-node-17" and read_holder(tmp_path).slurm_run == "sweep-uuid"


def test_a_nolock_run_does_not_record_itself(tmp_path):
    result = snakemake(tmp_path, "--nolock", "results/data/microtasks/pool.jsonl")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "results/data/microtasks/pool.jsonl").is_file()
    record_holder(tmp_path, dead_pid())
    edit_record(tmp_path, host="gpu-node-17")
    result = snakemake(tmp_path, "--nolock", "--forcerun", "microtasks", "results/data/microtasks/pool.jsonl")
    assert result.returncode == 0, result.stderr[-3000:]
    assert read_holder(tmp_path).host == "gpu-node-17"  # neither replaced at the start nor removed at the end
