"""The real workflow, end to end: Snakemake runs every stage on config/integration.yaml in a temp directory.
Then dry runs check that a changed setting replans only the jobs it affects (narrow params)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO
from workflow_runs import CONFIG, planned_jobs, snakemake

pytestmark = pytest.mark.integration

# The console command pip installs beside this interpreter (pyproject.toml [project.scripts]).
GATEDLOOP = str(Path(sys.executable).with_name("gatedloop"))
FIGURES = ["pass_at_1.png", "heatmap.png", "gate_audit.png", "spectral.png", "execution.png", "diversity.png",
           "effect.png", "coverage.png"]
FIGURE_RULES = {"figure_pass_at_1", "figure_heatmap", "figure_gate_audit", "figure_spectral", "figure_execution",
                "figure_diversity", "figure_effect", "figure_coverage", "collapse_table"}
HEAVY_RULES = {"microtasks", "corpus", "tokenizer", "pretrain", "human_pool", "generate", "gate", "gate_human",
               "finetune", "score", "score_base", "audit", "audit_base", "analyze", "analyze_base", "probe",
               "sample_checks", "prepare_benchmark", "generate_shared", "audit_generations_base"}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("run")
    result = snakemake(workdir)
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir


def test_the_run_writes_metrics_for_every_cell(finished_run):
    config = yaml.safe_load(CONFIG.read_text())
    table = pd.read_csv(finished_run / "results/metrics.csv")
    for column in ["model", "gate", "seed", "round", "benchmark", "pass_at_1", "n_generated", "n_accepted",
                   "acceptance_rate"]:
        assert column in table.columns
    rounds = config["rounds"]
    arms = [*config["gates"], "reference"]  # the control arm joins every sweep
    assert sorted(table.gate.unique()) == sorted(arms)
    assert len(table) == len(arms) * (rounds + 1)
    assert sorted(table["round"].unique()) == list(range(rounds + 1))
    # Round 0 is the same base model under every gate; later rounds count what their gate saw.
    assert table[table["round"] == 0].pass_at_1.nunique() == 1
    later = table[table["round"] > 0]
    assert (later.n_generated == config["microtasks"]["pool_size"]).all()
    none_rows = later[later.gate == "none"]
    assert (none_rows.n_accepted == none_rows.n_generated).all() and (none_rows.acceptance_rate == 1).all()
    perplexity = later[later.gate == "perplexity"]
    assert (perplexity.n_accepted == perplexity.n_generated // 2).all()  # keep_fraction 0.5 of each round
    # what a threshold held from round 1 would accept: round 1's own share is its acceptance (no ties in log-probs)
    bar = perplexity.set_index("round").acceptance_at_round1_bar
    assert bar[1] == 0.5 and 0 < bar[2] < 1
    assert table.pass_at_1.between(0, 1).all()
    # The audit ran for every gate and round, round 0 included; `none` accepts every audit sample. The control
    # arm judges nothing and has no audit.
    gated = table[table.gate != "reference"]
    assert gated.audit_acceptance_rate.notna().all()
    assert table[table.gate == "reference"].audit_acceptance_rate.isna().all()
    assert (table[table.gate == "none"].audit_acceptance_rate == 1).all()
    assert gated.audit_correct_rate.between(0, 1).all()
    # Sample checks of every later round: compile/execution rates and contamination against the benchmark.
    for column in ("compile_rate", "exec_pass_rate", "contamination_microtasks_prompt",
                   "contamination_microtasks_solution", "contamination_microtasks_tests"):
        assert later[column].between(0, 1).all(), column
    # Round 1 samples come from the same base model with the same seed under every gate: identical samples must
    # get identical verdicts, however many sandboxed jobs run side by side.
    round1 = later[(later["round"] == 1) & (later.gate != "reference")]
    assert round1.compile_rate.nunique() == 1 and round1.exec_pass_rate.nunique() == 1
    # Analysis of every round (round 0 from the base model, shared by every gate): spectrum and diversity.
    for layer in ("middle", "last"):
        for stat in ("lambda1_over_lambda2", "effective_rank", "topk_share", "participation_ratio"):
            column = f"spectral_{layer}_{stat}"
            assert table[column].notna().all(), column
            assert (table[f"{column}_low"] <= table[column] + 1e-9).all()
            assert (table[column] <= table[f"{column}_high"] + 1e-9).all()
    assert table[table["round"] == 0].spectral_last_lambda1_over_lambda2.nunique() == 1
    for column in ("diversity_distinct_2", "diversity_compression_ratio", "diversity_base_perplexity"):
        assert later[column].notna().all() and table[table["round"] == 0][column].isna().all(), column
    spectra = pd.read_csv(finished_run / "results/spectra.csv")
    assert set(spectra.layer) == {"middle", "last"} and spectra["round"].max() == rounds
    for figure in FIGURES:
        assert (finished_run / "results/figures" / figure).read_bytes()[:4] == b"\x89PNG", figure
    collapse = pd.read_csv(finished_run / "results/collapse.csv")
    assert set(collapse.gate) == set(arms) and (collapse.baseline == table[table["round"] == 0]
                                                             .pass_at_1.iloc[0]).all()


def test_the_control_arm_trains_on_the_pool_solutions_and_every_gate_is_compared_with_it(finished_run):
    from gatedloop.analysis.coverage import family_entropy

    config = yaml.safe_load(CONFIG.read_text())
    pool = [json.loads(line) for line in (finished_run / "results/data/microtasks/pool.jsonl").read_text().splitlines()]
    solutions = {p["task_id"]: p["prompt"] + p["canonical_solution"] for p in pool}
    for round_ in range(1, config["rounds"] + 1):
        run = finished_run / f"results/runs/tiny/reference/replace/seed0/round{round_}"
        samples = {s["id"]: s for s in map(json.loads, (run / "samples.jsonl").read_text().splitlines())}
        trained = [samples[i] for i in json.loads((run / "finetune.json").read_text())["train_ids"]]
        assert {s["prompt_id"]: s["prompt"] + s["completion"] for s in trained} == solutions
        assert len(trained) == len(pool)
    table = pd.read_csv(finished_run / "results/metrics.csv")
    keys = ["seed", "round", "benchmark"]
    control = table[table.gate == "reference"].set_index(keys).pass_at_1
    for row in table.itertuples():
        expected = row.pass_at_1 - control.loc[(row.seed, row.round, row.benchmark)]
        assert row.self_training_effect == pytest.approx(expected)
    effects = pd.read_csv(finished_run / "results/effects.csv")
    gate_rows = effects[effects.comparison == "vs_reference"]
    assert set(gate_rows.gate) == set(config["gates"])
    assert len(gate_rows) == len(config["gates"]) * (config["rounds"] + 1)
    assert (gate_rows.low <= gate_rows.effect + 1e-9).all() and (gate_rows.effect <= gate_rows.high + 1e-9).all()
    last = table[table["round"] == config["rounds"]].set_index("gate")
    for row in gate_rows[gate_rows["round"] == config["rounds"]].itertuples():
        assert row.effect == pytest.approx(last.loc[row.gate, "self_training_effect"])
    assert set(effects[effects.gate == "reference"].comparison) == {"vs_round0"}
    # Coverage: every held-out family in every round of every arm; accepted counts sum to the round's accepted
    # samples (every pool prompt has a family); the metrics' entropy is the mix's.
    coverage = pd.read_csv(finished_run / "results/coverage.csv")
    heldout = [json.loads(line) for line in
               (finished_run / "results/data/microtasks/heldout.jsonl").read_text().splitlines()]
    families = {t["family"] for t in heldout}
    for (gate, round_), cell in coverage.groupby(["gate", "round"]):
        assert set(cell.family) >= families and cell[cell.family.isin(families)].n_tasks.sum() == len(heldout)
        metrics_row = table[(table.gate == gate) & (table["round"] == round_)].iloc[0]
        if round_ > 0:
            assert cell.n_accepted.sum() == metrics_row.n_accepted
            counts = {f: n for f, n in zip(cell.family, cell.n_accepted, strict=True) if n}
            assert metrics_row.accepted_family_entropy == pytest.approx(family_entropy(counts), abs=1e-5)


def test_the_report_embeds_every_figure_and_the_collapse_table(finished_run):
    result = snakemake(finished_run, "--report", "results/report.html")
    assert result.returncode == 0, result.stderr[-3000:]
    html = (finished_run / "results/report.html").read_text()
    for name in [*FIGURES, "collapse.csv"]:
        assert name in html, name
    assert "lambda1/lambda2" in html  # a caption from workflow/report/


def test_a_local_run_forks_its_jobs_from_one_warm_server_and_stops_it(finished_run):
    log = (finished_run / "results/logs/warm_start.log").read_text()
    socket_path = re.search(r"ready on (\S+) \(pid (\d+)\)", log)
    assert socket_path, log
    served = re.findall(r"gatedloop\.(\w+) -> pid", log)
    # Jobs that start while the server is still importing run cold; every later model job is forked from it.
    assert {"generate", "gate", "finetune", "score", "audit"} <= set(served)
    assert not os.path.exists(socket_path[1])
    assert not os.path.exists(f"/proc/{socket_path[2]}")


def test_round_zero_scores_on_humaneval_end_to_end(finished_run):
    target = "results/runs/tiny/base/seed0/round0/score/humaneval.json"
    result = snakemake(finished_run, target)
    assert result.returncode == 0, result.stderr[-5000:]
    summary = json.loads((finished_run / target).read_text())
    assert summary["n_tasks"] == 164 and 0 <= summary["pass_at_1"] <= 1
    verdicts = (finished_run / target.replace(".json", ".verdicts.jsonl")).read_text().splitlines()
    assert len(verdicts) == 164
    assert {json.loads(v)["status"] for v in verdicts} <= {"pass", "fail", "timeout", "error"}


def test_round_zero_scores_on_the_plus_benchmarks_and_livecodebench(finished_run, tmp_path):
    """Local files through score.data (offline): each benchmark is prepared once, first, then scored."""
    config = yaml.safe_load(CONFIG.read_text())
    external = {"humaneval_plus": "resources/evalplus/HumanEvalPlus-crafted.jsonl",
                "mbpp_plus": "resources/evalplus/MbppPlus-crafted.jsonl",
                "livecodebench": "resources/livecodebench/crafted.jsonl"}
    config["score"]["benchmarks"] = ["microtasks", *external]
    config["score"]["data"] = {name: str(REPO / path) for name, path in external.items()}
    config["score"]["livecodebench"] = {"start_date": "2024-01-01", "timeout_s": 2}
    configfile = tmp_path / "external.yaml"
    configfile.write_text(yaml.safe_dump(config))
    targets = [f"results/runs/tiny/base/seed0/round0/score/{name}.json" for name in external]
    os.environ["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # the expected outputs evalplus-style, not in ~/.cache
    try:
        result = snakemake(finished_run, *targets, configfile=configfile)
    finally:
        del os.environ["XDG_CACHE_HOME"]
    assert result.returncode == 0, result.stderr[-5000:]
    for name, n_tasks in {"humaneval_plus": 10, "mbpp_plus": 8, "livecodebench": 6}.items():
        ready = json.loads((finished_run / f"results/data/benchmarks/{name}.ready.json").read_text())
        assert ready["n_tasks"] == n_tasks
        summary = json.loads((finished_run / f"results/runs/tiny/base/seed0/round0/score/{name}.json").read_text())
        assert summary["n_tasks"] == n_tasks and 0 <= summary["pass_at_1"] <= 1
    assert list((tmp_path / "cache" / "evalplus").glob("gatedloop-expected-*.pkl"))


def test_every_round_has_its_stage_outputs_and_logs(finished_run):
    run = finished_run / "results/runs/tiny/compile/replace/seed0/round2"
    for name in ["samples.jsonl", "decisions.jsonl", "finetune.json", "model/config.json", "score/microtasks.json",
                 "audit.json", "audit_samples.jsonl"]:
        assert (run / name).exists(), name
    assert (finished_run / "results/base/tiny/model/model.safetensors").exists()
    assert (finished_run / "results/logs/finetune/tiny/compile/replace/seed0/round2.log").exists()
    assert (finished_run / "results/runs/tiny/base/seed0/round0/score/microtasks.json").exists()
    assert (finished_run / "results/runs/tiny/perplexity/seed0/round0/audit.json").exists()
    assert (finished_run / "results/benchmarks/pretrain/tiny.tsv").exists()


def test_round_one_samples_and_round_zero_audit_samples_are_generated_once(finished_run):
    base = finished_run / "results/runs/tiny/base/seed0"
    shared = (base / "round1/samples.pool.jsonl").read_text()
    generations = [json.loads(line) for line in (base / "round0/audit_generations.jsonl").read_text().splitlines()]
    for gate in yaml.safe_load(CONFIG.read_text())["gates"]:
        assert (finished_run / f"results/runs/tiny/{gate}/replace/seed0/round1/samples.jsonl").read_text() == shared
        judged = (finished_run / f"results/runs/tiny/{gate}/seed0/round0/audit_samples.jsonl").read_text()
        rows = [json.loads(line) for line in judged.splitlines()]
        assert [(r["completion"], r["correct"]) for r in rows] == [(g["completion"], g["correct"])
                                                                   for g in generations]


def test_every_metrics_row_joins_to_its_rounds_manifest(finished_run):
    table = pd.read_csv(finished_run / "results/metrics.csv")
    assert table.manifest.notna().all()
    for row in table.itertuples():
        manifest = json.loads((finished_run / row.manifest).read_text())
        assert manifest["config_hash"].startswith(row.config_hash)
        assert manifest["config"]["round"] == row.round and manifest["config"]["seed"] == row.seed
        if row.round > 0:
            assert manifest["config"]["gate"] == row.gate
            assert "samples.jsonl" in manifest["files"] and "adapter/adapter_model.safetensors" in manifest["files"]
    # the same settings in two gates' rounds hash differently (the gate is a setting); round 0 is shared
    assert table[table["round"] == 0].config_hash.nunique() == 1
    assert table[table["round"] == 1].config_hash.nunique() == table.gate.nunique()


def test_a_finished_run_has_nothing_left_to_do(finished_run):
    assert planned_jobs(snakemake(finished_run, "-n")) == {}


def changed_config(tmp_path: Path, section: str, key: str, value) -> Path:
    config = yaml.safe_load(CONFIG.read_text())
    config.setdefault(section, {})[key] = value
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_a_scoring_setting_reruns_only_scoring(finished_run, tmp_path):
    jobs = planned_jobs(snakemake(finished_run, "-n", configfile=changed_config(tmp_path, "score", "timeout_s", 4)))
    assert set(jobs) & HEAVY_RULES == {"score", "score_base"}
    assert jobs["score"] == 8 and jobs["score_base"] == 1  # (3 gates + control) x 2 rounds, and round 0 once


def test_a_finetuning_setting_spares_the_base_model_and_round_one_samples(finished_run, tmp_path):
    jobs = planned_jobs(snakemake(finished_run, "-n", configfile=changed_config(tmp_path, "finetune", "lr", 0.01)))
    assert not {"microtasks", "corpus", "tokenizer", "pretrain"} & set(jobs)
    assert jobs["finetune"] == 8  # (3 gates + control) x 2 rounds
    # round 2 only: it samples from the new round-1 model (the control's human samples do not change)
    assert jobs["generate"] == 3 and "reference_samples" not in jobs
    assert jobs["gate"] == 1 and jobs["gate_human"] == 2  # perplexity scores with a model; none and compile do not
    assert jobs["audit"] == 6  # rounds 1-2 of each gate; round-0 audits judge the unchanged base model


@pytest.mark.parametrize("key, value", [("dpi", 80), ("style", "ggplot"), ("gates", ["none", "compile"]),
                                        ("benchmarks", ["microtasks"]), ("collapse_fraction", 0.5)])
def test_a_figure_setting_reruns_only_figures(finished_run, tmp_path, key, value):
    jobs = planned_jobs(snakemake(finished_run, "-n", configfile=changed_config(tmp_path, "figures", key, value)))
    assert jobs and not set(jobs) & HEAVY_RULES
    assert set(jobs) - {"all"} <= FIGURE_RULES


def _broken_benchmark(tmp_path: Path, config: dict) -> None:
    data = tmp_path / "he.jsonl"
    data.write_text('{"task_id": "HumanEval/0", "prompt": "p", "canonical_solution": "", "test": "", '
                    '"entry_point": "f"}\n{"task_id": "HumanEval/1", "prompt": \n')
    config["score"] = {**config["score"], "benchmarks": ["humaneval"], "data": {"humaneval": str(data)}}


def _model_missing_weights(tmp_path: Path, config: dict) -> None:
    (tmp_path / "mymodel").mkdir()
    (tmp_path / "mymodel/config.json").write_text("{}")
    config["models"] = {"mine": {"source": "local", "path": str(tmp_path / "mymodel")}}


BAD_INPUTS = {
    "unknown gate": (lambda tmp, c: c.update(gates=["none", "magic"]), "config key 'gates[1]': unknown gate 'magic'"),
    "unknown key": (lambda tmp, c: c.update(surprise=1), "'surprise' was unexpected"),
    "wrong type": (lambda tmp, c: c.update(rounds="two"), "config key 'rounds': 'two' is not of type 'integer'"),
    "unknown benchmark": (lambda tmp, c: c["score"].update(benchmarks=["hummaneval"]),
                          "config key 'score.benchmarks[0]': unknown benchmark 'hummaneval'"),
    "unknown model source": (lambda tmp, c: c["models"]["tiny"].update(source="magic"),
                             "config key 'models.tiny.source': unknown model source 'magic'"),
    "broken benchmark line": (_broken_benchmark, "he.jsonl:2: not valid JSON"),
    "model missing files": (_model_missing_weights, "is missing: model weights"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_fails_before_any_job_and_leaves_no_results(tmp_path, case):
    change, expected = BAD_INPUTS[case]
    config = yaml.safe_load(CONFIG.read_text())
    change(tmp_path, config)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path / "run", configfile=path)
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr, (result.stdout + result.stderr)[-3000:]
    assert not (tmp_path / "run/results").exists()


def test_malformed_yaml_fails_before_any_job_and_the_checker_names_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("gates: [none, compile\nrounds: 2\n")
    result = snakemake(tmp_path / "run", configfile=path)
    # Snakemake reads config files before our Snakefile runs: its message does not name the file ...
    assert result.returncode != 0 and "Config file is not valid JSON or YAML" in result.stdout + result.stderr
    assert not (tmp_path / "run/results").exists()
    # ... ours does, with the line: the checker to run before a run or a submission.
    check = subprocess.run([GATEDLOOP, "check-config", str(path)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 1 and f"{path}: not valid YAML" in check.stderr and "line 2" in check.stderr
    good = subprocess.run([GATEDLOOP, "check-config", str(CONFIG)], capture_output=True, text=True, timeout=120)
    assert good.returncode == 0 and "valid:" in good.stdout


def test_the_budget_sizes_generation_for_quantile_gates_and_caps_training(tmp_path):
    config = yaml.safe_load(CONFIG.read_text())
    config["budget"] = {"accepted_per_round": 12}  # perplexity keeps 0.5: it must generate 24
    path = tmp_path / "budget.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path / "run", "-n", "--printshellcmds", configfile=path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    commands = [line for line in lines if "python -m gatedloop." in line]
    # Round 1: one shared generation per sample count, copied into each cell.
    shared = {re.search(r"round1/samples\.(\w+)\.jsonl", c)[1]: c for c in commands
              if "gatedloop.generate" in c and "base/seed0/round1/samples." in c}
    assert set(shared) == {"pool", "24"}
    assert "--n-samples 24" in shared["24"] and "--n-samples" not in shared["pool"]
    copies = {re.search(r"runs/tiny/(\w+)/replace/seed0/round1/samples\.jsonl", line)[1]: line for line in lines
              if "Shell command: cp " in line and "round1/samples.jsonl" in line}
    assert "samples.24.jsonl" in copies["perplexity"] and "samples.pool.jsonl" in copies["none"]
    assert "samples.pool.jsonl" in copies["compile"]
    later = [c for c in commands if "gatedloop.generate" in c and "perplexity/replace/seed0/round2" in c]
    assert len(later) == 1 and "--n-samples 24" in later[0]
    finetunes = [c for c in commands if "gatedloop.finetune" in c]
    assert len(finetunes) == 8 and all("--max-train 12" in c for c in finetunes)  # the control's budget too


def test_data_regimes_feed_finetuning_the_right_rounds(tmp_path):
    config = yaml.safe_load(CONFIG.read_text())
    config["regimes"] = ["replace", "accumulate", "mix"]
    path = tmp_path / "regimes.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path / "run", "-n", "--printshellcmds", configfile=path)
    assert result.returncode == 0, result.stderr
    round2 = {re.search(r"runs/tiny/none/(\w+)/seed0/round2/model", c)[1]: c for c in result.stdout.splitlines()
              if "gatedloop.finetune" in c and "none/" in c and "round2/finetune.json" in c}
    assert round2["replace"].count("samples.jsonl") == 1 and "--human " not in round2["replace"]
    assert "accumulate/seed0/round1/samples.jsonl" in round2["accumulate"]
    assert "accumulate/seed0/round2/samples.jsonl" in round2["accumulate"]
    assert "--human results/base/tiny/human_pool.jsonl" in round2["mix"] and "--human-round 2" in round2["mix"]
    assert planned_jobs(result)["finetune"] == (3 + 1) * 3 * 2  # (gates + control) x regimes x rounds


def test_the_default_config_is_found_from_any_working_directory(tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
                             str(tmp_path), "--cores", "2", "-n"], capture_output=True, text=True, env=env,
                            timeout=300)
    jobs = planned_jobs(result)
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    assert jobs["pretrain"] == 1
    # round 1 is generated once (shared by every gate) and copied into each cell; later rounds per cell
    assert jobs["generate_shared"] == 1 and jobs["generate_round1"] == len(default["gates"])
    assert jobs["generate"] == len(default["gates"]) * (default["rounds"] - 1)


def test_merged_weights_not_kept_leave_adapter_chains_and_a_scoring_change_reruns_only_scoring(finished_run,
                                                                                               tmp_path):
    """finetune.keep_merged false: each round's model directory is an adapter chain (no weights), rebuilt by every
    job that loads it. The results equal those of merged weights kept (finished_run), and a changed scoring setting
    or an added benchmark replans scoring alone: no fine-tuning, generation or gate job, other columns unchanged."""
    config = yaml.safe_load(CONFIG.read_text())
    config.update(gates=["none", "perplexity"], sample_checks={"enabled": False})
    config["finetune"]["keep_merged"] = False
    path = tmp_path / "drop.yaml"
    path.write_text(yaml.safe_dump(config))
    workdir = tmp_path / "run"
    result = snakemake(workdir, configfile=path)
    assert result.returncode == 0, result.stderr[-5000:]
    for round_dir in (workdir / "results/runs/tiny").glob("*/replace/seed0/round*"):
        assert (round_dir / "model/chain.json").is_file()
        assert not [p.name for p in (round_dir / "model").iterdir() if p.suffix in (".safetensors", ".bin")]
    assert (workdir / "results/base/tiny/model/config.json").is_file()  # the base model stays
    assert planned_jobs(snakemake(workdir, "-n", configfile=path)) == {}

    # the same cells, from rebuilt models, as from kept merged weights
    chains = pd.read_csv(workdir / "results/metrics.csv")
    merged = pd.read_csv(finished_run / "results/metrics.csv")
    merged = merged[merged.gate.isin(chains.gate.unique())]
    keys = ["model", "gate", "regime", "seed", "round", "benchmark"]
    compared = [c for c in chains.columns if c in merged.columns and c not in ("config_hash", "manifest")
                and chains[c].notna().any()]  # not the sample checks' columns: that stage is off here
    pd.testing.assert_frame_equal(chains[compared].sort_values(keys).reset_index(drop=True),
                                  merged[compared].sort_values(keys).reset_index(drop=True))

    added = {**config, "score": {**config["score"], "benchmarks": ["microtasks", "humaneval"]}}
    path.write_text(yaml.safe_dump(added))
    jobs = planned_jobs(snakemake(workdir, "-n", configfile=path))
    assert set(jobs) & HEAVY_RULES == {"score", "score_base"}
    config["score"]["batch_size"] = 7
    path.write_text(yaml.safe_dump(config))
    jobs = planned_jobs(snakemake(workdir, "-n", configfile=path))
    assert set(jobs) & HEAVY_RULES == {"score", "score_base"}
    result = snakemake(workdir, configfile=path)
    assert result.returncode == 0, result.stderr[-5000:]
    rescored = pd.read_csv(workdir / "results/metrics.csv")
    untouched = [c for c in compared if "pass" not in c and "effect" not in c]
    pd.testing.assert_frame_equal(rescored[untouched], chains[untouched])


def _stage_running(workdir: Path, stage: str) -> bool:
    """A `python -m gatedloop.<stage>` job of the run in ``workdir`` is running now."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if b"-m" in cmdline and f"gatedloop.{stage}".encode() in cmdline and cwd == str(workdir):
            return True
    return False


