import re

import pytest
import yaml
from conftest import REPO
from workflow_runs import shell_commands, snakemake

from gatedloop.backends import SamplingParams
from gatedloop.generate import expand, generate_samples

POOL = [{"task_id": f"p{i}", "prompt": f"def f{i}(x):", "tests": [f"assert f{i}(1)"]} for i in range(3)]


def test_expand_per_prompt_or_cycling_the_pool():
    assert [(r["task_id"], k) for r, k in expand(POOL, 2)] == [("p0", 0), ("p0", 1), ("p1", 0), ("p1", 1),
                                                               ("p2", 0), ("p2", 1)]
    assert [(r["task_id"], k) for r, k in expand(POOL, 1, n_samples=5)] == [("p0", 0), ("p1", 0), ("p2", 0),
                                                                          ("p0", 1), ("p1", 1)]


def test_samples_carry_ids_prompts_and_tests(tiny_model_dir):
    samples = generate_samples(str(tiny_model_dir), POOL, 1, SamplingParams(max_new_tokens=5), seed=0, n_samples=4)
    assert [s["id"] for s in samples] == ["p0#0", "p1#0", "p2#0", "p0#1"]
    assert samples[3]["prompt"] == "def f0(x):" and samples[3]["tests"] == ["assert f0(1)"]
    assert all(isinstance(s["completion"], str) for s in samples)


# Selection in waves through the CLIs: generate decides in-process, the gate job over the written file agrees.
WAVES_POOL = [{"task_id": f"c{i}", "prompt": f"# note {i}:"} for i in range(3)] + \
    [{"task_id": f"s{i}", "prompt": "def ("} for i in range(3)]


def run_waves_cli(tmp_path, model_dir, *extra: str, gate: str = "compile") -> tuple[list[dict], dict]:
    from gatedloop.core.io import read_json, read_jsonl, write_jsonl
    from gatedloop.generate import main

    tmp_path.mkdir(exist_ok=True)
    write_jsonl(tmp_path / "pool.jsonl", WAVES_POOL)
    main(["--model", str(model_dir), "--prompts", str(tmp_path / "pool.jsonl"),
          "--out", str(tmp_path / "samples.jsonl"), "--seed", "11", "--max-new-tokens", "4", "--gate", gate,
          "--accepted", "6", "--wave-size", "5", "--candidate-budget", "60",
          "--stats", str(tmp_path / "generation.json"), *extra])
    return read_jsonl(tmp_path / "samples.jsonl"), read_json(tmp_path / "generation.json")


def test_the_gate_job_recomputes_the_waves_decisions_noise_included(tmp_path, tiny_model_dir):
    from gatedloop.core.io import read_jsonl
    from gatedloop.gate import main as gate_main

    options = '{"noise": 0.3}'
    samples, stats = run_waves_cli(tmp_path, tiny_model_dir, "--gate-options", options, "--noise-seed", "16",
                                   gate="compile@noisy")  # a variant arm, as the noisy-gate suite runs them
    assert len(samples) == stats["generated"] and stats["selected"] == 6 and stats["flipped"] > 0
    assert stats["gate"] == "compile@noisy"
    gate_main(["--gate", "compile@noisy", "--samples", str(tmp_path / "samples.jsonl"), "--out",
               str(tmp_path / "decisions.jsonl"), "--options", options, "--noise-seed", "16"])
    decisions = read_jsonl(tmp_path / "decisions.jsonl")
    assert sum(d["accepted"] for d in decisions) == stats["passed"]
    assert sum(d["accepted_clean"] for d in decisions) == stats["passed_clean"]
    assert sum(d["accepted"] != d["accepted_clean"] for d in decisions) == stats["flipped"]
    assert sum(d["accepted"] for d in decisions[:-5]) < 6  # the last wave was needed


def test_jobs_of_one_stream_share_waves_through_the_cache_and_write_what_they_would_alone(tmp_path, tiny_model_dir):
    from gatedloop.core.io import read_jsonl

    cache = ["--wave-cache", str(tmp_path / "cache")]
    alone, alone_stats = run_waves_cli(tmp_path / "alone", tiny_model_dir)
    run_waves_cli(tmp_path / "first", tiny_model_dir, *cache)
    cached_waves = sorted(p.name for p in (tmp_path / "cache").rglob("wave-*.jsonl"))
    assert len(cached_waves) == alone_stats["waves"]
    shared, shared_stats = run_waves_cli(tmp_path / "second", tiny_model_dir, *cache)
    assert shared == alone and shared_stats["generated"] == alone_stats["generated"]
    assert shared_stats["waves_from_cache"] == shared_stats["waves"] and "waves_from_cache" not in alone_stats
    assert sorted(p.name for p in (tmp_path / "cache").rglob("wave-*.jsonl")) == cached_waves  # nothing generated
    assert read_jsonl(tmp_path / "first" / "samples.jsonl") == alone


