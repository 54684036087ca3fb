"""HumanEval+ / MBPP+: verdicts equal evalplus 0.3.1's ``check_correctness`` (base and plus inputs) sample for
sample on crafted evalplus-format files (every special oracle, float tolerances, type changes, exceptions,
mutation, timeouts); clear errors for missing or broken data; the harness's allclose equals numpy's."""

from __future__ import annotations

import base64
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gatedloop.benchmarks import BENCHMARKS
from gatedloop.benchmarks import plus_harness as harness
from gatedloop.sandbox import Limits, run_programs
from gatedloop.score import task_limits

ROOT = Path(__file__).resolve().parents[2]
CRAFTED = {"humaneval_plus": ROOT / "resources/evalplus/HumanEvalPlus-crafted.jsonl",
           "mbpp_plus": ROOT / "resources/evalplus/MbppPlus-crafted.jsonl"}
DATASET = {"humaneval_plus": "humaneval", "mbpp_plus": "mbpp"}
KNOWN_EVALPLUS_BUG = "HumanEval/32"

# Each wraps the reference function; ``out`` is its result, ``args`` the call's arguments.
TRANSFORMS = {
    "same": "out",
    "none": "None",
    "str": "str(out)",
    "tuple_to_list": "list(out) if isinstance(out, tuple) else out",
    "list_to_tuple": "tuple(out) if isinstance(out, list) else out",
    "float_near": "out * (1 + 1e-9) if isinstance(out, float) else out",
    "float_far": "out + 1e-3 if isinstance(out, float) else out",
    "floats_near": "[x + 1e-9 for x in out] if isinstance(out, list) and out and isinstance(out[0], float) else out",
    "int_off": "out + 1 if type(out) is int else out",
    "int_as_float": "float(out) if type(out) is int else out",
    "bool_flip": "(not out) if isinstance(out, bool) else out",
    "reversed": "out[::-1] if isinstance(out, (list, tuple)) else out",
    "zero": "0",
    "truthy": "bool(out)",
    "raises_sometimes": "out if len(repr(args)) % 3 else 1 / 0",
}
PROGRAM_VARIANTS = {
    "exit_at_import": "import sys\nsys.exit(0)\n{solution}",
    "prints": "{solution}\nprint('PASSED ' * 100)\n",
    "mutates_input": "{renamed}\ndef {entry}(*args):\n    out = _reference(*args)\n"
                     "    if args and isinstance(args[0], list):\n        args[0].append(0)\n    return out\n",
    "exits_in_call": "{renamed}\ndef {entry}(*args):\n    raise SystemExit(0)\n",
    "loops_on_one_input": "{renamed}\ndef {entry}(*args):\n    if repr(args) == {first_plus!r}:\n"
                          "        while True:\n            pass\n    return _reference(*args)\n",
    "syntax_error": "{solution}\ndef broken(:\n",
    "no_entry_point": "def something_else():\n    return 1\n",
}


def renamed(solution: str, entry: str) -> str:
    # the reference keeps working under another name (recursion included) while the entry point is ours
    return solution.replace(f"def {entry}(", "def _reference(").replace(f"{entry}(", "_reference(")


def samples_for(problem: dict, with_timeout: bool = True) -> list[tuple[str, str]]:
    solution = problem["prompt"] + problem["canonical_solution"]
    entry = problem["entry_point"]
    base = renamed(solution, entry)
    out = [("canonical", solution)]
    for kind, expr in TRANSFORMS.items():
        out.append((kind, f"{base}\ndef {entry}(*args):\n    out = _reference(*args)\n    return {expr}\n"))
    first_plus = repr(tuple(problem["plus_input"][0]))
    for kind, template in PROGRAM_VARIANTS.items():
        if kind == "loops_on_one_input" and not with_timeout:  # each costs a second or two in both harnesses
            continue
        out.append((kind, template.format(solution=solution, renamed=base, entry=entry, first_plus=first_plus)))
    return out


