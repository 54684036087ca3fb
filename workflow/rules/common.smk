# Paths, wildcard constraints and helpers shared by every rule. Keys live in paths, so a glob finds any slice:
#   results/base/{model}/model                                   round-0 model (Hugging Face directory)
#   results/runs/{model}/{gate}/{regime}/seed{seed}/round{round}/  one round of one cell (round >= 1)
#   results/runs/{model}/base/seed{seed}/round0/score/           round 0, scored once per (model, seed)
#   results/runs/{model}/{gate}/seed{seed}/round0/audit.json     round-0 audit, once per (model, gate, seed)
# Every results path is formatted by gatedloop.core.layout, which the aggregate and the tools parse them with:
# a rule's output is layout.pattern(kind), its wildcards as the keys.
import json
import os
import re
import shlex

from gatedloop.backends import SamplingParams
from gatedloop.core.options import stage_settings, to_cli_args
from gatedloop.core.config import arm_options, gate_options_for, not_stage_settings
from gatedloop.benchmarks import BENCHMARKS as BENCHMARK_CLASSES
from gatedloop.gates import GATES
from gatedloop.core import layout
from gatedloop.core.layout import (
    BASE_MODEL,
    BENCHMARKS,
    CHECKPOINTS,
    CORPUS,
    HUMAN_POOL,
    LOGS,
    MICROTASKS,
    PREPARED,
    PROBE,
    TOKENIZER,
    Sweep,
    audited,
    pattern,
    round_file,
    table,
)


wildcard_constraints:
    model="[A-Za-z0-9][A-Za-z0-9_.-]*",
    gate="[a-z][a-z0-9_]*(@[A-Za-z0-9][A-Za-z0-9_.-]*)?",
    regime="[a-z]+",
    seed=r"\d+",
    round=r"\d+",
    benchmark="[a-z][a-z0-9_]*",
    size=r"pool|\d+",


BASE_GATE = layout.BASE_GATE
# The results layout and the files a sweep writes: gatedloop.core.layout, shared with the aggregate.
SWEEP = Sweep.from_config(config)


def cells():
    return SWEEP.cells()


def cell_dir(model, gate, regime, seed, round):
    return layout.round_dir(model, gate, regime, seed, round)


score_files = SWEEP.score_files
analysis_files = SWEEP.analysis_files
audit_files = SWEEP.audit_files
sample_check_files = SWEEP.sample_check_files
decision_files = SWEEP.decision_files
manifest_files = SWEEP.manifest_files
# Benchmarks that read a file: the one the workflow builds, and the local files the config names.
BENCHMARK_DATA = {
    "microtasks": f"{MICROTASKS}/heldout.jsonl",
    **config["score"]["data"],
}
# The fixed prompt pool every round generates from: a file of your own (prompts.path) or the microtasks pool.
PROMPT_POOL = config["prompts"]["path"] or f"{MICROTASKS}/pool.jsonl"


def cli_for(section, settings, *stage_dataclasses):
    """A config section (`settings`, found at config path `section`) as the flags of a stage's settings: exactly the
    fields of its dataclasses, keys sorted (reordering a YAML file changes no params and reruns no job). Any other
    key must be named, with its use, in gatedloop.core.config.NOT_STAGE_SETTINGS: a key that is neither stops the
    planning, naming it, rather than a job's argument parser."""
    section_name = section.split(".")[0]
    chosen = stage_settings(
        settings, stage_dataclasses, not_stage_settings(section_name), section
    )
    return shlex.join(to_cli_args(chosen))


def model_batch(model, stage):
    """The model's own batch size for a stage (models.<name>.batch_sizes), or None where the global one applies."""
    return config["models"][model]["batch_sizes"].get(stage)


def sampling_args(section, model, stage):
    """A sampling section (generate, audit) as flags, with the model's own batch size for this stage: a per-model
    value changes the params of that model's jobs only."""
    settings = dict(config[section])
    if model_batch(model, stage) is not None:
        settings["batch_size"] = model_batch(model, stage)
    return cli_for(section, settings, SamplingParams)


def gate_options_json(model, gate):
    """gate_options.<gate> as the gate and audit CLIs get them: with the answering model's own words
    (models.<name>.gate_options, gatedloop.core.config.gate_options_for); a gate that scores with a model also gets the
    config's dtype and the model's own gate batch size (models.<name>.batch_sizes.gate).
    """
    options = gate_options_for(config, model, gate)
    if gate_tokenizer(model, gate):
        options["tokenizer"] = gate_tokenizer(model, gate)
    if GATES.get(gate).scores_with:
        options.setdefault("dtype", config["dtype"])
        if model_batch(model, "gate") is not None:
            options["batch_size"] = model_batch(model, "gate")
    return json.dumps(options, sort_keys=True)