def test_a_run_killed_in_each_long_stage_resumes_to_the_same_metrics(finished_run, tmp_path):
    """SIGKILL to the whole run (its process group) while pre-training, generation, fine-tuning and scoring run in
    turn; a dry run in between leaves the locks; the plain command, rerun each time, resumes (stale locks cleared,
    incomplete outputs redone) and the finished metrics table equals the uninterrupted run's, byte for byte."""
    import signal
    import time

    workdir = tmp_path / "killed"
    workdir.mkdir()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--configfile", str(CONFIG),
           "--cores", "2"]
    for stage in ("pretrain", "generate", "finetune", "score"):
        run = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
        deadline = time.monotonic() + 600
        while not _stage_running(workdir, stage):
            assert run.poll() is None, f"the run ended before any {stage} job started: {run.stderr.read()[-3000:]}"
            assert time.monotonic() < deadline, f"no {stage} job within 600 s"
            time.sleep(0.05)
        time.sleep(0.5)  # into the stage's work
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=60)
        run.stderr.close()
        assert not (workdir / "results/metrics.csv").exists()
        if stage == "pretrain":  # a dry run (another login, a check of the plan) must not unlock a live run's dir
            locks = sorted((workdir / ".snakemake/locks").iterdir())
            assert locks and subprocess.run([*cmd, "-n"], cwd=workdir, env=env, capture_output=True).returncode == 0
            assert sorted((workdir / ".snakemake/locks").iterdir()) == locks
    final = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=1500)
    assert final.returncode == 0, final.stderr[-5000:]
    assert "removed the directory locks of a run that was killed" in final.stderr
    assert (workdir / "results/metrics.csv").read_bytes() == (finished_run / "results/metrics.csv").read_bytes()
    staging = [p for p in (workdir / "results").rglob(".*") if p.name != ".snakemake_timestamp"]
    assert not staging, staging  # killed writers' temporary files were cleaned when their outputs were redone
    assert not [p for p in (workdir / "results/checkpoints").rglob("*") if p.is_file()]  # cleared when done


