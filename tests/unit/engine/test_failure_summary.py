"""The failure summary names a full disk when a failed job's log is empty because the disk holding it is full."""

import contextlib
import subprocess

import pytest

from gatedloop.engine.failures import FailedJob, full_disk, summary


def test_an_empty_log_on_a_full_filesystem_is_named_and_one_on_free_space_is_not(tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(small)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.decode().strip()}")
    try:
        with contextlib.suppress(OSError), open(small / "filler", "wb") as filler:  # fill it: the write fails
            filler.write(b"x" * (1 << 20))
        (small / "logs").mkdir(exist_ok=True)
        empty = small / "logs" / "job.log"
        empty.touch()
        job = FailedJob("analyze", {"round": "1"}, (str(empty),), ("out.json",))
        assert full_disk(job.logs).startswith(f"{small / 'logs'}: ")
        assert "No space left on device" in summary([job], ["--cores", "2"])
    finally:
        subprocess.run(["umount", str(small)], check=False)
    roomy = tmp_path / "job.log"
    roomy.touch()
    assert full_disk([str(roomy)]) == ""
    roomy.write_text("Traceback ...")
    assert full_disk([str(roomy)]) == "" and full_disk([str(tmp_path / "never/written.log")]) == ""
