"""What a config will cost, before anything is submitted: jobs per rule, GPU-hours per stage, and disk.

CLI: ``python -m gatedloop.tools.estimate [--configfile config/study.yaml [overlay.yaml ...]]
[--throughput resources/throughput.yaml]``.
Jobs per rule come from Snakemake's own dry run (exact); GPU-hours from the token counts the config implies and
the per-model throughput assumptions in ``resources/throughput.yaml`` (documented there: planning figures, not
measurements; put your cluster's in); disk from the model sizes: base weights, every round's LoRA adapter, and
every round's merged weights (bf16 on GPUs) where ``finetune.keep_merged`` keeps them; where it does not, rounds
are adapter chains (kilobytes) rebuilt in memory by each job, and only jobs that hand weights to vLLM write a
merged copy, to node-local temporary space, for their own length.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import yaml

from gatedloop.core.config import ConfigError, arm_options, effective_batch, load_yaml, merge, validate_config
from gatedloop.gates import GATES
from gatedloop.gates.base import gate_of
from gatedloop.gates.waves import wave_gates

REPO = Path(__file__).resolve().parents[3]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
PROMPT_TOKENS = 150  # a prompt's length in tokens, roughly (microtask docstrings, benchmark prompts)
HELD_OUT_TASKS = 174  # the microtasks audit set
BENCHMARK_TASKS = {"microtasks": 174, "humaneval": 164, "humaneval_plus": 164, "mbpp_plus": 378,
                   "livecodebench": 400}


def planned_jobs(configfiles: list[Path]) -> dict[str, int]:
    """Snakemake's dry run of the config files, in a scratch directory: rule -> number of jobs."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    with tempfile.TemporaryDirectory() as workdir:
        files = [str(path.resolve()) for path in configfiles]
        result = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
                                 workdir, "--configfile", *files, "--cores", "1", "-n", "--quiet", "rules"],
                                capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise ConfigError(f"{' '.join(map(str, configfiles))}: snakemake -n failed:\n{result.stderr[-2000:]}")
    return job_counts(result.stdout + result.stderr)


def job_counts(snakemake_output: str) -> dict[str, int]:
    """rule -> jobs, from the 'Job stats' table Snakemake prints (empty when there was nothing to do)."""
    if "Job stats:" not in snakemake_output:
        return {}
    table = snakemake_output.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def model_key(spec: dict) -> str:
    return spec.get("id") or spec.get("path") or spec["source"]


def generated_per_round(config: dict, gate: str, pass_rates: dict | None = None) -> int:
    """Candidates an arm generates per round: a quantile gate's N / keep_fraction; under selection in waves, N for
    none and N / the gate's expected pass rate (capped by the candidate budget) for a waves gate; else one pass over
    the round's prompts."""
    accepted = config["budget"]["accepted_per_round"]
    keep = arm_options(config, gate).get("keep_fraction") if GATES.get(gate).scores_with else None
    if accepted is not None and keep:
        return math.ceil(accepted / keep)
    if gate in wave_gates(config):
        rate = (pass_rates or {}).get(gate_of(gate), 1.0)
        return min(math.ceil(accepted / rate), config["budget"]["candidate_budget"])
    if config["budget"]["selection"] == "waves" and GATES.kind_of(gate) == "none":
        return accepted
    return prompts_per_round(config) * config["generate"]["samples_per_prompt"]


def prompts_per_round(config: dict) -> int:
    prompts = config["prompts"]
    if prompts["source"] == "file_prefixes":
        return prompts["per_round"]
    if prompts["path"]:
        with open(prompts["path"]) as pool:
            return sum(1 for line in pool if line.strip())
    return config["microtasks"]["pool_size"]


def prompt_tokens(config: dict) -> int:
    """A prompt's length in tokens: the cut the prompts take (file prefixes: 1,024 by default), else a microtask
    docstring's or a benchmark prompt's rough length."""
    prompts = config["prompts"]
    if prompts["prompt_tokens"] is not None:
        return prompts["prompt_tokens"]
    return 1024 if prompts["source"] == "file_prefixes" else PROMPT_TOKENS


def scored_rounds(config: dict) -> int:
    """The rounds after round 0 that are scored: evaluation_rounds' (null or absent: every round)."""
    evaluated = config.get("evaluation_rounds")
    return config["rounds"] if evaluated is None else len([r for r in evaluated if r > 0])