def test_a_full_disk_fails_a_job_cleanly_and_a_rerun_after_freeing_space_completes(finished_run, tmp_path):
    """results/ on a 6 MB filesystem (a tmpfs; the run needs ~12 MB, pre-training ~4 MB at its peak): a job fails
    with ENOSPC part-way, every earlier result is kept, no partial output is taken for finished; with space freed
    the rerun redoes only what is missing and ends with the uninterrupted run's metrics."""
    results = tmp_path / "run" / "results"
    results.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(results)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.decode().strip()}")
    try:
        full = snakemake(tmp_path / "run")
        assert full.returncode != 0
        logs = "".join(p.read_text(errors="replace") for p in results.rglob("*.log") if p.is_file())
        assert "No space left on device" in logs + full.stdout + full.stderr
        assert not (results / "metrics.csv").exists()
        kept = {p.relative_to(results) for p in results.rglob("*") if p.is_file() and "logs" not in p.parts}
        assert (results / "base/tiny/model/config.json").is_file()  # pre-training finished before the disk filled

        subprocess.run(["mount", "-o", "remount,size=512m", str(results)], check=True)
        plan = planned_jobs(snakemake(tmp_path / "run", "-n"))
        total = planned_jobs(snakemake(tmp_path / "plan", "-n"))
        assert "pretrain" not in plan and sum(plan.values()) < sum(total.values())  # earlier results kept
        rerun = snakemake(tmp_path / "run")
        assert rerun.returncode == 0, rerun.stderr[-5000:]
        assert (results / "metrics.csv").read_bytes() == (finished_run / "results/metrics.csv").read_bytes()
        assert kept <= {p.relative_to(results) for p in results.rglob("*") if p.is_file()}
    finally:
        subprocess.run(["umount", "-l", str(results)], capture_output=True)


