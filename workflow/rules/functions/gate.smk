# Functions of the rules in gate.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.
import re


def gates_by_model_use(scores):
    """A wildcard pattern of the registered gates that score with a model (scores=True: they need a GPU) or not."""
    arms = sorted(set(GATES.names()) | set(config["gates"]))
    names = [g for g in arms if bool(GATES.get(g).scores_with) == scores]
    return "|".join(re.escape(name) for name in names) or "(?!)"


def gate_decisions(scores):
    """The decisions of one gate rule: gate (scores with a model) or gate_human (does not)."""
    gate = f"{{gate,{gates_by_model_use(scores)}}}"
    return round_file("decisions", "{model}", gate, "{regime}", "{seed}", "{round}")


def gate_inputs(wildcards):
    w = wildcards
    inputs = {
        "samples": round_file("samples", w.model, w.gate, w.regime, w.seed, w.round)
    }
    if is_file_input(gate_model(wildcards)):
        inputs["model"] = gate_model(wildcards)
    if gate_tokenizer(w.model, w.gate):
        inputs["tokenizer"] = gate_tokenizer(w.model, w.gate)
    if calibrated(wildcards):
        inputs["calibration"] = round_file(
            "decisions", w.model, w.gate, w.regime, w.seed, 1
        )
    return inputs


def calibrated(wildcards):
    """A self-gate in mode calibrated, in a round after the first: its threshold comes from round 1."""
    options = arm_options(config, wildcards.gate)
    return options.get("mode") == "calibrated" and _round(wildcards) >= 2


def noise_seed_arg(wildcards):
    """' --noise-seed N' for a gate with decision noise (the job's own seed), else nothing: a gate without noise
    runs the same command as before noise existed."""
    options = arm_options(config, wildcards.gate)
    if options.get("noise", 0) > 0:
        return f" --noise-seed {job_seed(wildcards, 'gate')}"
    return ""
