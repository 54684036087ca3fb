"""Selection in waves (gatedloop.gates.waves): a real tiny model generates, the real compile gate judges, wave after
wave until N pass; a spent budget is an error naming both numbers; runs are reproducible; the stream is the same for
every gate; decision noise draws as the gate job does."""

from __future__ import annotations

import pytest
import yaml
from conftest import REPO, SCHEMA

from gatedloop.backends import SamplingParams, open_backend
from gatedloop.core.config import ConfigError, validate_config
from gatedloop.gates import GATES
from gatedloop.gates.waves import BudgetExhausted, WaveSettings, in_waves, run_waves, wave_gates, wave_seed
from gatedloop.generate import complete, cycled

# Comments compile whatever a random model appends on their line; "def (" never does: about half the stream passes.
MIXED_POOL = [{"task_id": f"c{i}", "prompt": f"# note {i}:"} for i in range(3)] + \
    [{"task_id": f"s{i}", "prompt": "def ("} for i in range(3)]
FAILING_POOL = [{"task_id": "s", "prompt": "def ("}]
PARAMS = SamplingParams(max_new_tokens=4)


@pytest.fixture(scope="module")
def generator(tiny_model_dir):
    return open_backend("transformers", str(tiny_model_dir))


def waves_of(generator, pool):
    calls = []

    def generate_wave(start, count, seed):
        calls.append((start, count, seed))
        return complete(generator, cycled(pool, start, count), PARAMS, seed)

    return generate_wave, calls


def passes(rows, gate) -> list[bool]:
    from gatedloop.gates.waves import sample_of

    return [d.accepted for d in gate.decide([sample_of(r) for r in rows])]


def test_waves_stop_in_the_wave_where_n_have_passed_and_keep_every_candidate(generator):
    gate = GATES.get("compile")({})
    generate_wave, calls = waves_of(generator, MIXED_POOL)
    samples, stats = run_waves(generate_wave, gate, WaveSettings(accepted=7, wave_size=6, candidate_budget=120),
                               seed=5, log=lambda _: None)
    accepted = passes(samples, gate)
    assert len(samples) == stats["generated"] == 6 * stats["waves"] and stats["waves"] >= 2
    assert [start for start, _, _ in calls] == list(range(0, len(samples), 6))  # one wave after another
    assert sum(accepted) == stats["passed"] >= 7 and sum(accepted[:-6]) < 7  # the last wave was the one needed
    assert (stats["selected"], stats["overflow"]) == (7, stats["passed"] - 7)
    assert stats["pass_rate"] == pytest.approx(stats["passed"] / stats["generated"])
    assert [s["id"] for s in samples[:7]] == ["c0#0", "c1#0", "c2#0", "s0#0", "s1#0", "s2#0", "c0#1"]


def test_a_spent_budget_is_an_error_naming_n_the_budget_and_how_many_passed(generator):
    generate_wave, calls = waves_of(generator, FAILING_POOL)
    with pytest.raises(BudgetExhausted) as raised:
        run_waves(generate_wave, GATES.get("compile")({}), WaveSettings(accepted=5, wave_size=8, candidate_budget=20),
                  seed=5, log=lambda _: None)
    message = str(raised.value)
    assert "candidate budget of 20" in message and "only 0 candidates passed of the 5" in message
    assert [count for _, count, _ in calls] == [8, 8, 4]  # the last wave stops at the budget


def test_two_runs_are_identical_and_every_gate_sees_the_same_stream(generator):
    settings = WaveSettings(accepted=4, wave_size=5, candidate_budget=100)
    first, stats = run_waves(waves_of(generator, MIXED_POOL)[0], GATES.get("compile")({}), settings, seed=9,
                             log=lambda _: None)
    again, stats_again = run_waves(waves_of(generator, MIXED_POOL)[0], GATES.get("compile")({}), settings, seed=9,
                                   log=lambda _: None)
    assert first == again and {**stats, "seconds": 0} == {**stats_again, "seconds": 0}
    # quality (at most 2 tokens, no repetition limit) passes more: it stops earlier, on a prefix of the same stream
    quality, _ = run_waves(waves_of(generator, MIXED_POOL)[0],
                           GATES.get("quality")({"min_tokens": 1, "max_repetition": 1.0}), settings, seed=9,
                           log=lambda _: None)
    shorter, longer = sorted([first, quality], key=len)
    assert longer[: len(shorter)] == shorter
    other_seed, _ = run_waves(waves_of(generator, MIXED_POOL)[0], GATES.get("compile")({}), settings, seed=10,
                              log=lambda _: None)
    assert [s["completion"] for s in other_seed] != [s["completion"] for s in first][: len(other_seed)]