def test_a_calibrated_self_gate_takes_every_later_rounds_threshold_from_round_one(tmp_path):
    config = yaml.safe_load(CONFIG.read_text())
    config.update(rounds=3, gate_options={"perplexity": {"mode": "calibrated", "keep_fraction": 0.5}})
    path = tmp_path / "calibrated.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path / "run", "-n", "--printshellcmds", configfile=path)
    assert result.returncode == 0, result.stderr
    gates = {re.search(r"(\w+)/replace/seed0/round(\d)/samples", c).groups(): c for c in result.stdout.splitlines()
             if "gatedloop.gate " in c}
    round1 = "results/runs/tiny/perplexity/replace/seed0/round1/decisions.jsonl"
    assert "--calibration" not in gates[("perplexity", "1")]
    assert all(f"--calibration {round1}" in gates[("perplexity", r)] for r in ("2", "3"))
    assert not any("--calibration" in c for (gate, _), c in gates.items() if gate != "perplexity")


def test_two_runs_of_the_same_config_and_seed_give_byte_identical_results(tmp_path):
    """Determinism on CPU: two fresh runs (one warm-started, one cold) of the same config and seed write the same
    metrics table, samples, decisions and adapter weights, byte for byte."""
    config = yaml.safe_load(CONFIG.read_text())
    config.update(gates=["none", "perplexity"], rounds=1, audit={"enabled": False}, analysis={"enabled": False})
    for name, warm in (("first", True), ("second", False)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({**config, "warm_start": warm}))
        result = snakemake(tmp_path / name, "results/metrics.csv", configfile=path)
        assert result.returncode == 0, result.stderr[-5000:]
    first, second = tmp_path / "first/results", tmp_path / "second/results"
    round1 = "runs/tiny/*/replace/seed0/round1"
    compared = ["metrics.csv"] + [str(p.relative_to(first)) for p in first.glob(f"{round1}/*")
                                  if p.name in ("samples.jsonl", "decisions.jsonl")]
    compared += [str(p.relative_to(first)) for p in first.glob(f"{round1}/adapter/*.safetensors")]
    assert len(compared) == 1 + 3 * 2 + 3  # none, perplexity and the control arm
    for relative in compared:
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), relative


