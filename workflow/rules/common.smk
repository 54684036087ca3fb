# Paths, wildcard constraints and helpers shared by every rule. Keys live in paths, so a glob finds any slice:
#   results/base/{model}/model                                 round-0 model (Hugging Face directory)
#   results/runs/{model}/{gate}/seed{seed}/round{round}/       one round of one cell
#   results/runs/{model}/base/seed{seed}/round0/score/         round 0, scored once per (model, seed)
import json
import math
import os
import shlex

from gatedloop.cli import to_cli_args
from gatedloop.gates import GATES


wildcard_constraints:
    model="[A-Za-z0-9][A-Za-z0-9_.-]*",
    gate="[a-z][a-z0-9_]*",
    seed=r"\d+",
    round=r"\d+",
    benchmark="[a-z][a-z0-9_]*",


BASE_GATE = "base"
MICROTASKS = "results/data/microtasks"
RUN = "results/runs/{model}/{gate}/seed{seed}/round{round}"
LOGS = "results/logs"
BENCHMARKS = "results/benchmarks"


def cli(settings, *drop):
    """A config section as command-line flags (shell-quoted), without the keys in `drop`. Keys are sorted, so
    reordering a YAML file does not change the params and rerun jobs."""
    return shlex.join(
        to_cli_args({k: settings[k] for k in sorted(settings) if k not in drop})
    )


def model_dir(model, gate, seed, round):
    """Where the model of a given round lives: round 0 is the shared base model."""
    if int(round) == 0:
        return f"results/base/{model}/model"
    return f"results/runs/{model}/{gate}/seed{seed}/round{round}/model"


def previous_model(wildcards):
    return model_dir(
        wildcards.model, wildcards.gate, wildcards.seed, int(wildcards.round) - 1
    )


def this_model(wildcards):
    return model_dir(wildcards.model, wildcards.gate, wildcards.seed, wildcards.round)


def job_seed(wildcards, stage):
    """A distinct, reproducible seed per (run seed, round, stage)."""
    stages = {"generate": 1, "finetune": 2, "score": 3, "audit": 4}
    return int(wildcards.seed) * 10_000 + int(wildcards.round) * 10 + stages[stage]


def cells(with_base=True):
    """Every (model, gate, seed, round) the config asks for: round 0 once per (model, seed) under the
    pseudo-gate `base`, then each gate's rounds 1..R."""
    for model in config["models"]:
        for seed in config["seeds"]:
            if with_base:
                yield model, BASE_GATE, seed, 0
            for gate in config["gates"]:
                for round in range(1, config["rounds"] + 1):
                    yield model, gate, seed, round


def score_files():
    return [
        os.path.join(RUN.format(model=m, gate=g, seed=s, round=r), "score", f"{b}.json")
        for m, g, s, r in cells()
        for b in config["score"]["benchmarks"]
    ]


def decision_files():
    return [
        os.path.join(RUN.format(model=m, gate=g, seed=s, round=r), "decisions.jsonl")
        for m, g, s, r in cells(False)
    ]


def gate_model(wildcards):
    """The model a gate scores with: none, the round's own model (self-gates), or a fixed reviewer (cross)."""
    scores_with = GATES.get(wildcards.gate).scores_with
    if scores_with == "current":
        return previous_model(wildcards)
    if scores_with == "reviewer":
        reviewer = (
            config["gate_options"].get(wildcards.gate, {}).get("reviewer", BASE_GATE)
        )
        if reviewer == BASE_GATE:
            return model_dir(wildcards.model, BASE_GATE, wildcards.seed, 0)
        if reviewer in config["models"]:
            return model_dir(reviewer, BASE_GATE, wildcards.seed, 0)
        return reviewer  # a model directory or hub id outside the workflow
    return None


def samples_per_round(gate):
    """--n-samples for a quantile gate under a budget (accepted / keep fraction), else '' (the whole pool)."""
    accepted = config["budget"]["accepted_per_round"]
    keep = GATES.get(gate).keep_fraction(config["gate_options"].get(gate, {}))
    if accepted is None or keep is None:
        return ""
    return f"--n-samples {math.ceil(accepted / keep)}"


def max_train():
    accepted = config["budget"]["accepted_per_round"]
    return "" if accepted is None else f"--max-train {accepted}"


def audit_gate_model(wildcards):
    """In the audit of round r, a self-gate judges with the round-r model itself (the one that wrote the audit
    samples); a reviewer gate with its reviewer."""
    if GATES.get(wildcards.gate).scores_with == "current":
        return this_model(wildcards)
    return gate_model(wildcards)


def audit_inputs(wildcards):
    inputs = {"model": this_model(wildcards), "tasks": f"{MICROTASKS}/heldout.jsonl"}
    model = audit_gate_model(wildcards)
    if model and (model.startswith("results/") or os.path.isdir(model)):
        inputs["gate_model"] = model
    return inputs


def audit_files():
    """One audit per (model, gate, seed, round), round 0 included (a gate judging the base model's code)."""
    if not config["audit"]["enabled"]:
        return []
    rounds = range(0, config["rounds"] + 1)
    return [
        os.path.join(RUN.format(model=m, gate=g, seed=s, round=r), "audit.json")
        for m in config["models"]
        for g in config["gates"]
        for s in config["seeds"]
        for r in rounds
    ]


def gate_inputs(wildcards):
    inputs = {"samples": os.path.join(RUN.format(**wildcards), "samples.jsonl")}
    model = gate_model(wildcards)
    if model and (model.startswith("results/") or os.path.isdir(model)):
        inputs["model"] = model
    return inputs
