"""The control arm: its training data are the human solutions of exactly its prompts, nothing generated."""

from __future__ import annotations

import json

import pytest
from conftest import SCHEMA

from gatedloop import finetune, gate, reference
from gatedloop.core.config import ConfigError, validate_config
from gatedloop.core.io import read_json, read_jsonl, write_jsonl
from gatedloop.data.task_families import split_tasks


@pytest.fixture
def pool(tmp_path):
    tasks = split_tasks(0.15, 0, 40)["pool"]
    path = tmp_path / "pool.jsonl"
    write_jsonl(path, (t.to_json() for t in tasks))
    return path, tasks


def test_the_control_trains_on_exactly_the_human_solutions_of_its_prompts(pool, tmp_path, tiny_model_dir):
    path, tasks = pool
    samples, decisions = tmp_path / "samples.jsonl", tmp_path / "decisions.jsonl"
    reference.main(["--prompts", str(path), "--out", str(samples)])
    gate.main(["--gate", "reference", "--samples", str(samples), "--out", str(decisions)])
    stats = tmp_path / "finetune.json"
    finetune.main(["--model", str(tiny_model_dir), "--samples", str(samples), "--decisions", str(decisions),
                   "--out-model", str(tmp_path / "model"), "--out-adapter", str(tmp_path / "adapter"),
                   "--out-stats", str(stats), "--steps", "2", "--batch-size", "4", "--device", "cpu"])
    rows = {row["id"]: row for row in read_jsonl(samples)}
    trained = [rows[i] for i in read_json(stats)["train_ids"]]
    assert [r["prompt"] + r["completion"] for r in trained] == [t.prompt + t.canonical_solution for t in tasks]
    assert [r["prompt_id"] for r in trained] == [t.task_id for t in tasks]


def test_a_pool_without_solutions_is_refused_naming_the_prompt(tmp_path):
    path = tmp_path / "pool.jsonl"
    write_jsonl(path, [{"task_id": "a", "prompt": "def a():", "canonical_solution": "\n    return 1\n"},
                       {"task_id": "b", "prompt": "def b():"}])
    with pytest.raises(SystemExit) as exit_info:
        reference.main(["--prompts", str(path), "--out", str(tmp_path / "out.jsonl")])
    assert exit_info.value.code == 2
    assert not (tmp_path / "out.jsonl").exists()
    with pytest.raises(ValueError, match="'b'"):
        reference.solutions_of_prompts(read_jsonl(path))


def test_human_pool_rounds_take_successive_slices_of_the_pool():
    pool = [{"id": f"f{i}", "completion": f"def f{i}():\n    pass\n"} for i in range(5)]
    first, second = reference.human_functions(pool, 3, 1), reference.human_functions(pool, 3, 2)
    assert [r["prompt_id"] for r in first] == ["f0", "f1", "f2"]
    assert [r["prompt_id"] for r in second] == ["f3", "f4", "f0"]  # wraps around
    assert all(r["prompt"] == "" for r in first + second)
    assert len({r["id"] for r in first + second}) == 6


def test_the_cli_writes_the_human_pool_slice(tmp_path, pool):
    path, tasks = pool
    human = tmp_path / "human.jsonl"
    write_jsonl(human, [{"id": f"mod.py:f{i}", "source": "stdlib", "prompt": "", "completion": f"def f{i}(): ...\n"}
                        for i in range(100)])
    out = tmp_path / "samples.jsonl"
    reference.main(["--prompts", str(path), "--out", str(out), "--solutions", "human_pool", "--human", str(human),
                    "--round", "2"])
    rows = read_jsonl(out)
    assert [r["prompt_id"] for r in rows] == [f"mod.py:f{i}" for i in range(40, 80)]


def _config(tmp_path, **extra):
    return {"models": {"tiny": {"source": "scratch"}}, "gates": ["none"], **extra}


def test_the_control_arm_joins_every_sweep_unless_disabled(tmp_path):
    assert validate_config(_config(tmp_path), SCHEMA)["gates"] == ["none", "reference"]
    assert validate_config(_config(tmp_path, gates=["reference", "none"]), SCHEMA)["gates"] == ["reference", "none"]
    off = validate_config(_config(tmp_path, control={"enabled": False}), SCHEMA)
    assert off["gates"] == ["none"]


def test_solutions_resolve_from_the_prompt_pool(tmp_path):
    assert validate_config(_config(tmp_path), SCHEMA)["control"]["solutions"] == "prompts"  # microtasks
    path = tmp_path / "pool.jsonl"
    path.write_text(json.dumps({"task_id": "mine/1", "prompt": "def mine_one(x):\n    \"\"\"Mine.\"\"\""}) + "\n")
    config = _config(tmp_path, prompts={"path": str(path)})
    assert validate_config(config, SCHEMA)["control"]["solutions"] == "human_pool"
    with pytest.raises(ConfigError, match=r"control\.solutions.*'mine/1'"):
        validate_config({**config, "control": {"solutions": "prompts"}}, SCHEMA)
