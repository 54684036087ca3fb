# Functions of the rules in reference.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.


def reference_inputs(wildcards):
    """The control arm reads its round's prompts (the fixed pool, or the round's file where the prompt source
    draws per round: as many human functions as the gated arms get prompts), and the human pool where the prompts
    have no solutions."""
    inputs = {"prompts": generation_prompts(wildcards)}
    if config["control"]["solutions"] == "human_pool":
        inputs["human"] = HUMAN_POOL.format(model=wildcards.model)
    return inputs
