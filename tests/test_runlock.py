"""Stale Snakemake locks: removed when the run that took them is gone, kept while it lives or when unrecorded."""

from __future__ import annotations

import os
import subprocess

from gatedloop.runlock import clear_stale_locks, holder_is_gone, record_holder, release


def locked(workdir):
    locks = workdir / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("results/metrics.csv\n")
    return locks


def test_locks_of_a_killed_run_are_removed(tmp_path):
    locks = locked(tmp_path)
    run = subprocess.Popen(["sleep", "30"])
    record_holder(tmp_path, run.pid)
    assert holder_is_gone(tmp_path) is False
    run.kill()
    run.wait()
    assert holder_is_gone(tmp_path) is True
    assert clear_stale_locks(tmp_path) and not any(locks.iterdir())
    assert holder_is_gone(tmp_path) is None  # the record went with the locks


def test_locks_of_a_live_run_or_an_unrecorded_one_are_kept(tmp_path):
    locks = locked(tmp_path)
    assert not clear_stale_locks(tmp_path) and any(locks.iterdir())  # no record: Snakemake reports them
    record_holder(tmp_path, os.getpid())
    assert holder_is_gone(tmp_path) is False
    assert not clear_stale_locks(tmp_path) and any(locks.iterdir())
    release(tmp_path)
    assert holder_is_gone(tmp_path) is None


def test_a_reused_pid_is_not_taken_for_the_holder(tmp_path):
    locked(tmp_path)
    record_holder(tmp_path, os.getpid())
    record = tmp_path / ".snakemake" / "gatedloop-run.json"
    record.write_text(record.read_text().replace('"start_time": "', '"start_time": "9'))  # another process's start
    assert holder_is_gone(tmp_path) is True


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
