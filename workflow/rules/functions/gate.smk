# Functions of the rules in gate.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.
import os
import re


def gates_by_model_use(scores):
    """A wildcard pattern of the registered gates that score with a model (scores=True: they need a GPU) or not."""
    names = [g for g in GATES.names() if bool(GATES.get(g).scores_with) == scores]
    return "|".join(re.escape(name) for name in names) or "(?!)"


# A round's directory for each gate rule: gate (scores with a model) or gate_human (does not).
MODEL_GATE_RUN = RUN.replace("{gate}", f"{{gate,{gates_by_model_use(True)}}}")


HUMAN_GATE_RUN = RUN.replace("{gate}", f"{{gate,{gates_by_model_use(False)}}}")


def gate_inputs(wildcards):
    inputs = {"samples": os.path.join(cell_dir(**wildcards), "samples.jsonl")}
    if is_file_input(gate_model(wildcards)):
        inputs["model"] = gate_model(wildcards)
    if calibrated(wildcards):
        w = wildcards
        round1 = cell_dir(w.model, w.gate, w.regime, w.seed, 1)
        inputs["calibration"] = os.path.join(round1, "decisions.jsonl")
    return inputs


def calibrated(wildcards):
    """A self-gate in mode calibrated, in a round after the first: its threshold comes from round 1."""
    options = config["gate_options"].get(wildcards.gate, {})
    return options.get("mode") == "calibrated" and _round(wildcards) >= 2
