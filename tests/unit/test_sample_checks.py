"""Per-round sample checks: compile and execution rates on crafted samples, n-gram contamination on known overlap."""

from __future__ import annotations

import json

import pytest

from gatedloop.benchmarks import BENCHMARKS
from gatedloop.sample_checks import compile_and_execution, contamination, main, ngrams, overlap_share
from gatedloop.sandbox import Limits

PROMPT = "def double(x):\n"
SAMPLES = [
    {"id": "a", "prompt": PROMPT, "completion": "    return 2 * x\n", "tests": ["assert double(2) == 4"]},
    {"id": "b", "prompt": PROMPT, "completion": "    return x + 1\n", "tests": ["assert double(2) == 4"]},
    {"id": "c", "prompt": PROMPT, "completion": "    return (x\n", "tests": ["assert double(2) == 4"]},
    {"id": "d", "prompt": "x = 1\n", "completion": "y = x + 1\n"},  # no tests: runs to the end
    {"id": "e", "prompt": "x = 1\n", "completion": "y = x / 0\n"},  # no tests: raises
]


def test_compile_and_execution_rates():
    result = compile_and_execution(SAMPLES, Limits(timeout_s=3.0), workers=2)
    assert result == {"n_checked": 5, "compile_rate": 4 / 5, "exec_pass_rate": 2 / 5}


def test_ngrams_and_overlap_share():
    assert ngrams("a + b", 2) == {("a", "+"), ("+", "b")}
    training = ngrams("total = a + b * c", 3)
    assert overlap_share(["x = a + b * c", "nothing shared here", ""], training, 3) == 0.5
    assert overlap_share([], training, 3) is None


def test_contamination_finds_a_benchmark_prompt_in_the_training_data():
    problems = {t.task_id: t for t in BENCHMARKS.get("humaneval")().tasks()}
    leaked = problems["HumanEval/0"].prompt
    clean = contamination(["def unrelated(y):\n    return y\n"], "humaneval", None, 13)
    dirty = contamination([leaked + "    pass\n"], "humaneval", None, 13)
    assert clean["contamination_humaneval_prompt"] == 0
    assert dirty["contamination_humaneval_prompt"] >= 1 / 164
    assert set(dirty) == {"contamination_humaneval_prompt", "contamination_humaneval_solution",
                          "contamination_humaneval_tests"}


def test_cli_checks_only_the_accepted_samples_for_contamination(tmp_path):
    samples, decisions, out = tmp_path / "s.jsonl", tmp_path / "d.jsonl", tmp_path / "checks.json"
    samples.write_text("".join(json.dumps(s) + "\n" for s in SAMPLES))
    decisions.write_text("".join(json.dumps({"id": s["id"], "accepted": s["id"] in {"a", "d"}}) + "\n"
                                 for s in SAMPLES))
    main(["--samples", str(samples), "--decisions", str(decisions), "--out", str(out), "--benchmark", "humaneval",
          "--max-samples", "3", "--threads", "2"])
    result = json.loads(out.read_text())
    assert result["n_checked"] == 3 and result["n_training"] == 2
    assert result["compile_rate"] == pytest.approx(2 / 3) and result["exec_pass_rate"] == pytest.approx(1 / 3)
    assert result["contamination_humaneval_prompt"] == 0


def test_an_unknown_benchmark_is_named(tmp_path):
    with pytest.raises(KeyError, match="nosuch"):
        main(["--samples", "s", "--decisions", "d", "--out", str(tmp_path / "o"), "--benchmark", "nosuch"])
