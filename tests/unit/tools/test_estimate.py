"""The cost estimate: token counts that follow the config, GPU-hours from the documented assumptions, jobs from
Snakemake's dry run, and a clear error for a model without throughput figures."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from conftest import REPO, SCHEMA

from gatedloop.core.config import ConfigError, load_yaml, validate_config
from gatedloop.tools.estimate import estimate, generated_per_round, stage_tokens

THROUGHPUT = yaml.safe_load((REPO / "resources/throughput.yaml").read_text())


def paper(**changes):
    config = load_yaml(REPO / "config/paper.yaml")
    config.update(changes)
    return validate_config(config, SCHEMA)


def test_quantile_gates_generate_budget_over_keep_fraction_and_others_the_pool():
    config = paper()
    assert generated_per_round(config, "perplexity") == 20000  # 5000 / 0.25
    assert generated_per_round(config, "compile") == 800 * 25


def test_tokens_and_hours_scale_with_rounds_and_throughput():
    five, ten = stage_tokens(paper()), stage_tokens(paper(rounds=10))
    # round 1 (20,000 samples of 256 new tokens) is generated once for all 9 gates, later rounds once per gate
    for tokens, rounds in ((five, 5), (ten, 10)):
        assert tokens["santacoder"]["generate"] == (20000 + 9 * 20000 * (rounds - 1)) * 256
    assert ten["santacoder"]["finetune"] == 2 * five["santacoder"]["finetune"]
    result = estimate(paper(), THROUGHPUT)
    hours = {row["model"]: sum(row["gpu_hours"].values()) for row in result["models"]}
    assert hours["codellama-7b"] > hours["starcoder2-3b"] > hours["qwen2.5-coder-1.5b"] > hours["santacoder"]
    finetune = next(r for r in result["models"] if r["model"] == "santacoder")["gpu_hours"]["finetune"]
    arms = 9 + 1  # the config's gates and the control arm, which fine-tunes like the rest
    assert finetune == pytest.approx(3000 * arms * 5 * 8 * 512 / 9000 / 3600)
    assert result["disk_gb"] > 0


def test_not_keeping_merged_weights_keeps_base_and_adapters_only():
    kept, dropped = estimate(paper(finetune={"keep_merged": True}), THROUGHPUT), estimate(paper(), THROUGHPUT)
    chains = (9 + 1) * 1 * 1  # (gates + control arm) x regimes x seeds; five rounds each
    weights = sum(row["weights_gb"] for row in kept["models"])
    assert kept["disk_gb"] == pytest.approx(weights * (1 + 5 * chains) + 0.01 * weights * 5 * chains)
    assert dropped["disk_gb"] == pytest.approx(weights + 0.01 * weights * 5 * chains)
    assert dropped["disk_gb"] < kept["disk_gb"] / 10
    assert dropped["job_tmp_gb"] == max(row["weights_gb"] for row in kept["models"]) and kept["job_tmp_gb"] == 0


def test_a_model_without_figures_is_named():
    config = validate_config({"models": {"mine": {"source": "hub", "id": "org/unknown"}}}, SCHEMA)
    with pytest.raises(ConfigError, match="models.mine: no throughput figures for 'org/unknown'"):
        estimate(config, THROUGHPUT)


def test_the_cli_prints_jobs_per_rule_and_gpu_hours():
    result = subprocess.run([sys.executable, "-m", "gatedloop.tools.estimate", "--configfile",
                             str(REPO / "config/integration.yaml")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "pretrain" in result.stdout and "finetune" in result.stdout and "GPU-hours on H100" in result.stdout


def test_scoring_counts_only_the_evaluated_rounds():
    some = stage_tokens(paper(rounds=20, evaluation_rounds=[0, 5, 10, 20]))["santacoder"]
    three = stage_tokens(paper(rounds=3))["santacoder"]  # three rounds after round 0, like 5, 10 and 20
    assert some["score"] == three["score"] and some["finetune"] == pytest.approx(20 / 3 * three["finetune"])
def test_full_fine_tuning_counts_the_effective_batch_at_its_own_rate():
    lora = estimate(paper(), THROUGHPUT)
    study_dose = {"method": "full", "steps": 3000, "batch_size": 8, "grad_accum": 8, "max_len": 2048}
    full = estimate(paper(finetune=study_dose), THROUGHPUT)
    hours = {row["model"]: row["gpu_hours"]["finetune"] for row in full["models"]}
    arms = 9 + 1
    rate = THROUGHPUT["models"]["bigcode/gpt_bigcode-santacoder"]["full_train_tps"]
    assert hours["santacoder"] == pytest.approx(3000 * arms * 5 * 8 * 8 * 2048 / rate / 3600)
    assert hours["santacoder"] > next(r for r in lora["models"] if r["model"] == "santacoder")["gpu_hours"][
        "finetune"]


def test_the_cli_merges_several_config_files(tmp_path):
    overlay = tmp_path / "fewer.yaml"
    overlay.write_text("gates: [none]\ncontrol: {enabled: false}\n")
    result = subprocess.run([sys.executable, "-m", "gatedloop.tools.estimate", "--no-jobs", "--configfile",
                             str(REPO / "config/paper.yaml"), str(overlay)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    alone = subprocess.run([sys.executable, "-m", "gatedloop.tools.estimate", "--no-jobs", "--configfile",
                            str(REPO / "config/paper.yaml")], capture_output=True, text=True, timeout=300)
    total = [float(line.split()[1]) for out in (result.stdout, alone.stdout) for line in out.splitlines()
             if line.strip().startswith("total")]
    assert len(total) == 2 and total[0] < total[1] / 5


def study(**changes):
    config = load_yaml(REPO / "config/study.yaml")
    config.update(changes)
    return validate_config(config, SCHEMA)


def test_the_study_generates_in_waves_at_the_planned_pass_rate_and_prompts_are_file_prefixes():
    config = study()
    rates = {"compile": 0.5, "quality": 0.25}
    assert generated_per_round(config, "compile", rates) == 10000      # 5,000 / 0.5
    assert generated_per_round(config, "quality", rates) == 20000
    assert generated_per_round(config, "none", rates) == 5000          # none generates exactly N
    assert generated_per_round(config, "perplexity", rates) == 20000   # the fixed pool of N / keep_fraction
    assert generated_per_round(config, "compile", {"compile": 0.01}) == 200000  # capped by the candidate budget
    tokens = stage_tokens(config, rates)["santacoder"]
    # round 1: one waves stream as long as the longest arm's (20,000), the fixed pools of none (5,000) and of the
    # self-gates (20,000, shared); rounds 2-5 per arm
    per_round = 5000 + 10000 + 20000 + 20000 + 20000
    assert tokens["generate"] == ((20000 + 5000 + 20000) + per_round * 4) * 1024
    # the self-gates score prompt (1,024 tokens) + continuation (1,024) of each of their 20,000 samples
    assert tokens["gate"] == 2 * 20000 * 2048 * 5
    # full fine-tuning: 3,000 steps x 64 sequences x 2,048 tokens per round and arm (the control arm too)
    assert tokens["finetune"] == 3000 * 64 * 2048 * 5 * 6


def test_disabled_sections_cost_nothing():
    tokens = stage_tokens(study(audit={"enabled": False}, analysis={"enabled": False}))["qwen2.5-coder-1.5b"]
    assert tokens["audit"] == 0 and tokens["analyze"] == 0


def test_full_fine_tuning_keeps_every_rounds_full_weights():
    result = estimate(study(), THROUGHPUT)
    cells = 6 * 5  # (5 gates + the control arm) x 5 rounds, one seed and regime
    weights = sum(row["weights_gb"] for row in result["models"])
    assert result["full"] and result["disk_gb"] == pytest.approx(weights * (1 + cells))