PARTIAL_RULES = {"figures": 1, "aggregate_partial": 1, "figure_partial": len(FIGURES), "collapse_table_partial": 1}
ALL_FILES = "score decisions finetune audit sample_checks analysis manifest"


def rounds_of(finished_run: Path, workdir: Path) -> Path:
    """The finished run's rounds without anything aggregated or drawn, and without model weights (a job planned to
    make a score would have to rebuild them)."""
    shutil.copytree(finished_run / "results", workdir / "results",
                    ignore=shutil.ignore_patterns("model", "adapter", "checkpoints", "figures", "*.csv"))
    return workdir


def test_figures_of_a_half_finished_sweep_start_no_model_job_and_mark_what_is_missing(finished_run, tmp_path):
    """Compile's round 2 trained but not scored, perplexity's round 2 not started (a killed writer's staging file of
    its score left behind), and a sweep still running in the directory (its locks held by a live process):
    `snakemake figures` plans only aggregate and figure jobs, all local (run under the SLURM executor with no
    cluster: a job submitted would fail), draws every figure, leaves the sweep's locks, and the tables name exactly
    the missing cells."""
    from gatedloop.engine.runlock import RECORD, record_holder

    workdir = rounds_of(finished_run, tmp_path / "half")
    runs = workdir / "results/runs/tiny"
    shutil.rmtree(runs / "compile/replace/seed0/round2/score")
    shutil.rmtree(runs / "perplexity/replace/seed0/round2")
    staging = runs / "perplexity/replace/seed0/round2/score/.microtasks.json.k1lled"
    staging.mkdir(parents=True)
    (staging / "microtasks.json").write_text('{"pass_at_1": 0.9')
    locks = workdir / ".snakemake/locks"
    locks.mkdir(parents=True)
    held = "results/runs/tiny/perplexity/replace/seed0/round2/score/microtasks.json\nresults/metrics.csv\n"
    (locks / "0.output.lock").write_text(held)
    record_holder(workdir, os.getpid())

    assert planned_jobs(snakemake(workdir, "-n", "figures")) == PARTIAL_RULES
    # As `make figures` runs it (--nolock: Snakemake would remove the sweep's locks with its own when it ends).
    drawn = snakemake(workdir, "figures", "--nolock", "--executor", "slurm", "--jobs", "4",
                      env={"SLURM_CONF": "/nonexistent"})
    assert drawn.returncode == 0, drawn.stderr[-5000:]
    for figure in FIGURES:
        assert (workdir / "results/partial/figures" / figure).read_bytes()[:4] == b"\x89PNG", figure
    assert not (workdir / "results/metrics.csv").exists() and not (workdir / "results/figures").exists()
    assert (locks / "0.output.lock").read_text() == held
    assert json.loads((workdir / ".snakemake" / RECORD).read_text())["pid"] == os.getpid()

    keys = ["model", "gate", "regime", "seed", "round", "benchmark"]
    partial = pd.read_csv(workdir / "results/partial/metrics.csv").fillna({"missing": ""})
    marked = {tuple(row[keys + ["missing"]]) for _, row in partial[partial.missing != ""].iterrows()}
    assert marked == {("tiny", "compile", "replace", 0, 2, "microtasks", "score"),
                      ("tiny", "perplexity", "replace", 0, 2, "microtasks", ALL_FILES)}
    full = pd.read_csv(finished_run / "results/metrics.csv").set_index(keys)
    finished = partial[partial.missing == ""].set_index(keys)
    compared = [c for c in full.columns if c != "first_self_confirming_round"]
    pd.testing.assert_frame_equal(finished[compared], full.loc[finished.index, compared], check_dtype=False)
    unscored = partial.set_index(keys).loc[("tiny", "compile", "replace", 0, 2, "microtasks")]
    assert pd.isna(unscored.pass_at_1) and unscored.n_accepted == full.loc[unscored.name].n_accepted
    collapse = pd.read_csv(workdir / "results/partial/collapse.csv").fillna({"missing": ""}).set_index("gate")
    assert collapse.missing.to_dict() == {"compile": "round2/seed0", "none": "", "perplexity": "round2/seed0",
                                          "reference": ""}
    note = ("partial: 10 of 12 cells finished; not yet: tiny/compile/replace/seed0/round2 (score); "
            f"tiny/perplexity/replace/seed0/round2 ({', '.join(ALL_FILES.split())})")
    for figure in FIGURES:
        log = (workdir / "results/logs/partial/figures" / figure.replace(".png", ".log")).read_text()
        assert note in log and "nothing to draw yet" not in log, figure

    # Nothing written since: nothing to do. A score written: the partial aggregate and what it feeds, again.
    assert planned_jobs(snakemake(workdir, "-n", "figures")) == {}
    shutil.copytree(finished_run / "results/runs/tiny/compile/replace/seed0/round2/score",
                    runs / "compile/replace/seed0/round2/score")
    assert planned_jobs(snakemake(workdir, "-n", "figures")) == PARTIAL_RULES


def test_figures_of_a_finished_sweep_equal_the_full_aggregate(finished_run, tmp_path):
    workdir = rounds_of(finished_run, tmp_path / "finished")
    result = snakemake(workdir, "figures")
    assert result.returncode == 0, result.stderr[-5000:]
    partial, full = workdir / "results/partial", finished_run / "results"
    table = pd.read_csv(partial / "metrics.csv")
    assert table.missing.isna().all()
    pd.testing.assert_frame_equal(table.drop(columns="missing"), pd.read_csv(full / "metrics.csv"))
    for name in ("effects.csv", "coverage.csv", "spectra.csv"):
        assert (partial / name).read_bytes() == (full / name).read_bytes(), name
    collapse = pd.read_csv(partial / "collapse.csv")
    assert collapse.missing.isna().all()
    pd.testing.assert_frame_equal(collapse.drop(columns="missing"), pd.read_csv(full / "collapse.csv"))
    log = (workdir / "results/logs/partial/figures/pass_at_1.log").read_text()
    assert "partial: 12 of 12 cells finished\n" in log
