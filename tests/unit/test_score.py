"""Scoring: the pass@k estimator, evalplus-format samples, the CLI's samples mode and several samples per task."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import yaml

from gatedloop.backends import SamplingParams
from gatedloop.benchmarks import BENCHMARKS
from gatedloop.sandbox import Limits
from gatedloop.score import pass_at_k, score, score_samples

FAST = Limits(timeout_s=3.0)


def _rows(task_id: str, outcomes: list[bool]) -> list[dict]:
    return [{"task_id": task_id, "sample_index": i, "passed": ok} for i, ok in enumerate(outcomes)]


def test_pass_at_k_matches_the_closed_form():
    rows = _rows("a", [True] * 3 + [False] * 7) + _rows("b", [False] * 10) + _rows("c", [True] * 10)
    estimates = pass_at_k(rows, [1, 5, 10, 20])
    a_at_5 = 1 - math.comb(7, 5) / math.comb(10, 5)
    assert estimates["1"] == pytest.approx((0.3 + 0 + 1) / 3)
    assert estimates["5"] == pytest.approx((a_at_5 + 0 + 1) / 3)
    assert estimates["10"] == pytest.approx((1 + 0 + 1) / 3)
    assert "20" not in estimates  # k above the number of samples is not estimable


@pytest.fixture(scope="module")
def humaneval():
    benchmark = BENCHMARKS.get("humaneval")()
    tasks = {t.task_id: t for t in benchmark.tasks()}
    return tasks, benchmark.reference_solutions()


def test_evalplus_format_samples_solution_or_completion(humaneval):
    tasks, solutions = humaneval
    first, second = "HumanEval/0", "HumanEval/2"
    samples = [
        {"task_id": first, "solution": tasks[first].prompt + solutions[first]},  # self-contained program
        {"task_id": first, "completion": solutions[first]},                       # text after the prompt
        {"task_id": first, "completion": "    return True\n"},
        {"task_id": second, "completion": "    while True:\n        pass\n"},
    ]
    rows = score_samples("humaneval", None, samples, FAST, workers=2)
    assert [(r["task_id"], r["sample_index"], r["status"]) for r in rows] == [
        (first, 0, "pass"), (first, 1, "pass"), (first, 2, "fail"), (second, 0, "timeout")]
    assert set(rows[0]) == {"task_id", "sample_index", "passed", "status", "seconds"}


def test_bad_samples_are_named_before_anything_runs(humaneval):
    with pytest.raises(ValueError, match=r"s\.jsonl:2: task_id 'HumanEval/999' is not in humaneval"):
        score_samples("humaneval", None, [{"task_id": "HumanEval/0", "completion": ""},
                                          {"task_id": "HumanEval/999", "completion": ""}], FAST, 1, "s.jsonl")
    with pytest.raises(ValueError, match="needs 'solution' or 'completion'"):
        score_samples("humaneval", None, [{"task_id": "HumanEval/0"}], FAST, 1)


def test_the_cli_scores_a_samples_file(humaneval, tmp_path):
    tasks, solutions = humaneval
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps({"task_id": t, "completion": solutions[t]}) + "\n"
                               for t in ["HumanEval/1", "HumanEval/3"]))
    out, summary = tmp_path / "verdicts.jsonl", tmp_path / "summary.json"
    result = subprocess.run([sys.executable, "-m", "gatedloop.score", "--benchmark", "humaneval", "--samples",
                             str(samples), "--out", str(out), "--summary", str(summary), "--threads", "2"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    verdicts = [json.loads(line) for line in out.read_text().splitlines()]
    assert [v["passed"] for v in verdicts] == [True, True]
    assert json.loads(summary.read_text())["pass_at_1"] == 1.0


def toy_tasks(tmp_path, n: int):
    """A microtasks-format file of n trivial tasks (every completion passes)."""
    path = tmp_path / "heldout.jsonl"
    path.write_text("".join(json.dumps({"task_id": f"t{i}", "prompt": f"def f{i}(x):\n", "tests": ["assert True"],
                                        "family": "toy"}) + "\n" for i in range(n)))
    return path


def test_several_samples_per_task_give_pass_at_k(tiny_model_dir, tmp_path):
    heldout = toy_tasks(tmp_path, 3)
    params = SamplingParams(temperature=0.8, max_new_tokens=4)
    rows, summary = score(str(tiny_model_dir), "microtasks", str(heldout), params, "transformers", "cpu", FAST,
                          workers=1, seed=0, n_samples=4, ks=[1, 2, 4, 8])
    assert len(rows) == 12 and sorted({r["sample_index"] for r in rows}) == [0, 1, 2, 3]
    assert set(summary["pass_at_k"]) == {"1", "2", "4"}
    assert summary["pass_at_k"]["1"] <= summary["pass_at_k"]["2"] <= summary["pass_at_k"]["4"]
    with pytest.raises(ValueError, match="needs sampling"):
        score(str(tiny_model_dir), "microtasks", str(heldout), SamplingParams(temperature=0.0), "transformers",
              "cpu", FAST, workers=1, n_samples=2)


def test_max_tasks_scores_the_first_tasks_in_benchmark_order(tiny_model_dir, tmp_path):
    heldout = toy_tasks(tmp_path, 5)
    params = SamplingParams(temperature=0.0, max_new_tokens=4)
    rows, summary = score(str(tiny_model_dir), "microtasks", str(heldout), params, "transformers", "cpu", FAST,
                          workers=1, max_tasks=2)
    assert [r["task_id"] for r in rows] == ["t0", "t1"]
    assert summary["n_tasks"] == 2 and summary["max_tasks"] == 2


@pytest.mark.parametrize(("args", "message"), [
    (["--benchmark", "nosuch", "--samples", "x"], "unknown benchmark 'nosuch'; known: humaneval, humaneval_plus"),
    (["--benchmark", "humaneval", "--samples", "missing.jsonl"], "--samples: missing.jsonl is not a file"),
    (["--benchmark", "humaneval", "--data", "nope.jsonl", "--samples", "x"], "--data: nope.jsonl is not a file"),
])
def test_cli_names_bad_input_before_running_anything(tmp_path, args, message):
    result = subprocess.run([sys.executable, "-m", "gatedloop.score", *args, "--out", str(tmp_path / "v.jsonl")],
                            capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 2 and message in result.stderr
    assert not (tmp_path / "v.jsonl").exists()


def test_a_dry_run_with_evaluation_rounds_plans_score_jobs_for_exactly_those_rounds(tmp_path):
    from workflow_runs import planned_jobs, snakemake

    from gatedloop.core import layout

    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"models": {"tiny": {"source": "scratch"}}, "gates": ["none"],
                                      "control": {"enabled": False}, "rounds": 5, "evaluation_rounds": [0, 2, 5]}))
    result = snakemake(tmp_path / "run", "-n", configfile=config)
    jobs = planned_jobs(result)
    scored = [layout.parse(line.split()[-1]) for line in result.stdout.splitlines()
              if line.strip().startswith("output:") and "/score/" in line]
    assert sorted(file.round for file in scored) == [0, 2, 5] and jobs["score"] + jobs["score_base"] == 3
    assert jobs["finetune"] == 5 and jobs["audit"] == 5  # every round still trains and is audited
