"""config/study.yaml's protocol, end to end on CPU: the study's own settings (file-prefix prompts, selection in
waves, the study's gate definitions, full fine-tuning with packing, its evaluation settings, evaluation rounds,
execution diagnostics, its results CSV), with the models swapped for the embedded tiny one trained from scratch,
the prompts drawn from the standard-library files pre-training left out, and every count shrunk."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest
import yaml
from conftest import REPO
from workflow_runs import snakemake

from gatedloop.analysis.study_csv import STUDY_COLUMNS
from gatedloop.core.config import load_yaml, merge
from gatedloop.data.stdlib import EXCLUDED_DIRS
from gatedloop.gates.quality_gate import line_repetition

pytestmark = pytest.mark.integration
INSTALLED = {"site-packages", "dist-packages"}

N, WAVE, PER_ROUND, PROMPT_TOKENS = 8, 16, 32, 64
SMALL = {
    "models": {"tiny": {
        "source": "scratch",
        "shape": {"n_embd": 64, "n_layer": 2, "n_head": 2, "n_positions": 256},
        "tokenizer": {"vocab_size": 1024},
        "corpus": {"stdlib_chars": 300000},
        "pretrain": {"steps": 150, "batch_size": 8, "seq_len": 128, "lr": 0.003, "warmup_steps": 10},
        # " good" and " bad" are not single tokens of a 1,024-token vocabulary: the question keeps its template
        "gate_options": {"binary": {"yes_word": " True", "no_word": " False"}}}},
    "prompts": {"corpus": "stdlib_heldout", "prompt_tokens": PROMPT_TOKENS, "min_file_tokens": PROMPT_TOKENS,
                "per_round": PER_ROUND},
    "budget": {"accepted_per_round": N, "wave_size": WAVE, "candidate_budget": 1024},
    "generate": {"backend": "transformers", "max_new_tokens": 64},
    "finetune": {"steps": 6, "batch_size": 4, "grad_accum": 2, "max_len": 64, "warmup_steps": 2, "lr": 0.0005,
                 "fim_rate": 0.5},
    "rounds": 2,
    "evaluation_rounds": [0, 2],
    "score": {"backend": "transformers", "benchmarks": ["microtasks", "humaneval"], "n_samples": 2, "max_tasks": 8,
              "max_new_tokens": 64},
    "microtasks": {"pool_size": 48},
    "sample_checks": {"diagnostic_samples": 16},
    "audit": {"max_new_tokens": 40, "timeout_s": 3, "bootstrap": 200},
    "analysis": {"probe": {"n": 20}},
}


def study_in_small() -> dict:
    """config/study.yaml with the small parts above; its humaneval_plus/mbpp_plus evaluation settings carried over
    to the offline HumanEval."""
    study = load_yaml(REPO / "config/study.yaml")
    config = merge(study, SMALL)
    config["models"] = SMALL["models"]
    score = config["score"]
    score["stop"] = {"humaneval": study["score"]["stop"]["humaneval_plus"]}
    score["prompt_strip"] = {"humaneval": study["score"]["prompt_strip"]["humaneval_plus"]}
    return config


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("study")
    path = workdir / "study-small.yaml"
    path.write_text(yaml.safe_dump(study_in_small(), sort_keys=False))
    result = snakemake(workdir, configfile=path)
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir / "results"


def round_dir(results, gate, round_):
    return results / "runs" / "tiny" / gate / "replace" / "seed0" / f"round{round_}"


def jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_the_study_keeps_its_settings_under_the_small_counts():
    config = study_in_small()
    assert config["gates"] == ["none", "compile", "quality", "perplexity", "binary"]
    assert config["finetune"]["method"] == "full" and config["finetune"]["packing"] is True
    assert config["gate_options"]["quality"] == {"repetition": "line", "max_repetition": 0.3,
                                                 "length_unit": "model_tokens", "min_tokens": 50}
    assert config["budget"]["selection"] == "waves" and config["prompts"]["source"] == "file_prefixes"


def test_each_round_draws_fresh_file_prefixes_pretraining_never_saw(study_run):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(study_run / "base/tiny/model")
    rounds = [jsonl(study_run / f"prompts/tiny/seed0/round{r}.jsonl") for r in (1, 2)]
    assert all(len(prompts) == PER_ROUND for prompts in rounds)
    assert {p["prompt"] for p in rounds[0]} != {p["prompt"] for p in rounds[1]}
    for prompt in rounds[0] + rounds[1]:
        # a standard-library directory the pre-training corpus leaves out, never an installed package
        assert set(prompt["origin"].split("/")[:-1]) & (EXCLUDED_DIRS - INSTALLED), prompt["origin"]
        assert not set(prompt["origin"].split("/")) & INSTALLED
        assert len(tokenizer(prompt["prompt"], add_special_tokens=False).input_ids) <= PROMPT_TOKENS


def test_human_gates_generate_in_waves_until_n_pass_and_train_on_the_first_n(study_run):
    for gate in ("compile", "quality"):
        for round_ in (1, 2):
            folder = round_dir(study_run, gate, round_)
            stats = json.loads((folder / "generation.json").read_text())
            decisions = jsonl(folder / "decisions.jsonl")
            accepted = [d["id"] for d in decisions if d["accepted"]]
            assert stats["selected"] == N and stats["passed"] == len(accepted) >= N
            assert stats["generated"] == len(decisions) == stats["waves"] * WAVE <= 1024
            # the wave that reached N was the last one
            assert sum(d["accepted"] for d in decisions[: len(decisions) - WAVE]) < N
            trained = json.loads((folder / "finetune.json").read_text())
            assert trained["train_ids"] == accepted[:N] and trained["selection"] == "first accepted"


def test_the_study_gate_definitions_hold_on_what_was_accepted(study_run):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(study_run / "base/tiny/model")
    for round_ in (1, 2):
        folder = round_dir(study_run, "quality", round_)
        samples = {s["id"]: s for s in jsonl(folder / "samples.jsonl")}
        for decision in jsonl(folder / "decisions.jsonl"):
            sample = samples[decision["id"]]
            long_enough = len(tokenizer(sample["completion"], add_special_tokens=False).input_ids) >= 50
            varied = line_repetition(sample["prompt"] + sample["completion"]) <= 0.3
            assert decision["accepted"] == (long_enough and varied), decision
        compiled = round_dir(study_run, "compile", round_)
        samples = {s["id"]: s for s in jsonl(compiled / "samples.jsonl")}
        for decision in jsonl(compiled / "decisions.jsonl"):
            program = samples[decision["id"]]["prompt"] + samples[decision["id"]]["completion"]
            try:
                with warnings.catch_warnings():  # generated code warns (invalid escapes...): not our concern here
                    warnings.simplefilter("ignore")
                    compile(program, "<sample>", "exec")
                compiles = True
            except (SyntaxError, ValueError):
                compiles = False
            assert decision["accepted"] == compiles


def test_self_gates_score_a_fixed_pool_and_keep_exactly_n(study_run):
    for gate in ("perplexity", "binary"):
        for round_ in (1, 2):
            decisions = jsonl(round_dir(study_run, gate, round_) / "decisions.jsonl")
            assert len(decisions) == N * 4 and sum(d["accepted"] for d in decisions) == N


def test_every_arm_is_fully_fine_tuned_on_packed_sequences(study_run):
    for gate in ("none", "compile", "quality", "perplexity", "binary", "reference"):
        stats = json.loads((round_dir(study_run, gate, 2) / "finetune.json").read_text())
        assert stats["method"] == "full" and stats["n_train"] == N
        assert stats["trained"]["steps"] == 6 and stats["trained"]["sequences"] == 6 * 4 * 2
        assert stats["trained"]["tokens"] == 6 * 4 * 2 * 64 and stats["trained"]["passes"] > 1
        assert stats["data"]["fim"] == {**stats["data"]["fim"], "enabled": False,
                                        "reason_off": "the tokenizer has no FIM tokens"}


def test_only_the_evaluation_rounds_are_scored_with_the_studys_settings(study_run):
    metrics = pd.read_csv(study_run / "metrics.csv")
    assert sorted(metrics["round"].unique()) == [0, 2]
    assert not (round_dir(study_run, "compile", 1) / "score").exists()
    summary = json.loads((round_dir(study_run, "compile", 2) / "score/humaneval.json").read_text())
    assert summary["prompt_strip"] == "both" and summary["expand_tabs"] is True
    assert summary["stop"] == ["\nclass ", "\ndef ", "\n#", "\nif ", "\nprint"]
    table = pd.read_csv(study_run / "study_csv/tiny/compile/replace/seed0.csv")
    assert list(table.columns) == STUDY_COLUMNS and list(table["round"]) == [0, 2]
    last = table[table["round"] == 2].iloc[0]
    generation = json.loads((round_dir(study_run, "compile", 2) / "generation.json").read_text())
    assert last.num_generated == generation["generated"] and last.num_after_filter == N
    assert last.steps_total == 12  # both rounds' steps, the unscored round 1 included


def test_every_round_has_the_studys_execution_diagnostics(study_run):
    checks = json.loads((round_dir(study_run, "quality", 1) / "sample_checks.json").read_text())
    diagnostics = checks["diagnostics"]
    assert diagnostics["raw"]["evaluated"] == 16 and diagnostics["accepted"]["evaluated"] == diagnostics[
        "accepted"]["population"]
    for population in ("raw", "accepted", "training"):
        rates = diagnostics[population]
        assert 0 <= rates["execution_strict_rate"] <= rates["execution_relaxed_rate"] <= 1
    assert diagnostics["training"]["population"] == N
