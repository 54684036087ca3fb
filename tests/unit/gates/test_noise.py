"""Decision noise on model-independent gates: flips at rate p, reproducible, clean decisions kept, refused on
self-gates and the control, and never seen by the audit."""

import json

import pytest
from conftest import SCHEMA

from gatedloop import gate as gate_cli
from gatedloop.audit import judge
from gatedloop.core.config import ConfigError, validate_config
from gatedloop.core.io import write_jsonl
from gatedloop.gates import GATES, Sample
from gatedloop.gates.base import Gate, GateRegistry
from gatedloop.gates.noise import NOISY_KINDS, NoiseOptions, flips, noisy_rows

PROMPT = "def f(x):"
COMPLETIONS = ["\n    return x + 7\n", "\n    return x +\n"] * 10


def write_samples(tmp_path):
    path = tmp_path / "samples.jsonl"
    rows = [{"id": f"t{i}#0", "prompt_id": f"t{i}", "prompt": PROMPT, "completion": c}
            for i, c in enumerate(COMPLETIONS)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run_gate(tmp_path, name, *extra):
    out = tmp_path / f"decisions{len(list(tmp_path.glob('decisions*')))}.jsonl"
    gate_cli.main(["--gate", name, "--samples", str(write_samples(tmp_path)), "--out", str(out), *extra])
    return out


@pytest.mark.parametrize("probability", [0.05, 0.1, 0.2])
def test_flips_happen_at_rate_p(probability):
    n = 40_000
    rate = sum(flips(n, probability, seed=3)) / n
    assert rate == pytest.approx(probability, abs=4 * (probability * (1 - probability) / n) ** 0.5)


def test_flips_are_reproducible_and_depend_on_the_seed():
    assert flips(500, 0.2, seed=7) == flips(500, 0.2, seed=7)
    assert flips(500, 0.2, seed=7) != flips(500, 0.2, seed=8)
    assert flips(500, 0.0, seed=7) == [False] * 500
    assert flips(500, 1.0, seed=7) == [True] * 500
    # one draw per decision: the first decisions' flips do not depend on how many follow
    assert flips(50, 0.2, seed=7) == flips(500, 0.2, seed=7)[:50]


def test_noisy_rows_flip_accepted_and_keep_the_clean_decision():
    rows = [{"id": str(i), "prompt_id": str(i), "score": 1.0, "accepted": i % 2 == 0, "reason": "r"}
            for i in range(200)]
    noisy = noisy_rows(rows, 0.3, seed=1)
    drawn = flips(200, 0.3, seed=1)
    assert [r["accepted_clean"] for r in noisy] == [r["accepted"] for r in rows]
    assert [r["accepted"] != r["accepted_clean"] for r in noisy] == drawn
    assert all(r["reason"].endswith("(flipped by decision noise)") == f for r, f in zip(noisy, drawn, strict=True))
    assert [r["id"] for r in noisy] == [r["id"] for r in rows]


def test_the_gate_job_without_noise_writes_the_decisions_as_before(tmp_path):
    plain = run_gate(tmp_path, "compile")
    zero = run_gate(tmp_path, "compile", "--options", '{"noise": 0.0}', "--noise-seed", "5")
    rows = [json.loads(line) for line in plain.read_text().splitlines()]
    assert set(rows[0]) == {"id", "prompt_id", "score", "accepted", "reason"}
    assert zero.read_bytes() == plain.read_bytes()
    samples = [Sample(f"t{i}#0", f"t{i}", PROMPT, c) for i, c in enumerate(COMPLETIONS)]
    before = tmp_path / "before.jsonl"  # what the gate job wrote before noise existed
    write_jsonl(before, (d.to_json() for d in GATES.get("compile")().decide(samples)))
    assert plain.read_bytes() == before.read_bytes()


def test_the_gate_job_with_noise_trains_on_the_noisy_decision_and_keeps_the_clean_one(tmp_path):
    clean = [json.loads(line) for line in run_gate(tmp_path, "compile").read_text().splitlines()]
    first = run_gate(tmp_path, "compile", "--options", '{"noise": 0.5}', "--noise-seed", "11")
    again = run_gate(tmp_path, "compile", "--options", '{"noise": 0.5}', "--noise-seed", "11")
    assert first.read_bytes() == again.read_bytes()  # reproducible from the job's seed
    noisy = [json.loads(line) for line in first.read_text().splitlines()]
    assert [r["accepted_clean"] for r in noisy] == [r["accepted"] for r in clean]
    assert [r["accepted"] != r["accepted_clean"] for r in noisy] == flips(len(clean), 0.5, seed=11)
    assert [r["score"] for r in noisy] == [r["score"] for r in clean]


def test_the_gate_job_needs_a_seed_for_noise(tmp_path, capsys):
    with pytest.raises(SystemExit):
        run_gate(tmp_path, "compile", "--options", '{"noise": 0.1}')
    assert "pass --noise-seed" in capsys.readouterr().err


def test_noise_is_an_option_of_exactly_the_model_independent_gates():
    for name, gate in GATES.items():
        assert issubclass(gate.Options, NoiseOptions) == (gate.kind in NOISY_KINDS), name
    assert set(NOISY_KINDS) == {"human", "exogenous"}


def test_the_registry_refuses_noise_on_a_self_gate():
    class NoisySelf(Gate):
        kind = "self"
        Options = NoiseOptions

        def decide(self, samples):
            return []

    with pytest.raises(ValueError, match="gate 'noisy_self': decision noise is for gates of kind human or exogenous"):
        GateRegistry("gate").add("noisy_self", NoisySelf)


@pytest.mark.parametrize(("gate", "kind"), [("perplexity", "self"), ("binary", "self"), ("reference", "control"),
                                            ("none", "none")])
def test_config_validation_refuses_noise_outside_human_and_exogenous_gates(gate, kind):
    config = {"models": {"tiny": {"source": "scratch"}}, "gate_options": {gate: {"noise": 0.1}}}
    with pytest.raises(ConfigError, match=rf"config key 'gate_options.{gate}.noise': decision noise applies only to "
                                          rf"gates of kind human or exogenous .*'{gate}' is of kind {kind}"):
        validate_config(config, SCHEMA, check_tokenizers=False)


def test_config_validation_takes_noise_on_human_and_exogenous_gates_as_a_probability():
    for gate in ("compile", "quality", "lint", "execution", "cross"):
        config = {"models": {"tiny": {"source": "scratch"}}, "gate_options": {gate: {"noise": 0.2}}}
        assert validate_config(config, SCHEMA, check_tokenizers=False)["gate_options"][gate]["noise"] == 0.2
    config = {"models": {"tiny": {"source": "scratch"}}, "gate_options": {"compile": {"noise": 1.5}}}
    with pytest.raises(ConfigError, match="gate_options.compile.noise"):
        validate_config(config, SCHEMA, check_tokenizers=False)


def test_the_audit_judges_the_clean_gate():
    generations = [{"id": f"t{i}#0", "prompt_id": f"t{i}", "prompt": PROMPT, "completion": c, "tests": [],
                    "correct": i % 2 == 0} for i, c in enumerate(COMPLETIONS)]
    clean_rows, clean_stats = judge(generations, "compile", None, {}, 1, 50, 0)
    noisy_rows_, noisy_stats = judge(generations, "compile", None, {"noise": 0.5}, 1, 50, 0)
    assert noisy_rows_ == clean_rows and noisy_stats == clean_stats
    assert clean_stats["acceptance_rate"] == 0.5


def test_flips_drawn_wave_by_wave_are_the_flips_drawn_at_once():
    from gatedloop.gates.noise import FlipStream

    stream = FlipStream(0.3, seed=16)
    in_waves = stream.next(7) + stream.next(7) + stream.next(3)
    assert in_waves == flips(17, 0.3, seed=16) and any(in_waves)