def gate_tokenizer(model, gate):
    """The model directory whose tokenizer a gate counts with, where its options ask for model tokens without
    scoring with the model (quality with length_unit model_tokens): the cell's round-0 model; else None.
    """
    if GATES.get(gate).needs_tokenizer(gate_options_for(config, model, gate)):
        return model_dir(model, None, None, None, 0)
    return None


def models_from(*sources):
    """A wildcard pattern matching exactly the configured models of these sources (nothing if none)."""
    names = [m for m, spec in config["models"].items() if spec["source"] in sources]
    return "|".join(re.escape(name) for name in names) or "(?!)"


def backend_spec(name):
    """The backend spec for a job: vLLM carries the config's engine settings (vllm section) as NAME:KEY=VALUE,..."""
    if name != "vllm":
        return name
    options = [f"{k}={v}" for k, v in sorted(config["vllm"].items()) if v is not None]
    return ":".join(["vllm", ",".join(options)]) if options else "vllm"


def model_dir(model, gate, regime, seed, round):
    """Where the model of a given round lives: round 0 is the shared base model."""
    return round_file("model", model, gate, regime, seed, round)


def _round(wildcards):
    return int(
        getattr(wildcards, "round", 0)
    )  # rules for round 0 have no {round} wildcard


def previous_model(wildcards):
    w = wildcards
    return model_dir(w.model, w.gate, w.regime, w.seed, _round(w) - 1)


def this_model(wildcards):
    if _round(wildcards) == 0:
        return model_dir(wildcards.model, None, None, None, 0)
    w = wildcards
    return model_dir(w.model, w.gate, w.regime, w.seed, w.round)


def job_seed(wildcards, stage):
    """A distinct, reproducible seed per (run seed, round, stage)."""
    stages = {
        "generate": 1,
        "finetune": 2,
        "score": 3,
        "audit": 4,
        "analyze": 5,
        "gate": 6,
    }
    return int(wildcards.seed) * 10_000 + _round(wildcards) * 10 + stages[stage]


def prepared_input(benchmark):
    """The prepare job's record, for benchmarks that fetch or check data first (HumanEval+, MBPP+, LiveCodeBench)."""
    if BENCHMARK_CLASSES.get(benchmark).needs_preparation:
        return PREPARED.format(benchmark=benchmark)
    return []


def benchmark_options(benchmark):
    """--option NAME.KEY=VALUE for a benchmark's own config section (score.livecodebench), unset keys left out."""
    section = config["score"].get(benchmark)
    if not isinstance(section, dict):
        return ""
    return shlex.join(
        f"--option={benchmark}.{key}={value}"
        for key, value in sorted(section.items())
        if value is not None
    )


def gate_model(wildcards):
    """The model a gate scores with: none, the round's own model (self-gates), or a fixed reviewer (cross)."""
    scores_with = GATES.get(wildcards.gate).scores_with
    if scores_with == "current":
        return previous_model(wildcards)
    if scores_with == "reviewer":
        reviewer = arm_options(config, wildcards.gate).get("reviewer", BASE_GATE)
        if reviewer == BASE_GATE:
            return model_dir(wildcards.model, None, None, None, 0)
        if reviewer in config["models"]:
            return model_dir(reviewer, None, None, None, 0)
        return reviewer  # a model directory or hub id outside the workflow
    return None


def is_file_input(model):
    """A model directory Snakemake should track (ours or a local one); hub ids are passed as params only."""
    return bool(model) and (
        model.startswith(f"{layout.RESULTS}/") or os.path.isdir(model)
    )


def figure_settings():
    """The figure rules' shared flags: only figure settings, so changing one reruns only figures."""
    figures = config["figures"]
    return shlex.join(
        [
            "--dpi",
            str(figures["dpi"]),
            "--style",
            figures["style"],
            "--bootstrap",
            str(figures["bootstrap"]),
            "--benchmarks",
            *figures["benchmarks"],
            "--gates",
            *figures["gates"],
        ]
    )


def figure_files(folder):
    """The figures and the collapse table a sweep draws into `folder`, by the sections the config enables."""
    kinds = ["pass_at_1", "heatmap", "coverage"]
    kinds += ["effect"] if GATES.control_name() in config["gates"] else []
    kinds += ["gate_audit"] if config["audit"]["enabled"] else []
    kinds += ["spectral", "diversity"] if config["analysis"]["enabled"] else []
    kinds += ["execution"] if config["sample_checks"]["enabled"] else []
    figures = [layout.figure(k, folder) for k in kinds]
    return [table("collapse", folder)] + figures
