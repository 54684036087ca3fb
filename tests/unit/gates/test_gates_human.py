"""Model-independent gates (quality, compile_quality, lint) and the execution gate, on crafted samples."""

import pytest

from gatedloop.core.text import code_tokens
from gatedloop.gates import GATES, Sample
from gatedloop.gates.quality_gate import repetition

PROMPT = 'def add_value(x):\n    """Return x plus 7."""'


def sample(i, completion, tests=()):
    return Sample(f"t{i}#0", f"t{i}", PROMPT, completion, tuple(tests))


def decide(gate, samples, **options):
    return GATES.get(gate)(options).decide(samples)


def test_repetition_is_the_share_of_repeated_token_ngrams():
    assert code_tokens("return x+7") == ["return", "x", "+", "7"]
    assert repetition(list("abcdef"), 2) == 0.0
    assert repetition(list("abababab"), 2) == pytest.approx(1 - 2 / 7)  # ab, ba distinct among 7 bigrams
    assert repetition(["a"], 4) == 0.0


def test_quality_rejects_short_and_repetitive_code():
    long_ok = "\n    y = x + 7\n    z = y * 2 - x\n    return z - y + 7 if z > 0 else -z\n"
    repetitive = "\n    return x" + " + x" * 30 + "\n"
    decisions = decide("quality", [sample(0, long_ok), sample(1, "\n    return x + 7\n"), sample(2, repetitive)],
                       min_tokens=20)
    assert [d.accepted for d in decisions] == [True, False, False]
    assert decisions[1].reason.startswith("too short") and decisions[2].reason.startswith("repetitive")
    # the score is the margin to the nearer threshold: non-negative exactly when accepted
    assert [d.score >= 0 for d in decisions] == [d.accepted for d in decisions]
    assert decisions[1].score == pytest.approx(len(code_tokens("return x + 7")) / 20 - 1)
    assert decide("quality", [sample(0, long_ok)])[0].accepted is False  # the study's default: 50 tokens


def test_quality_thresholds_come_from_options():
    repetitive = "\n    return x" + " + x" * 30 + "\n"
    assert decide("quality", [sample(0, repetitive)], min_tokens=5, max_repetition=0.95)[0].accepted
    with pytest.raises(ValueError, match="gate_options.quality: unknown option"):
        decide("quality", [sample(0, "x")], min_token=5)


def test_compile_quality_needs_both():
    long_broken = "\n    y = (x + 7\n" + "".join(f"    v{i} = {i} * x\n" for i in range(12))
    long_ok = "\n" + "".join(f"    v{i} = {i} * x\n" for i in range(12)) + "    return x + 7\n"
    decisions = decide("compile_quality", [sample(0, long_broken), sample(1, long_ok), sample(2, "\n    return x\n")],
                       min_tokens=20)
    assert [d.accepted for d in decisions] == [False, True, False]
    assert decisions[0].reason.startswith("SyntaxError") and decisions[0].score < -1 + 1e-9
    assert [d.score >= 0 for d in decisions] == [d.accepted for d in decisions]


def test_lint_blocks_undefined_names_unused_imports_and_syntax_errors():
    samples = [
        sample(0, "\n    return x + 7\n"),
        sample(1, "\n    return y + 7\n"),
        sample(2, "\n    import os\n    return x + 7\n"),
        sample(3, "\n    return (x + 7\n"),
    ]
    decisions = decide("lint", samples)
    assert [d.accepted for d in decisions] == [True, False, False, False]
    assert "UndefinedName" in decisions[1].reason and "'y'" in decisions[1].reason
    assert "UnusedImport" in decisions[2].reason
    assert decide("lint", samples[2:3], ignore=["UnusedImport"])[0].accepted


def test_execution_gate_runs_the_prompts_tests_in_the_sandbox():
    tests = ["assert add_value(0) == 7", "assert add_value(-7) == 0"]
    samples = [sample(0, "\n    return x + 7\n", tests), sample(1, "\n    return x + 8\n", tests),
               sample(2, "\n    while True:\n        pass\n", tests)]
    decisions = decide("execution", samples, timeout_s=1)
    assert [d.accepted for d in decisions] == [True, False, False]
    assert decisions[2].reason.startswith("timeout")


def test_execution_gate_without_tests_names_the_sample():
    with pytest.raises(ValueError, match=r"needs tests with every sample \(or untested: run\); none for t0#0"):
        decide("execution", [sample(0, "\n    return x\n")])


def test_execution_gate_with_untested_run_accepts_a_program_that_runs_to_its_end():
    """The study's v2: a sample without test code passes when its program runs without an error; one with tests
    still has to pass them."""
    samples = [sample(0, "\n    return x\n\nprint(add_value(3))\n"),
               sample(1, "\n    return x\n\nadd_value(undefined_name)\n"),
               sample(2, "\n    return x\n\nimport no_such_module_here\n"),
               sample(3, "\n    return x + 1\n", ["assert add_value(0) == 7"])]
    decisions = decide("execution", samples, timeout_s=2, untested="run")
    assert [d.accepted for d in decisions] == [True, False, False, False]
