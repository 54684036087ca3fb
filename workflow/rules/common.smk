# Paths, wildcard constraints and helpers shared by every rule. Keys live in paths, so a glob finds any slice:
#   results/base/{model}/model                                 round-0 model (Hugging Face directory)
#   results/runs/{model}/{gate}/seed{seed}/round{round}/       one round of one cell
#   results/runs/{model}/base/seed{seed}/round0/score/         round 0, scored once per (model, seed)
import json
import os
import shlex

from gatedloop.cli import to_cli_args


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
    stages = {"generate": 1, "finetune": 2, "score": 3}
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
