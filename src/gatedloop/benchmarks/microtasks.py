"""The held-out microtasks (see ``gatedloop.microtasks``): combinations never seen in any training data."""

from __future__ import annotations

from gatedloop.benchmarks.base import Benchmark, BenchmarkTask
from gatedloop.core.io import read_jsonl


class MicrotasksBenchmark(Benchmark):
    name = "microtasks"

    def tasks(self) -> list[BenchmarkTask]:
        if not self.data:
            raise ValueError("benchmark 'microtasks' needs its held-out task file (heldout.jsonl)")
        return [BenchmarkTask(row["task_id"], row["prompt"], "\n".join(row["tests"]), row["family"])
                for row in read_jsonl(self.data)]

    def reference_solutions(self) -> dict[str, str]:
        return {row["task_id"]: row["canonical_solution"] for row in read_jsonl(self.data)
                if "canonical_solution" in row}
