# Functions of the rules in audit.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.


def audit_gate_model(wildcards):
    """In the audit of round r, a self-gate judges with the round-r model itself (the one that wrote the audit
    samples); a reviewer gate with its reviewer."""
    if GATES.get(wildcards.gate).scores_with == "current":
        return this_model(wildcards)
    return gate_model(wildcards)


def audit_inputs(wildcards):
    inputs = {"model": this_model(wildcards), "tasks": f"{MICROTASKS}/heldout.jsonl"}
    if is_file_input(audit_gate_model(wildcards)):
        inputs["gate_model"] = audit_gate_model(wildcards)
    if gate_tokenizer(wildcards.model, wildcards.gate):
        inputs["tokenizer"] = gate_tokenizer(wildcards.model, wildcards.gate)
    return inputs


def audit_base_inputs(wildcards):
    """Round 0: the shared audit samples, judged by each gate."""
    return {
        **audit_inputs(wildcards),
        "generations": round_file(
            "audit_generations", wildcards.model, BASE_GATE, None, wildcards.seed, 0
        ),
    }
