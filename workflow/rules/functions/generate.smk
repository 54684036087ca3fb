# Functions of the rules in generate.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.
import functools
import math
from types import SimpleNamespace

# Round 1 samples come from the shared generation (generate_shared); later rounds from the cell's own model.
FIRST_SAMPLES = round_file(
    "samples", "{model}", "{gate}", "{regime}", "{seed}", "{round,1}"
)


LATER_SAMPLES = round_file(
    "samples", "{model}", "{gate}", "{regime}", "{seed}", "{round,[2-9]|[1-9][0-9]+}"
)


def generation_prompts(wildcards):
    """The prompts a generation reads: its round's file of the prompts rule where the prompt source draws per round
    (round 1's shared generation: round 1's), else the fixed pool (PROMPT_POOL), as before prompt sources.
    """
    if not prompts_staged():
        return PROMPT_POOL
    return layout.round_prompts(
        wildcards.model, wildcards.seed, max(_round(wildcards), 1)
    )


def round1_seed(seed):
    """The generation seed of round 1: job_seed's, which no gate or regime changes."""
    return job_seed(SimpleNamespace(seed=seed, round=1), "generate")


def generation_size(gate):
    """'pool' (every prompt) or the sample count a quantile gate's budget asks for."""
    flag = samples_per_round(gate)
    return flag.split()[-1] if flag else "pool"


def shared_round1_samples(wildcards):
    return layout.shared_samples(
        wildcards.model, wildcards.seed, generation_size(wildcards.gate)
    )


@functools.lru_cache(maxsize=1)
def pool_samples():
    """How many samples a pass over a round's prompts makes (prompts x generate.samples_per_prompt)."""
    if prompt_source().name == "file_prefixes":
        prompts = config["prompts"]["per_round"]
    elif config["prompts"]["path"]:
        with open(config["prompts"]["path"]) as pool:
            prompts = sum(1 for line in pool if line.strip())
    else:
        prompts = config["microtasks"]["pool_size"]
    return prompts * config["generate"]["samples_per_prompt"]


def samples_per_round(gate):
    """--n-samples for a quantile gate under a budget (accepted / keep fraction), else '' (the whole pool). A budget
    that asks exactly one pass over the pool is the pool, so every gate shares one round-1 generation.
    """
    accepted = config["budget"]["accepted_per_round"]
    keep = GATES.get(gate).keep_fraction(arm_options(config, gate))
    if accepted is None or keep is None or math.ceil(accepted / keep) == pool_samples():
        return ""
    return f"--n-samples {math.ceil(accepted / keep)}"
