# Functions of the rules in score.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.
import dataclasses

from gatedloop.score import ADDED_SETTINGS as ADDED_SCORE_SETTINGS, ScoreSettings


def score_stop(wildcards):
    """One score job's stop strings: the config's list for its benchmark (score.stop), else the benchmark's own for
    the model's prompt format. Per job: the command shows it, and a change reruns only that benchmark.
    """
    chosen = config["score"]["stop"].get(wildcards.benchmark)
    if chosen is not None:
        return chosen
    prompt_format = config["models"][wildcards.model]["prompt_format"]
    return BENCHMARK_CLASSES.get(wildcards.benchmark).default_stop(prompt_format)


def score_prompt_strip(wildcards):
    """One score job's prompt stripping: the config's value for its benchmark (score.prompt_strip), else none."""
    return config["score"]["prompt_strip"].get(wildcards.benchmark, "none")


def score_sampling(wildcards):
    """The score section as flags, with this job's stop strings (same flags as one shared list gave before) and the
    model's own score batch size (models.<name>.batch_sizes.score). The settings added for the study's evaluation
    (ADDED_SCORE_SETTINGS) appear only where set away from their defaults, so existing sweeps keep their commands.
    """
    settings = {
        **config["score"],
        "stop": score_stop(wildcards),
        "prompt_strip": score_prompt_strip(wildcards),
    }
    if model_batch(wildcards.model, "score") is not None:
        settings["batch_size"] = model_batch(wildcards.model, "score")
    defaults = dataclasses.asdict(ScoreSettings())
    settings = {
        key: value
        for key, value in settings.items()
        if key not in ADDED_SCORE_SETTINGS or value != defaults[key]
    }
    return cli_for("score", settings, SamplingParams, ScoreSettings)
