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
