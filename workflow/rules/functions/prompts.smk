# Functions of the rules in prompts.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.
import functools

from gatedloop.prompt_sources import from_config


@functools.lru_cache(maxsize=1)
def prompt_source():
    """The configured prompt source (prompts.source, resolved by the config validation)."""
    return from_config(config["prompts"])


@functools.lru_cache(maxsize=1)
def prompts_staged():
    """Whether each round's prompts are a file of the prompts rule (file prefixes, a pool cut in tokens or in the
    study's v2 form); else every round reads PROMPT_POOL as it stands, as before prompt sources.
    """
    return prompt_source().staged()


def prompt_source_inputs(wildcards):
    """The round-0 model (its tokenizer) and, for a pool, the pool file."""
    inputs = {"model": model_dir(wildcards.model, None, None, None, 0)}
    if prompt_source().name == "pool":
        inputs["pool"] = config["prompts"]["path"]
    return inputs


def prompt_source_options():
    """The source's options as the job's JSON: its keys of the prompts section, and for the stdlib_heldout corpus
    the probe set's size, whose files it leaves out (where the analysis probes with stdlib_heldout functions).
    """
    options = prompt_source().options_in(config["prompts"])
    probe = config["analysis"]["probe"]
    if (
        options.get("corpus") == "stdlib_heldout"
        and config["analysis"]["enabled"]
        and probe["source"] == "stdlib_heldout"
    ):
        options["probe_snippets"] = probe["n"]
    return json.dumps(options, sort_keys=True)
