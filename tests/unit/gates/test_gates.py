import json

import pytest

from gatedloop import gate as gate_cli
from gatedloop.gates import GATES, Sample

PROMPT = 'def add_value(x):\n    """Return x plus 7."""'


def sample(i, completion):
    return Sample(f"t{i}#0", f"t{i}", PROMPT, completion)


def test_registry_lists_the_gates_and_rejects_unknown_names():
    assert {"none", "compile"} <= set(GATES.names())
    with pytest.raises(KeyError, match="unknown gate 'magic'; known: binary, compile, compile_quality, cross"):
        GATES.get("magic")


def test_none_accepts_everything():
    decisions = GATES.get("none")().decide([sample(0, "\n    return ("), sample(1, "\n    return x + 7\n")])
    assert [d.accepted for d in decisions] == [True, True]


def test_compile_gate_checks_syntax_of_the_whole_program_without_running_it():
    samples = [
        sample(0, "\n    return x + 7\n"),
        sample(1, "\n    return (x + 7\n"),           # unclosed parenthesis
        sample(2, "\nreturn x"),                       # empty function body: indentation error
        sample(3, "\n    raise SystemExit(1)\n"),      # compiles; would fail only if run
        sample(4, "\n    return undefined_name\n"),   # compiles: compile() does not resolve names
        sample(5, "\n    return x +\x00 7\n"),          # null byte
    ]
    decisions = GATES.get("compile")().decide(samples)
    assert [d.accepted for d in decisions] == [True, False, False, True, True, False]
    assert decisions[1].reason.startswith("SyntaxError")
    assert [d.score for d in decisions] == [1.0, 0.0, 0.0, 1.0, 1.0, 0.0]


def test_cli_writes_one_decision_per_sample(tmp_path):
    samples = tmp_path / "samples.jsonl"
    rows = [{"id": "a#0", "prompt_id": "a", "prompt": PROMPT, "completion": "\n    return x + 7\n"},
            {"id": "b#0", "prompt_id": "b", "prompt": PROMPT, "completion": "\n    return x +\n"}]
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "decisions.jsonl"
    gate_cli.main(["--gate", "compile", "--samples", str(samples), "--out", str(out)])
    decisions = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(d["id"], d["accepted"]) for d in decisions] == [("a#0", True), ("b#0", False)]
    assert set(decisions[0]) == {"id", "prompt_id", "score", "accepted", "reason"}


def test_cli_names_a_sample_with_missing_fields(tmp_path):
    samples = tmp_path / "samples.jsonl"
    samples.write_text('{"id": "a#0", "prompt": "x"}\n')
    with pytest.raises(ValueError, match=r"samples.jsonl:1: sample is missing completion, prompt_id"):
        gate_cli.main(["--gate", "none", "--samples", str(samples), "--out", str(tmp_path / "d.jsonl")])


def test_cli_rejects_an_unknown_gate_and_a_self_gate_without_model(tmp_path, capsys):
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"id": "a#0", "prompt_id": "a", "prompt": PROMPT, "completion": "x"}) + "\n")
    for gate, message in [("magic", "unknown gate 'magic'; known: binary"), ("perplexity", "pass --model")]:
        with pytest.raises(SystemExit):
            gate_cli.main(["--gate", gate, "--samples", str(samples), "--out", str(tmp_path / "d.jsonl")])
        assert message in capsys.readouterr().err
