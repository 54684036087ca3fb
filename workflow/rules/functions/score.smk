# Functions of the rules in score.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.
from gatedloop.score import ScoreSettings


def score_stop(wildcards):
    """One score job's stop strings: the config's list for its benchmark (score.stop), else the benchmark's own for
    the model's prompt format. Per job: the command shows it, and a change reruns only that benchmark.
    """
    chosen = config["score"]["stop"].get(wildcards.benchmark)
    if chosen is not None:
        return chosen
    prompt_format = config["models"][wildcards.model]["prompt_format"]
    return BENCHMARK_CLASSES.get(wildcards.benchmark).default_stop(prompt_format)


def score_sampling(wildcards):
    """The score section as flags, with this job's stop strings (same flags as one shared list gave before) and the
    model's own score batch size (models.<name>.batch_sizes.score)."""
    settings = {**config["score"], "stop": score_stop(wildcards)}
    if model_batch(wildcards.model, "score") is not None:
        settings["batch_size"] = model_batch(wildcards.model, "score")
    return cli_for("score", settings, SamplingParams, ScoreSettings)