@pytest.fixture
def evalplus_cache(tmp_path, monkeypatch):
    """Keep evalplus's and our cached expected outputs out of the user's cache directory."""
    import evalplus.data.utils
    import evalplus.evaluate

    monkeypatch.setattr(evalplus.data.utils, "CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(evalplus.evaluate, "CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("name", ["humaneval_plus", "mbpp_plus"])
def test_verdicts_equal_evalplus_check_correctness(name, evalplus_cache):
    from evalplus.eval._special_oracle import MBPP_OUTPUT_NOT_NONE_TASKS
    from evalplus.evaluate import check_correctness, get_groundtruth

    bench = BENCHMARKS.get(name)(str(CRAFTED[name]))
    problems = bench.problems()
    tasks = {task.task_id: task for task in bench.tasks()}
    expected = get_groundtruth(problems, f"parity-{name}", MBPP_OUTPUT_NOT_NONE_TASKS if name == "mbpp_plus" else [])
    planned = [(task_id, kind, solution) for number, (task_id, problem) in enumerate(problems.items())
               for kind, solution in samples_for(problem, with_timeout=number % 3 == 0)]
    ours = run_programs([tasks[t].check_program(s) for t, _, s in planned],
                        [task_limits(tasks[t], Limits()) for t, _, _ in planned], workers=2)
    theirs = []
    for number, (task_id, _, solution) in enumerate(planned):
        result = check_correctness(DATASET[name], number, problems[task_id], solution, expected[task_id])
        theirs.append(result["base"][0] == "pass" and result["plus"][0] == "pass")
    rows = list(zip(planned, ours, theirs, strict=True))
    mismatches = [(t, kind, v.status, v.detail, ref) for (t, kind, _), v, ref in rows
                  if v.passed != ref and t != KNOWN_EVALPLUS_BUG]
    assert not mismatches
    # evalplus 0.3.1's find_zero oracle ``continue``s before recording the input as passed, so HumanEval/32 fails
    # every solution there, the canonical one included; we score what the oracle checks (|poly(x)| <= atol)
    find_zero = {kind: (v.passed, ref) for (t, kind, _), v, ref in rows if t == KNOWN_EVALPLUS_BUG}
    if find_zero:
        assert find_zero["canonical"] == (True, False)
        assert not any(ref for _, ref in find_zero.values())
        assert find_zero["none"][0] is False and find_zero["str"][0] is False
    # the set exercises both verdicts, every oracle the file has, and each variant kind somewhere fails
    assert 0 < sum(theirs) < len(theirs)
    assert all(ref for (t, kind, _), _, ref in rows if kind == "canonical" and t != KNOWN_EVALPLUS_BUG)
    passed_kinds = {kind for (t, kind, _), _, ref in rows if ref and tasks[t].oracle != "are_equivalent"}
    assert {"none", "str", "exit_at_import", "exits_in_call", "loops_on_one_input", "syntax_error"}.isdisjoint(
        passed_kinds)


def test_the_near_float_and_set_oracles_really_accept(evalplus_cache):
    """Not only failures agree: tolerance and the special oracles let through what evalplus lets through."""
    bench = BENCHMARKS.get("mbpp_plus")(str(CRAFTED["mbpp_plus"]))
    problems, tasks = bench.problems(), {t.task_id: t for t in bench.tasks()}
    cases = {"Mbpp/2": "reversed", "Mbpp/601": "floats_near", "Mbpp/164": "zero"}
    for task_id, kind in cases.items():
        solution = dict(samples_for(problems[task_id]))[kind]
        verdict = run_programs([tasks[task_id].check_program(solution)], task_limits(tasks[task_id], Limits()))[0]
        assert verdict.passed, (task_id, kind, verdict)


def test_expected_outputs_are_computed_once_and_cached(evalplus_cache, monkeypatch):
    import evalplus.gen.util

    bench = BENCHMARKS.get("humaneval_plus")(str(CRAFTED["humaneval_plus"]))
    first = bench.tasks()
    cached = list(evalplus_cache.glob("gatedloop-expected-humaneval-*.pkl"))
    assert len(cached) == 1 and not list(evalplus_cache.glob(".gatedloop-expected-*"))

    def must_not_run(*args, **kwargs):
        raise AssertionError("expected outputs were recomputed")

    monkeypatch.setattr(evalplus.gen.util, "trusted_exec", must_not_run)
    again = bench.tasks()
    def unpacked(tasks):
        return [pickle.loads(base64.b64decode(t.payload)) for t in tasks]

    assert unpacked(again) == unpacked(first)


def _score_cli(args, cache: Path):
    env = {k: v for k, v in os.environ.items() if k not in {"HUMANEVAL_OVERRIDE_PATH", "MBPP_OVERRIDE_PATH"}}
    env["XDG_CACHE_HOME"] = str(cache)
    return subprocess.run([sys.executable, "-m", "gatedloop.score", *args], capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.mark.parametrize("name, release, variable", [("humaneval_plus", "HumanEvalPlus-v0.1.10.jsonl",
                                                       "HUMANEVAL_OVERRIDE_PATH"),
                                                      ("mbpp_plus", "MbppPlus-v0.2.0.jsonl", "MBPP_OVERRIDE_PATH")])
def test_missing_dataset_says_how_to_provide_it(name, release, variable, tmp_path):
    samples = tmp_path / "samples.jsonl"
    samples.write_text('{"task_id": "X/0", "solution": "pass"}\n')
    out = tmp_path / "verdicts.jsonl"
    result = _score_cli(["--benchmark", name, "--samples", str(samples), "--out", str(out)], tmp_path / "cache")
    assert result.returncode != 0
    message = result.stderr
    assert "Traceback" not in message
    assert f"benchmark {name!r}" in message and "could not download" in message
    assert f"score.data.{name}" in message and "--data PATH" in message and variable in message
    assert str(tmp_path / "cache" / "evalplus" / release) in message
    assert not out.exists()


def test_a_broken_data_line_is_named_with_file_and_line(tmp_path):
    data = tmp_path / "plus.jsonl"
    lines = CRAFTED["humaneval_plus"].read_text().splitlines()
    data.write_text("\n".join([lines[0], lines[1][:40], *lines[2:]]) + "\n")
    samples = tmp_path / "samples.jsonl"
    samples.write_text('{"task_id": "HumanEval/0", "solution": "pass"}\n')
    result = _score_cli(["--benchmark", "humaneval_plus", "--data", str(data), "--samples", str(samples),
                         "--out", str(tmp_path / "v.jsonl")], tmp_path / "cache")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"{data}:2: not valid JSON" in result.stderr


def test_the_score_cli_scores_crafted_plus_samples(tmp_path):
    import json

    problems = BENCHMARKS.get("mbpp_plus")(str(CRAFTED["mbpp_plus"])).problems()
    rows = [{"task_id": t, "solution": p["prompt"] + p["canonical_solution"]} for t, p in problems.items()]
    rows.append({"task_id": "Mbpp/3", "solution": "def is_not_prime(n):\n    return True\n"})
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "v.jsonl"
    result = _score_cli(["--benchmark", "mbpp_plus", "--data", str(CRAFTED["mbpp_plus"]), "--samples", str(samples),
                         "--out", str(out), "--threads", "2"], tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    verdicts = [json.loads(line) for line in out.read_text().splitlines()]
    assert [v["passed"] for v in verdicts] == [True] * len(problems) + [False]
    assert verdicts[-1]["status"] == "fail"


ALLCLOSE = harness._gl_plus_checker().allclose
ALLCLOSE_CASES = [
    (1.0, 1.0 + 1e-9), (1.0, 1.1), ([1.0, 2.0], [1.0, 2.0 + 1e-8]), ([1.0, 2.0], [1.0, 2.5]),
    ([[1.0], [2.0]], [[1.0, 1.0], [2.0, 2.0]]), ([1.0], [1.0, 1.0]), ((1, 2), (1.0, 2.0)),
    (float("inf"), float("inf")), (float("inf"), float("-inf")), (float("nan"), float("nan")),
    (1 + 2j, 1 + 2j + 1e-9), ([True, False], [1.0, 0.0]), ([], []), (0.0, 1e-7), (1e10, 1e10 + 100),
]


@pytest.mark.parametrize("out, exp", ALLCLOSE_CASES)
def test_harness_allclose_equals_numpy(out, exp):
    assert ALLCLOSE(out, exp, 1e-07, 1e-6) == bool(np.allclose(out, exp, rtol=1e-07, atol=1e-6))


@pytest.mark.parametrize("out, exp", [([1.0, [2.0]], [1.0, 2.0]), (["a"], [1.0]), ([1.0, 2.0, 3.0], [1.0, 2.0])])
def test_harness_allclose_fails_where_numpy_raises(out, exp):
    with pytest.raises((ValueError, TypeError)):
        np.allclose(np.array(out, dtype=float), exp)
    with pytest.raises((ValueError, TypeError)):
        ALLCLOSE(out, exp, 1e-07, 1e-6)


def test_base_tests_are_reported_apart_from_plus_tests(evalplus_cache):
    """evalplus reports HumanEval (base inputs) and HumanEval+ (base + plus): a solution that only knows the base
    answers passes the first and fails the second."""
    import math

    from gatedloop.score import score_samples, summarize

    problem = BENCHMARKS.get("humaneval_plus")(str(CRAFTED["humaneval_plus"])).problems()["HumanEval/13"]
    table = {tuple(inp): math.gcd(*inp) for inp in problem["base_input"]}
    memorised = f"def greatest_common_divisor(a, b):\n    return {table!r}.get((a, b), 1)\n"
    samples = [{"task_id": "HumanEval/13", "solution": memorised},
               {"task_id": "HumanEval/13", "solution": problem["prompt"] + problem["canonical_solution"]},
               {"task_id": "HumanEval/13", "solution": "def greatest_common_divisor(a, b):\n    return 0\n"}]
    rows = score_samples("humaneval_plus", str(CRAFTED["humaneval_plus"]), samples, Limits(), 1)
    assert [(r["passed"], r["base_passed"]) for r in rows] == [(False, True), (True, True), (False, False)]
    summary = summarize(rows, "humaneval_plus", [1])
    assert summary["pass_at_1"] == pytest.approx(1 / 3) and summary["base_tests_pass_at_1"] == pytest.approx(2 / 3)


HOSTILE = {
    # the check program's own names (_gl_...), reached through the frames that called the solution
    "rebinds_harness_names": "import sys\nframe = sys._getframe()\nwhile frame is not None:\n"
                             "    for name in [n for n in frame.f_globals if n.startswith('_gl')]:\n"
                             "        frame.f_globals[name] = lambda *a, **k: (lambda *a, **k: None)\n"
                             "    frame = frame.f_back\n",
    "rebinds_builtins": "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.type = lambda *a: int\n"
                        "builtins.abs = lambda x: 0\nbuiltins.len = lambda x: 0\nbuiltins.bool = lambda x: True\n",
    "prints_pass_lookalikes": "print('pass')\nprint('PASSED all tests')\nimport sys\nsys.stderr.write('OK\\n')\n",
    "silences_the_alarm": "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_wrong_solution_that_attacks_the_check_still_fails(kind, evalplus_cache):
    bench = BENCHMARKS.get("mbpp_plus")(str(CRAFTED["mbpp_plus"]))
    task = {t.task_id: t for t in bench.tasks()}["Mbpp/3"]
    wrong = HOSTILE[kind] + "def is_not_prime(n):\n    return 'surely'\n"
    right = HOSTILE[kind] + "def is_not_prime(n):\n    return n == 1 or any(n % i == 0 for i in range(2, n))\n"
    verdicts = run_programs([task.check_program(wrong), task.check_program(right)], task_limits(task, Limits()))
    assert not verdicts[0].passed, verdicts[0]
    if kind != "rebinds_builtins":  # the right answer written with rebound builtins is no longer right
        assert verdicts[1].passed, verdicts[1]
