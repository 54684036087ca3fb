"""Benchmarks: a registry of small classes behind one interface (``Benchmark``), chosen by name in config."""

from __future__ import annotations

import json

from gatedloop.benchmarks.base import Benchmark, BenchmarkTask
from gatedloop.benchmarks.humaneval import HumanEvalBenchmark
from gatedloop.benchmarks.lcb import LiveCodeBenchBenchmark
from gatedloop.benchmarks.microtasks import MicrotasksBenchmark
from gatedloop.benchmarks.plus import HumanEvalPlusBenchmark, MbppPlusBenchmark
from gatedloop.core.registry import Registry

BENCHMARKS: Registry[type[Benchmark]] = Registry("benchmark")
BENCHMARKS.add("microtasks", MicrotasksBenchmark)
BENCHMARKS.add("humaneval", HumanEvalBenchmark)
BENCHMARKS.add("humaneval_plus", HumanEvalPlusBenchmark)
BENCHMARKS.add("mbpp_plus", MbppPlusBenchmark)
BENCHMARKS.add("livecodebench", LiveCodeBenchBenchmark)



def parse_options(specs: list[str]) -> dict[str, dict]:
    """``NAME.KEY=VALUE`` flags -> {NAME: {KEY: VALUE}}; a value is read as JSON where it parses (numbers, null),
    else kept as text (dates, release tags)."""
    options: dict[str, dict] = {}
    for spec in specs:
        target, sep, text = spec.partition("=")
        name, dot, key = target.partition(".")
        if not (sep and dot and name and key):
            raise ValueError(f"--option {spec!r}: expected BENCHMARK.KEY=VALUE")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        options.setdefault(name, {})[key] = value
    return options


def load(name: str, data: str | None = None, options: dict | None = None) -> Benchmark:
    return BENCHMARKS.get(name)(data, **(options or {}))


__all__ = ["BENCHMARKS", "Benchmark", "BenchmarkTask", "load", "parse_options"]
