# Functions of the rules in finetune.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.

import dataclasses

from gatedloop.core.config import finetune_batch
from gatedloop.finetune import ADDED_SETTINGS, FinetuneConfig


def finetune_inputs(wildcards):
    """Round r trains on: replace, this round's accepted samples; accumulate, every round's up to r; mix,
    this round's plus fresh human-written code."""
    w, r = wildcards, int(wildcards.round)
    rounds = range(1, r + 1) if w.regime == "accumulate" else [r]
    inputs = {
        "model": previous_model(w),
        "samples": [
            round_file("samples", w.model, w.gate, w.regime, w.seed, k) for k in rounds
        ],
        "decisions": [
            round_file("decisions", w.model, w.gate, w.regime, w.seed, k)
            for k in rounds
        ],
    }
    if w.regime == "mix":
        inputs["human"] = HUMAN_POOL.format(model=w.model)
    return inputs


def mix_args(wildcards, input):
    if wildcards.regime != "mix":
        return ""
    fraction = config["mix"]["human_fraction"]
    return f"--human {input.human} --human-fraction {fraction} --human-round {wildcards.round}"


def max_train():
    accepted = config["budget"]["accepted_per_round"]
    return "" if accepted is None else f"--max-train {accepted}"


def finetune_settings(wildcards):
    """finetune's settings as flags. The settings added with full fine-tuning and packing (ADDED_SETTINGS) are
    passed only where set away from their defaults, so an existing sweep's finetune jobs keep their commands and
    are not rerun; a full fine-tune also gets its round (it warms up in round 1 only).
    """
    defaults = dataclasses.asdict(FinetuneConfig())
    batch_size, grad_accum = finetune_batch(config, wildcards.model)
    chosen = dict(config["finetune"], batch_size=batch_size, grad_accum=grad_accum)
    settings = {
        key: value
        for key, value in chosen.items()
        if key not in ADDED_SETTINGS or value != defaults[key]
    }
    flags = cli_for("finetune", settings, FinetuneConfig)
    if config["finetune"]["method"] == "full":
        flags += f" --round {wildcards.round}"
    return flags
