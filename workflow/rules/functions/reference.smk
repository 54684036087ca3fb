# Functions of the rules in reference.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.


def reference_inputs(wildcards):
    """The control arm reads the prompt pool, and the human pool where the prompts have no solutions."""
    inputs = {"prompts": PROMPT_POOL}
    if config["control"]["solutions"] == "human_pool":
        inputs["human"] = HUMAN_POOL.format(model=wildcards.model)
    return inputs
