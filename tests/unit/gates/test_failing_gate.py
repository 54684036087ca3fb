"""The positive control 'failing': it trains on exactly what an execution gate rejects, run in the sandbox."""

from gatedloop.gates import GATES, Sample

PROMPT = "def add_value(x):\n    \"\"\"Return x plus 7.\"\"\""
TESTS = ("assert add_value(0) == 7", "assert add_value(-7) == 0")


def sample(i, completion, tests=TESTS):
    return Sample(f"t{i}#0", f"t{i}", PROMPT, completion, tuple(tests))


def test_failing_keeps_the_samples_the_execution_gate_rejects():
    samples = [sample(0, "\n    return x + 7\n"), sample(1, "\n    return x + 8\n"),
               sample(2, "\n    while True:\n        pass\n"),
               sample(3, "\n    return x\n\nprint(add_value(1))\n", tests=()),
               sample(4, "\n    return x\n\nadd_value(undefined)\n", tests=()),
               sample(5, "\n    return (x +\n", tests=())]
    failing = GATES.get("failing")({"timeout_s": 1}).decide(samples)
    execution = GATES.get("execution")({"timeout_s": 1, "untested": "run"}).decide(samples)
    assert [d.accepted for d in failing] == [False, True, True, False, True, True]
    assert [d.accepted for d in failing] == [not d.accepted for d in execution]
    assert failing[2].reason.startswith("fails: timeout") and failing[0].reason.startswith("passes: ")
    assert GATES.kind_of("failing") == "harm" and GATES.get("failing").scores_with is None