def test_the_waves_cli_refuses_a_quantile_gate_and_missing_settings(tmp_path, tiny_model_dir, capsys):
    from gatedloop.generate import main

    base = ["--model", str(tiny_model_dir), "--prompts", str(tmp_path / "p.jsonl"), "--out", str(tmp_path / "o"),
            "--seed", "1"]
    with pytest.raises(SystemExit):
        main([*base, "--gate", "perplexity", "--accepted", "5", "--stats", str(tmp_path / "g.json")])
    assert "does not select in waves" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--gate", "compile"])
    assert "needs --accepted and --stats" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--gate", "compile", "--accepted", "5", "--candidate-budget", "4", "--stats", "g.json"])
    assert "candidate_budget 4 cannot reach 5" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--gate", "compile", "--gate-options", '{"noise": 0.1}', "--accepted", "5", "--stats", "g.json"])
    assert "pass --noise-seed" in capsys.readouterr().err


def test_a_spent_budget_stops_the_job_with_both_numbers(tmp_path, tiny_model_dir):
    from gatedloop.core.io import write_jsonl
    from gatedloop.generate import main

    write_jsonl(tmp_path / "pool.jsonl", [{"task_id": "s", "prompt": "def ("}])
    with pytest.raises(SystemExit) as stopped:
        main(["--model", str(tiny_model_dir), "--prompts", str(tmp_path / "pool.jsonl"), "--out",
              str(tmp_path / "samples.jsonl"), "--seed", "1", "--max-new-tokens", "2", "--gate", "compile",
              "--accepted", "3", "--wave-size", "4", "--candidate-budget", "8", "--stats", str(tmp_path / "g.json")])
    assert "candidate budget of 8" in str(stopped.value) and "of the 3" in str(stopped.value)
    assert not (tmp_path / "samples.jsonl").exists()




def test_a_dry_run_of_a_waves_config_plans_the_waves_jobs(tmp_path):
    config = yaml.safe_load((REPO / "config/integration.yaml").read_text())
    config["gates"] = ["none", "compile", "quality", "perplexity"]
    config["gate_options"]["compile"] = {"noise": 0.1}
    config["budget"] = {"accepted_per_round": 12, "selection": "waves", "wave_size": 8, "candidate_budget": 96}
    path = tmp_path / "waves.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path / "run", "-n", "-p", configfile=path)
    assert result.returncode == 0, result.stderr[-3000:]
    waves = shell_commands(result, "generate_waves")
    assert sorted(re.search(r"--out \S+/runs/tiny/(\w+)/replace/seed0/round(\d)", c).groups() for c in waves) == [
        ("compile", "1"), ("compile", "2"), ("quality", "1"), ("quality", "2")]
    assert all("--accepted 12 --wave-size 8 --candidate-budget 96" in c and "--stats " in c for c in waves)
    round1 = [c for c in waves if re.search(r"--out \S+/round1/", c)]
    assert all("--seed 11 " in c and "--model results/base/tiny/model " in c for c in round1)  # one stream, any gate
    assert all(("--wave-cache results/checkpoints/waves/tiny/seed0/round1" in c) == (c in round1) for c in waves)
    gates = {re.search(r"--samples \S+/runs/tiny/(\w+)/replace/seed0/round(\d)", c).groups(): c
             for c in shell_commands(result, "gate_human")}
    for command in waves:  # the noise seed is the gate job's of the same round
        key = re.search(r"--out \S+/runs/tiny/(\w+)/replace/seed0/round(\d)", command).groups()
        seed = re.search(r"--noise-seed (\d+)", gates[key])
        assert (seed[1] if seed else None) == (re.search(r"--noise-seed (\d+)", command) or [None, None])[1]
        assert ("--noise-seed" in command) == (key[0] == "compile")
    generated = shell_commands(result, "generate") + shell_commands(result, "generate_shared")
    assert not any(re.search(r"/(compile|quality)/", c) for c in generated)
    assert any("--n-samples 12" in c and "samples.12.jsonl" in c for c in generated)  # none: exactly N
    assert any("--n-samples 24" in c for c in generated)  # perplexity: N / keep_fraction 0.5
    finetunes = {re.search(r"--out-model \S+/runs/tiny/(\w+)/replace/seed0/round1/model ", c)[1]: c
                 for c in shell_commands(result, "finetune") if re.search(r"--out-model \S+/round1/", c)}
    assert {g for g, c in finetunes.items() if "--first-accepted" in c} == {"none", "compile", "quality"}
    assert all("--max-train 12" in c for c in finetunes.values())
    (aggregate,) = shell_commands(result, "aggregate")
    assert '"wave_gates":["compile","quality"]' in aggregate


def test_without_waves_no_job_selects_in_waves(tmp_path):
    result = snakemake(tmp_path / "run", "-n", "-p")
    assert result.returncode == 0, result.stderr[-3000:]
    assert not shell_commands(result, "generate_waves")
    assert not any("--first-accepted" in c for c in shell_commands(result, "finetune"))
    assert not any("wave_gates" in c or "selection" in c for c in shell_commands(result, "aggregate")
                   + shell_commands(result, "manifest"))
