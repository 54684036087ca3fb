import os

from gatedloop.sandbox import Limits, run_program, run_programs

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
