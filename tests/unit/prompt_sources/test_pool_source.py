"""Source 'pool': a pool file of ours or in the study's v2 form (content, test_code, no task_id); prompt_tokens cuts
each prompt in the model's tokenizer; an uncut pool of ours is read by the generation as it stands."""

from __future__ import annotations

import json

import pytest
from conftest import SCHEMA

from gatedloop.core.config import ConfigError, validate_config
from gatedloop.data.prompt_pool import pool_needs_rewrite, read_pool
from gatedloop.prompt_sources import Draw, from_config

MINIMAL = {"models": {"tiny": {"source": "scratch"}}}


def write_rows(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_study_rows_read_as_ours(tmp_path):
    path = write_rows(tmp_path / "v2.jsonl", [
        {"content": "def a():\n", "test_code": "assert a() is None\n"},
        {"task_id": "b", "prompt": "def b():\n", "tests": ["assert b() == 1"], "test_code": "assert b() != 2"},
        {"content": "def c():\n", "family": "x"},
    ])
    rows = read_pool(path)
    assert rows == [
        {"task_id": "line1", "prompt": "def a():\n", "tests": ["assert a() is None\n"]},
        {"task_id": "b", "prompt": "def b():\n", "tests": ["assert b() == 1", "assert b() != 2"]},
        {"task_id": "line3", "prompt": "def c():\n", "family": "x"},
    ]
    assert pool_needs_rewrite(path)
    ours = write_rows(tmp_path / "ours.jsonl", [{"task_id": "a", "prompt": "def a():\n", "tests": ["assert 1"]}])
    assert not pool_needs_rewrite(ours)


def test_a_study_row_of_the_wrong_type_is_named(tmp_path):
    path = write_rows(tmp_path / "v2.jsonl", [{"content": "def a():\n"}, {"content": "x = 1\n", "test_code": ["no"]}])
    with pytest.raises(ValueError, match="v2.jsonl:2: 'test_code' must be a string of test code"):
        read_pool(path)


def test_a_study_pool_validates_and_is_staged_but_ours_is_not(tmp_path):
    v2 = write_rows(tmp_path / "v2.jsonl", [{"content": f"def f{i}():\n", "test_code": f"assert f{i}() is None"}
                                            for i in range(3)])
    config = validate_config({**MINIMAL, "gates": ["none", "execution"], "prompts": {"path": str(v2)}}, SCHEMA)
    assert config["prompts"]["source"] == "pool"  # resolved: a path without a source is a pool, as before
    assert from_config(config["prompts"]).staged()
    ours = write_rows(tmp_path / "ours.jsonl", [{"task_id": "a", "prompt": "def a():\n"}])
    config = validate_config({**MINIMAL, "prompts": {"path": str(ours)}}, SCHEMA)
    assert not from_config(config["prompts"]).staged()
    config = validate_config({**MINIMAL, "prompts": {"path": str(ours), "prompt_tokens": 8}}, SCHEMA)
    assert from_config(config["prompts"]).staged()


def test_prompt_tokens_cuts_each_prompt_to_its_first_tokens(tmp_path, tiny_model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    long = "def add(a, b):\n    return a + b\n" * 20
    path = write_rows(tmp_path / "pool.jsonl", [{"task_id": "long", "prompt": long},
                                                {"task_id": "short", "prompt": "def f():\n"}])
    source = from_config({"source": "pool", "path": str(path), "prompt_tokens": 16})
    rows = source.prompts(Draw(seed=0, round=1, tokenizer=tokenizer))
    ids = tokenizer(long, add_special_tokens=False).input_ids
    assert len(ids) > 16
    assert rows[0]["prompt"] == tokenizer.decode(ids[:16]) and long.startswith(rows[0]["prompt"])
    assert tokenizer(rows[0]["prompt"], add_special_tokens=False).input_ids == ids[:16]
    assert rows[1]["prompt"] == "def f():\n"  # under the cut: unchanged
    assert source.prompts(Draw(seed=0, round=2, tokenizer=tokenizer)) == rows  # a pool: every round the same


def test_a_source_that_contradicts_the_path_is_named(tmp_path):
    ours = write_rows(tmp_path / "ours.jsonl", [{"task_id": "a", "prompt": "def a():\n"}])
    with pytest.raises(ConfigError, match="config key 'prompts.path': a pool file is read by source 'pool'"):
        validate_config({**MINIMAL, "prompts": {"path": str(ours), "source": "microtasks"}}, SCHEMA)
    with pytest.raises(ConfigError, match="config key 'prompts.path': source 'pool' needs the pool file"):
        validate_config({**MINIMAL, "prompts": {"source": "pool"}}, SCHEMA)


def test_shuffle_seed_orders_the_pool_once_the_same_every_round(tmp_path):
    path = write_rows(tmp_path / "pool.jsonl", [{"task_id": f"t{i}", "prompt": f"def f{i}():\n"} for i in range(20)])
    source = from_config({"source": "pool", "path": str(path), "shuffle_seed": 0})
    assert source.staged() and not from_config({"source": "pool", "path": str(path)}).staged()
    first, second = (source.prompts(Draw(seed=0, round=r)) for r in (1, 2))
    assert first == second and sorted(r["task_id"] for r in first) == sorted(f"t{i}" for i in range(20))
    assert [r["task_id"] for r in first] != [f"t{i}" for i in range(20)]
    other = from_config({"source": "pool", "path": str(path), "shuffle_seed": 1}).prompts(Draw(seed=0, round=1))
    assert other != first