def test_wave_seeds_differ_by_job_and_wave():
    seeds = {wave_seed(job, wave) for job in (11, 12, 21, 10011) for wave in range(50)}
    assert len(seeds) == 200 and all(0 <= s < 2**31 for s in seeds)


def test_noise_needs_its_seed():
    with pytest.raises(ValueError, match="noise seed"):
        run_waves(lambda *a: [], GATES.get("compile")({"noise": 0.1}), WaveSettings(1, 1, 1), seed=0)


def test_settings_refuse_a_budget_below_n():
    with pytest.raises(ValueError, match="candidate_budget 4 cannot reach 5"):
        WaveSettings(accepted=5, wave_size=2, candidate_budget=4)


def test_which_gates_select_in_waves():
    assert in_waves("compile", {}) and in_waves("quality", {}) and in_waves("compile_quality", {})
    assert in_waves("execution", {}) and in_waves("lint", {})
    assert in_waves("cross", {"mode": "threshold", "threshold": 0.0})  # exogenous, judging each sample
    assert not in_waves("cross", {})  # a quantile keeps its fixed pool
    assert not any(in_waves(g, {}) for g in ("perplexity", "binary", "none", "reference"))


def config_with(**budget) -> dict:
    config = yaml.safe_load((REPO / "config/integration.yaml").read_text())
    config["gates"] = ["none", "compile", "quality", "perplexity"]
    config["budget"] = budget
    return config


def test_waves_are_off_by_default_and_validated_with_the_keys_named():
    config = validate_config(config_with(), SCHEMA)
    assert config["budget"] == {"accepted_per_round": None, "selection": "fixed", "wave_size": 2000,
                                "candidate_budget": 200000}
    assert wave_gates(config) == []
    on = validate_config(config_with(selection="waves", accepted_per_round=12), SCHEMA)
    assert wave_gates(on) == ["compile", "quality"]
    arms = config_with(selection="waves", accepted_per_round=12)
    arms["gates"] += ["compile@noise10", "perplexity@half"]  # variant arms select as their gate does
    arms["gate_options"].update({"compile@noise10": {"noise": 0.1}, "perplexity@half": {"keep_fraction": 0.5}})
    assert wave_gates(validate_config(arms, SCHEMA)) == ["compile", "quality", "compile@noise10"]
    with pytest.raises(ConfigError, match="'budget.accepted_per_round'"):
        validate_config(config_with(selection="waves"), SCHEMA)
    with pytest.raises(ConfigError, match="'budget.candidate_budget': 10 candidates cannot reach"):
        validate_config(config_with(selection="waves", accepted_per_round=12, candidate_budget=10), SCHEMA)
    with pytest.raises(ConfigError, match="'budget.wave_size'"):
        validate_config(config_with(selection="waves", accepted_per_round=12, wave_size=0), SCHEMA)
    with pytest.raises(ConfigError, match="'budget.selection'"):
        validate_config(config_with(selection="loop"), SCHEMA)


def test_waves_refuse_a_quantile_that_cannot_keep_exactly_n():
    config = config_with(selection="waves", accepted_per_round=5)
    config["gate_options"]["perplexity"] = {"keep_fraction": 0.3}  # 5 / 0.3 is no whole pool
    with pytest.raises(ConfigError, match="'gate_options.perplexity.keep_fraction'"):
        validate_config(config, SCHEMA)
    config["gate_options"]["perplexity"] = {"keep_fraction": 0.25}
    validate_config(config, SCHEMA)


