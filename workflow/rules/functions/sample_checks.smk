# Functions of the rules in sample_checks.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.
from gatedloop.sample_checks import SampleCheckSettings


def benchmarks_memory_mb():
    """Host memory for a job that loads every scored benchmark with its tests (sample_checks)."""
    return sum(
        BENCHMARK_CLASSES.get(b).memory_mb for b in config["score"]["benchmarks"]
    )


def benchmark_args():
    """--benchmark NAME[=FILE] for every scored benchmark."""
    return " ".join(
        (
            f"--benchmark {b}={BENCHMARK_DATA[b]}"
            if b in BENCHMARK_DATA
            else f"--benchmark {b}"
        )
        for b in config["score"]["benchmarks"]
    )
