# Functions of the rules in probe.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.


def probe_inputs(wildcards):
    probe = config["analysis"]["probe"]
    if probe["source"] == "microtasks":
        return [f"{MICROTASKS}/heldout.jsonl"]
    if probe["source"] == "file":
        return [probe["path"]]
    return []
