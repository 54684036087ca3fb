"""Benchmarks: a registry of small classes behind one interface (``Benchmark``), chosen by name in config."""

from __future__ import annotations

from gatedloop.benchmarks.base import Benchmark, BenchmarkTask
from gatedloop.benchmarks.humaneval import HumanEvalBenchmark
from gatedloop.benchmarks.lcb import LiveCodeBenchBenchmark
from gatedloop.benchmarks.microtasks import MicrotasksBenchmark
from gatedloop.benchmarks.plus import HumanEvalPlusBenchmark, MbppPlusBenchmark
from gatedloop.registry import Registry

BENCHMARKS: Registry[type[Benchmark]] = Registry("benchmark")
BENCHMARKS.add("microtasks", MicrotasksBenchmark)
BENCHMARKS.add("humaneval", HumanEvalBenchmark)
BENCHMARKS.add("humaneval_plus", HumanEvalPlusBenchmark)
BENCHMARKS.add("mbpp_plus", MbppPlusBenchmark)
BENCHMARKS.add("livecodebench", LiveCodeBenchBenchmark)

__all__ = ["BENCHMARKS", "Benchmark", "BenchmarkTask"]
