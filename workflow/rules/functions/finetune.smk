# Functions of the rules in finetune.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.

import dataclasses

from gatedloop.core.config import finetune_batch, nl_fraction_for
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
    inputs.update(mixture_files(w.model, w.gate))
    return inputs


def mixture_files(model, gate):
    """The study's mixture files this model's rounds of this arm train on (anchors, natural_language), where their
    fraction is above 0 (anchors: in the arms anchors.arms names, or every arm)."""
    files = {}
    if config["anchors"]["fraction"] and anchored(gate):
        files["anchors"] = config["anchors"]["path"]
    if nl_fraction_for(config, model):
        files["nl"] = config["natural_language"]["path"]
    return files


def anchored(gate):
    """Whether an arm trains with anchors: anchors.arms lists it, or names no arm (every arm does)."""
    arms = config["anchors"]["arms"]
    return arms is None or gate in arms


def mixture_args(wildcards, input):
    """The mixture's flags, only where a fraction is above 0 (so other sweeps keep their commands): each file with
    its fraction, the round whose anchor slice is trained on, and the run's seed that orders the slices.
    """
    files = mixture_files(wildcards.model, wildcards.gate)
    if not files:
        return ""
    flags = []
    if "anchors" in files:
        fraction = config["anchors"]["fraction"]
        flags += ["--anchors", input.anchors, "--anchor-fraction", str(fraction)]
        flags += ["--anchor-seed", wildcards.seed]
    if "nl" in files:
        fraction = nl_fraction_for(config, wildcards.model)
        flags += ["--nl", input.nl, "--nl-fraction", str(fraction)]
    return shlex.join(flags + ["--mixture-round", wildcards.round])


def mix_args(wildcards, input):
    """The data-mixing flags: the mix regime's human code, then the study's mixture (mixture_args); empty where
    neither is on, so the rule's command is as it was."""
    flags = [mixture_args(wildcards, input)]
    if wildcards.regime == "mix":
        fraction = config["mix"]["human_fraction"]
        flags.insert(
            0,
            f"--human {input.human} --human-fraction {fraction} --human-round {wildcards.round}",
        )
    return " ".join(flag for flag in flags if flag)


def max_train(wildcards):
    """--max-train N; a gate that selects in waves (or none, which generates N then) trains on the first N accepted
    in generation order (the study's), not a random subset."""
    accepted = config["budget"]["accepted_per_round"]
    if accepted is None:
        return ""
    if wildcards.gate in WAVE_GATES or (
        WAVES and GATES.kind_of(wildcards.gate) == "none"
    ):
        return f"--max-train {accepted} --first-accepted"
    return f"--max-train {accepted}"


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
