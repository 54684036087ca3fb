"""Benchmarks: a registry of small classes behind one interface (``Benchmark``), chosen by name in config."""

from __future__ import annotations

from gatedloop.benchmarks.base import Benchmark, BenchmarkTask
from gatedloop.benchmarks.humaneval import HumanEvalBenchmark
from gatedloop.benchmarks.lcb import LiveCodeBenchBenchmark
from gatedloop.benchmarks.microtasks import MicrotasksBenchmark
from gatedloop.benchmarks.plus import HumanEvalPlusBenchmark, MbppPlusBenchmark
from gatedloop.core.options import value_from_text
from gatedloop.core.registry import Registry

BENCHMARKS: Registry[type[Benchmark]] = Registry("benchmark", options_key="score.{name}")
BENCHMARKS.add("microtasks", MicrotasksBenchmark)
BENCHMARKS.add("humaneval", HumanEvalBenchmark)
BENCHMARKS.add("humaneval_plus", HumanEvalPlusBenchmark)
BENCHMARKS.add("mbpp_plus", MbppPlusBenchmark)
BENCHMARKS.add("livecodebench", LiveCodeBenchBenchmark)


def parse_options(specs: list[str]) -> dict[str, dict]:
    """``NAME.KEY=VALUE`` flags -> {NAME: {KEY: VALUE}}; a value is text where the benchmark's option takes text
    (dates, release tags, a revision), else read as JSON where it parses (numbers, null)."""
    options: dict[str, dict] = {}
    for spec in specs:
        target, sep, text = spec.partition("=")
        name, dot, key = target.partition(".")
        if not (sep and dot and name and key):
            raise ValueError(f"--option {spec!r}: expected BENCHMARK.KEY=VALUE")
        declared = BENCHMARKS.get(name).Options if name in BENCHMARKS else None
        options.setdefault(name, {})[key] = value_from_text(declared, key, text)
    return options


def load(name: str, data: str | None = None, options: dict | None = None) -> Benchmark:
    return BENCHMARKS.get(name)(data, **(options or {}))


__all__ = ["BENCHMARKS", "Benchmark", "BenchmarkTask", "load", "parse_options"]