def test_waves_refuse_a_calibrated_cross_reviewer():
    """Calibrated takes its threshold from all of round 1, which a waves job never holds whole."""
    config = config_with(selection="waves", accepted_per_round=5)
    config["gates"] = [*config["gates"], "cross@calibrated"]
    config["gate_options"]["cross@calibrated"] = {"mode": "calibrated"}
    with pytest.raises(ConfigError, match=r"'gate_options.cross@calibrated.mode': calibrated takes its threshold"):
        validate_config(config, SCHEMA)


def test_execution_waves_run_each_wave_in_the_sandbox(generator):
    # The completion lands on a comment line: the program runs its test and passes unless the model starts a new line
    # of junk; a prompt whose test fails never passes.
    pool = [{"task_id": "ok", "prompt": "def f(x):\n    return x  #", "tests": ["assert f(1) == 1"]},
            {"task_id": "bad", "prompt": "def f(x):\n    return 0  #", "tests": ["assert f(1) == 1"]}]
    gate = GATES.get("execution")({"timeout_s": 10})
    samples, stats = run_waves(waves_of(generator, pool)[0], gate, WaveSettings(3, 4, 40), seed=2, log=lambda _: None)
    assert stats["selected"] == 3 and stats["generated"] == 4 * stats["waves"]
    assert all(s["tests"] == ["assert f(1) == 1"] for s in samples)
    assert sum(passes(samples, gate)) == stats["passed"] and not any(
        ok for s, ok in zip(samples, passes(samples, gate), strict=True) if s["prompt_id"] == "bad")


def test_a_wave_cache_shares_the_stream_between_gates_and_changes_nothing(generator, tmp_path):
    from gatedloop.gates.waves import WaveCache

    settings = WaveSettings(accepted=4, wave_size=5, candidate_budget=100)
    quality = GATES.get("quality")({"min_tokens": 1, "max_repetition": 1.0})
    plain, _ = run_waves(waves_of(generator, MIXED_POOL)[0], GATES.get("compile")({}), settings, seed=9,
                         log=lambda _: None)
    generate_wave, first_calls = waves_of(generator, MIXED_POOL)
    cached, _ = run_waves(WaveCache(tmp_path, "k").wrap(generate_wave), GATES.get("compile")({}), settings, seed=9,
                          log=lambda _: None)
    assert cached == plain and first_calls
    generate_wave, later_calls = waves_of(generator, MIXED_POOL)
    run_waves(WaveCache(tmp_path, "k").wrap(generate_wave), quality, settings, seed=9, log=lambda _: None)
    assert not later_calls or later_calls[0][0] >= len(plain)  # only waves beyond the first job's are generated
    generate_wave, other_key = waves_of(generator, MIXED_POOL)
    run_waves(WaveCache(tmp_path, "other").wrap(generate_wave), quality, settings, seed=9, log=lambda _: None)
    assert other_key  # another stream's key reads nothing


def test_a_reviewer_in_threshold_mode_selects_in_waves_with_its_model_loaded_once(generator, tiny_model_dir,
                                                                                   monkeypatch):
    from gatedloop.gates import self_gates

    opened = []
    real = self_gates.open_scorer
    monkeypatch.setattr(self_gates, "open_scorer", lambda *a: opened.append(a) or real(*a))
    from gatedloop.models.loading import load_tokenizer

    tokenizer = load_tokenizer(str(tiny_model_dir))
    yes, no = [w for w in (" x", " return", " True", " False", " None", " for")
               if len(tokenizer.encode(w, add_special_tokens=False)) == 1][:2]
    gate = GATES.get("cross")({"mode": "threshold", "threshold": -1e9, "yes_word": yes, "no_word": no},
                              model=str(tiny_model_dir))
    samples, stats = run_waves(waves_of(generator, MIXED_POOL)[0], gate, WaveSettings(7, 4, 40), seed=1,
                               log=lambda _: None)
    assert stats["waves"] == 2 and stats["selected"] == 7 and len(opened) == 1
