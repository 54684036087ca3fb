# Functions of the rules in sample_checks.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.
import dataclasses

from gatedloop.sample_checks import (
    ADDED_SETTINGS as ADDED_CHECK_SETTINGS,
    SampleCheckSettings,
)


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


def sample_check_settings(input):
    """The sample_checks section as flags; the settings added with the execution diagnostics (ADDED_CHECK_SETTINGS)
    only where set away from their defaults, and --finetune only where the job has that input, so existing sweeps
    keep their commands and params."""
    defaults = dataclasses.asdict(SampleCheckSettings())
    settings = {
        key: value
        for key, value in config["sample_checks"].items()
        if key not in ADDED_CHECK_SETTINGS or value != defaults[key]
    }
    flags = cli_for("sample_checks", settings, SampleCheckSettings)
    return f"{flags} --finetune {input.finetune}" if input.finetune else flags


def trained_on():
    """The round's finetune.json, where the diagnostics' training population is what finetune trained on."""
    return (
        pattern("finetune") if config["sample_checks"]["training_from_finetune"] else []
    )
