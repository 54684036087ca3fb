# Functions of the rules in generate.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.
import functools
import re
from types import SimpleNamespace

from gatedloop.gates.self_gates import quantile_pool
from gatedloop.gates.waves import wave_gates

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
    that asks exactly one pass over the pool is the pool, so every gate shares one round-1 generation. Selection in
    waves: gate none generates exactly the budget (the study's), which it then trains on.
    """
    accepted = config["budget"]["accepted_per_round"]
    keep = GATES.get(gate).keep_fraction(arm_options(config, gate))
    if WAVES and GATES.kind_of(gate) == "none":
        keep = 1.0
    if (
        accepted is None
        or keep is None
        or quantile_pool(accepted, keep) == pool_samples()
    ):
        return ""
    return f"--n-samples {quantile_pool(accepted, keep)}"


# Selection in waves (budget.selection: waves, gatedloop.gates.waves): the gates that generate until enough pass.
WAVES = config["budget"]["selection"] == "waves"
WAVE_GATES = wave_gates(config)


def budget_settings():
    """The budget section as a round's manifest records it: without the waves keys while waves are off, so a sweep's
    manifests keep the commands they had before waves existed."""
    if WAVES:
        return config["budget"]
    waves_keys = ("selection", "wave_size", "candidate_budget")
    return {k: v for k, v in config["budget"].items() if k not in waves_keys}


def wave_gate_pattern():
    """A wildcard pattern matching exactly the gates that select in waves (nothing when waves are off)."""
    return "|".join(re.escape(gate) for gate in WAVE_GATES) or "(?!)"


def waves_inputs(wildcards):
    """The round's generating model and prompts, and what the gate judges with (a reviewer, a tokenizer)."""
    inputs = {
        "model": previous_model(wildcards),
        "prompts": generation_prompts(wildcards),
    }
    if is_file_input(gate_model(wildcards)):
        inputs["gate_model"] = gate_model(wildcards)
    if gate_tokenizer(wildcards.model, wildcards.gate):
        inputs["tokenizer"] = gate_tokenizer(wildcards.model, wildcards.gate)
    return inputs


def waves_args(wildcards):
    """The waves flags: N, the wave size and budget, the gate's model and the gate job's noise seed where it has
    them (the gate's options go as their own param, quoted)."""
    budget = config["budget"]
    args = [
        f"--accepted {budget['accepted_per_round']} --wave-size {budget['wave_size']}",
        f"--candidate-budget {budget['candidate_budget']}",
    ]
    if gate_model(wildcards):
        args.append(f"--gate-model {gate_model(wildcards)}")
    # round 1: one stream for every gate and regime, whose waves are generated once
    if _round(wildcards) == 1:
        args.append(f"--wave-cache {wave_cache(wildcards.model, wildcards.seed)}")
    return " ".join(args) + noise_seed_arg(wildcards)


def wave_cache(model, seed):
    """Round 1's waves of a (model, seed), shared by its waves jobs: outside every job's outputs, like training
    checkpoints (the generate job keys them by model, prompts and sampling settings)."""
    return f"{CHECKPOINTS}/waves/{model}/seed{seed}/round1"