def stage_tokens(config: dict, pass_rates: dict | None = None) -> dict[str, dict[str, float]]:
    """model -> stage -> tokens the whole sweep pushes through the model (generation counts new tokens, at most
    max_new_tokens each: an upper bound where samples end early at EOS)."""
    rounds, seeds, gates = config["rounds"], len(config["seeds"]), config["gates"]
    judged = [g for g in gates if g != GATES.control_name()]  # the control arm generates nothing and has no audit
    new, prompt = config["generate"]["max_new_tokens"], prompt_tokens(config)
    score, audit = config["score"], config["audit"]
    tasks = sum(BENCHMARK_TASKS.get(b, 200) for b in score["benchmarks"])
    waves = set(wave_gates(config))
    out = {}
    for name in config["models"]:
        # round 1 is generated once and shared: once per sample count for fixed pools, and one candidate stream
        # (as long as the longest arm's) for the arms selecting in waves; later rounds per arm
        sizes = {g: generated_per_round(config, g, pass_rates) for g in judged}
        fixed = {size for g, size in sizes.items() if g not in waves}
        round1 = sum(fixed) + max((size for g, size in sizes.items() if g in waves), default=0)
        generated = (round1 + sum(sizes.values()) * (rounds - 1)) * seeds
        trained_steps = config["finetune"]["steps"] * len(gates) * rounds * seeds
        out[name] = {
            "generate": generated * new,
            "gate": sum(sizes[g] * (prompt + new) for g in judged if GATES.get(g).scores_with) * rounds * seeds,
            "finetune": trained_steps * effective_batch(config) * config["finetune"]["max_len"],
            "score": tasks * score["n_samples"] * score["max_new_tokens"] * (len(gates) * scored_rounds(config) + 1)
            * seeds,
            "audit": HELD_OUT_TASKS * audit["samples_per_task"] * audit["max_new_tokens"]
            * (len(judged) * (rounds + 1)) * seeds if audit["enabled"] else 0.0,
            "analyze": (config["analysis"]["probe"]["n"] * config["analysis"]["max_tokens"]
                        + generated / max(1, rounds * seeds * len(judged)) * (prompt + new))
            * (len(gates) * rounds + 1) * seeds if config["analysis"]["enabled"] else 0.0,
        }
    return out


RATE = {"generate": "generate_tps", "gate": "score_tps", "finetune": "train_tps", "score": "generate_tps",
        "audit": "generate_tps", "analyze": "score_tps"}


def rate_key(config: dict, stage: str) -> str:
    """The throughput figure of a stage; full fine-tuning has its own (full_train_tps: from the FLOPs a token costs
    with the study's gradient checkpointing, see resources/throughput.yaml)."""
    if stage == "finetune" and config["finetune"]["method"] == "full":
        return "full_train_tps"
    return RATE[stage]


def estimate(config: dict, throughput: dict) -> dict:
    rows, total_hours, disk_gb = [], 0.0, 0.0
    chains = len(config["gates"]) * len(config["regimes"]) * len(config["seeds"])
    cells = chains * config["rounds"]
    full = config["finetune"]["method"] == "full"  # a full round is its full weights, whatever keep_merged says
    keep = config["finetune"]["keep_merged"] or full
    for name, tokens in stage_tokens(config, throughput.get("pass_rates")).items():
        key = model_key(config["models"][name])
        figures = throughput["models"].get(key)
        if figures is None:
            raise ConfigError(f"models.{name}: no throughput figures for {key!r}; add it to resources/throughput.yaml")
        hours = {stage: count / figures[rate_key(config, stage)] / 3600 for stage, count in tokens.items()}
        total_hours += sum(hours.values())
        weights_gb = figures["params_b"] * 2  # bf16
        adapter_gb = 0.0 if full else weights_gb * 0.01
        kept_gb = weights_gb * (1 + (cells if keep else 0)) + adapter_gb * cells
        disk_gb += kept_gb
        rows.append({"model": name, "hub": key, "gpu_hours": hours, "weights_gb": weights_gb})
    return {"models": rows, "gpu_hours": total_hours, "disk_gb": disk_gb,
            "job_tmp_gb": max(row["weights_gb"] for row in rows) if rows and not keep else 0.0,
            "keep_merged": keep, "full": full, "reference_gpu": throughput["reference_gpu"]}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", type=Path, nargs="+", default=[REPO / "config" / "config.yaml"],
                        help="one or more config files, merged in order as Snakemake merges them")
    parser.add_argument("--throughput", type=Path, default=REPO / "resources" / "throughput.yaml")
    parser.add_argument("--no-jobs", action="store_true", help="skip the dry run (jobs per rule)")
    args = parser.parse_args(argv)
    try:
        merged: dict = {}
        for path in args.configfile:
            merged = merge(merged, load_yaml(path))
        config = validate_config(merged, SCHEMA)
        result = estimate(config, yaml.safe_load(args.throughput.read_text()))
        jobs = {} if args.no_jobs else planned_jobs(args.configfile)
    except ConfigError as exc:
        sys.exit(f"estimate: error: {exc}")
    if jobs:
        print(f"{' + '.join(path.name for path in args.configfile)}: {sum(jobs.values())} jobs")
        for rule, count in sorted(jobs.items(), key=lambda item: -item[1]):
            print(f"  {rule:<24} {count:6d}")
    print(f"GPU-hours on {result['reference_gpu']} (assumptions: {args.throughput}):")
    for row in result["models"]:
        stages = ", ".join(f"{stage} {hours:.1f}" for stage, hours in row["gpu_hours"].items())
        print(f"  {row['model']:<22} {sum(row['gpu_hours'].values()):8.1f}   ({stages})")
    print(f"  {'total':<22} {result['gpu_hours']:8.1f}")
    if result["full"]:
        print(f"disk: about {result['disk_gb']:.0f} GB (full fine-tuning: every round's full bf16 weights kept)")
    elif result["keep_merged"]:
        print(f"disk: about {result['disk_gb']:.0f} GB (every round's merged bf16 weights and adapter kept)")
    else:
        print(f"disk: about {result['disk_gb']:.0f} GB (base weights and every round's adapter; each round's model "
              f"is rebuilt from them in memory); a vLLM job needs about {result['job_tmp_gb']:.0f} GB of node-local "
              "temporary space ($TMPDIR) for the merged copy it loads")


if __name__ == "__main__":
    main()
