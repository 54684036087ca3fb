import contextlib
import os
import socket
from pathlib import Path

import pytest

from gatedloop.sandbox import Limits, isolation, run_program, run_programs

FAST = Limits(timeout_s=2.0)


def test_passing_and_failing_programs():
    assert run_program("assert 1 + 1 == 2", FAST).status == "pass"
    verdict = run_program("assert 1 + 1 == 3", FAST)
    assert (verdict.passed, verdict.status) == (False, "fail")
    assert run_program("raise ValueError('boom')", FAST).status == "error"


def test_early_exit_with_status_zero_is_not_a_pass():
    verdict = run_program("import sys\nsys.exit(0)\nassert False", FAST)
    assert not verdict.passed


def test_infinite_loop_is_killed_at_the_timeout():
    verdict = run_program("while True:\n    pass", Limits(timeout_s=1.0))
    assert verdict.status == "timeout" and verdict.seconds < 5


def test_memory_limit():
    verdict = run_program("x = bytearray(4 * 1024**3)", Limits(timeout_s=5, memory_mb=512))
    assert not verdict.passed and "MemoryError" in verdict.detail


def test_program_runs_in_a_throwaway_directory(tmp_path):
    marker = tmp_path / "marker"
    verdict = run_program(f"import os\nassert os.getcwd() != {str(tmp_path)!r}\nopen('x', 'w').write('1')", FAST)
    assert verdict.passed and not marker.exists() and not os.path.exists("x")


def test_many_programs_keep_their_order_across_workers():
    programs = [f"assert {i} % 2 == 0" for i in range(12)]
    verdicts = run_programs(programs, FAST, workers=2)
    assert [v.passed for v in verdicts] == [i % 2 == 0 for i in range(12)]


def test_os_exit_zero_before_the_tests_is_not_a_pass():
    assert not run_program("import os\nos._exit(0)\nassert False", FAST).passed


def test_a_program_cannot_reach_the_servers_protocol_descriptors():
    # Descriptors 3+ of the fork server carry its protocol; the child must have none of them open.
    program = "import os\nassert sorted(int(fd) for fd in os.listdir('/proc/self/fd')) == [0, 1, 2, 3]"
    # (3 is the descriptor listdir itself opens on /proc/self/fd)
    assert run_program(program, FAST).passed


def test_a_program_that_kills_the_server_gets_an_error_and_the_next_one_runs():
    programs = ["import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nimport time\ntime.sleep(1)", "assert True"]
    first, second = run_programs(programs, FAST, workers=1)
    assert not first.passed and first.status == "error"
    assert second.passed


def test_background_processes_do_not_outlive_their_program(tmp_path):
    marker = tmp_path / "survivor"
    program = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        f"    time.sleep(1.5)\n    open({str(marker)!r}, 'w').write('alive')\n    os._exit(0)\n"
    )
    assert run_program(program, FAST).passed
    import time

    time.sleep(2.5)
    assert not marker.exists()


def test_stdin_is_empty_and_output_floods_are_capped():
    verdict = run_program("import sys\nassert sys.stdin.read() == ''\nprint('x' * 10_000_000)", FAST)
    assert verdict.passed


def test_each_program_gets_fresh_randomness():
    program = "import random\nraise ValueError(random.random())"
    details = {verdict.detail for verdict in run_programs([program] * 3, FAST, workers=1)}  # one server
    assert len(details) == 3


# Hostile programs: none may pass, harm the host, touch another sample's result or stop the run.
ISOLATION = isolation()
OWN_USER = ISOLATION["user"].startswith("uid")
needs_own_user = pytest.mark.skipif(not OWN_USER, reason="programs run as the caller's user here (not root)")


def _sandbox_processes() -> list[int]:
    """Live or zombie processes of any sandbox uid."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                uid = int(Path(f"/proc/{entry}/status").read_text().split("\nUid:\t")[1].split("\t")[0])
                if 61000 <= uid < 61000 + 4096:
                    pids.append(int(entry))
    return pids


@needs_own_user
def test_a_fork_bomb_that_escapes_its_process_group_is_contained_and_cleaned_up():
    bomb = ("import os\nwhile True:\n    try:\n        if os.fork() == 0:\n            os.setsid()\n"
            "    except OSError:\n        pass")
    verdicts = run_programs([bomb, "assert 2 + 2 == 4"], Limits(timeout_s=2.0), workers=1)
    assert not verdicts[0].passed and verdicts[1].passed
    assert _sandbox_processes() == []


@needs_own_user
def test_concurrent_servers_never_share_a_sandbox_user():
    from gatedloop.sandbox.runner import SandboxServer

    with SandboxServer() as first, SandboxServer() as second:
        first._start()
        second._start()
        assert first.isolation["user"] != second.isolation["user"]
        # A program of one server cannot be killed by the other's clean-up: both pass, interleaved.
        slow = "import time\ntime.sleep(0.5)\nassert True"
        import threading

        results = {}
        worker = threading.Thread(target=lambda: results.setdefault("slow", first.run(slow, FAST)))
        worker.start()
        for _ in range(20):
            assert second.run("assert True", FAST).passed
        worker.join()
        assert results["slow"].passed


def test_filling_the_disk_stops_at_the_file_size_limit():
    verdict = run_program("open('big', 'wb').write(b'x' * (64 * 1024 * 1024))\nassert True",
                          Limits(timeout_s=5.0, file_size_mb=4))
    assert not verdict.passed


@pytest.mark.skipif(ISOLATION["network"] != "namespace", reason="no network namespace on this platform")
def test_no_network_even_to_the_host_loopback():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        program = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\nassert True"
        verdict = run_program(program, FAST)
    assert not verdict.passed and ("Error" in verdict.detail or "refused" in verdict.detail)


@needs_own_user
def test_writing_outside_its_directory_is_refused(tmp_path):
    target = tmp_path / "planted.txt"
    verdict = run_program(f"open({str(target)!r}, 'w').write('x')\nassert True", FAST)
    assert not verdict.passed and "PermissionError" in verdict.detail
    assert not target.exists()


def test_reading_its_own_file_does_not_reveal_the_pass_token():
    program = "import sys\nprint(open(__file__).read().strip().splitlines()[-1])\nsys.exit(0)"
    assert not run_program(program, FAST).passed


def test_printing_pass_lookalikes_or_replacing_builtins_does_not_pass():
    forgeries = ["print('pass')\nprint('passed')\nimport os\nos._exit(0)",
                 "import builtins\nbuiltins.print = lambda *args, **kwargs: None\nassert True"]
    verdicts = run_programs([*forgeries, "assert True"], FAST, workers=1)
    assert [v.passed for v in verdicts] == [False, False, True]  # and the next program sees clean builtins
