"""Source 'file_prefixes' (the study's v1): a seeded draw of files per round from a local corpus (JSONL, Parquet),
short files skipped, each prompt the file's first prompt_tokens tokens in a real tokenizer."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO, SCHEMA

from gatedloop.core.config import ConfigError, validate_config
from gatedloop.prompt_sources import Draw, from_config

MINIMAL = {"models": {"tiny": {"source": "scratch"}}}
PROMPT_TOKENS, MIN_FILE_TOKENS = 24, 100


def corpus_rows(n: int = 30) -> list[dict]:
    """Files of many lengths: every third one too short to prompt with."""
    rows = []
    for i in range(n):
        lines = 1 if i % 3 == 0 else 6 + i
        body = "".join(f"    total = total + {j} * value_{i}\n" for j in range(lines))
        rows.append({"path": f"repo/file_{i}.py", "content": f"def function_{i}(value_{i}):\n    total = 0\n{body}"
                                                              "    return total\n"})
    return rows


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def jsonl_corpus(tmp_path_factory):
    from datasets import Dataset

    directory = tmp_path_factory.mktemp("jsonl_corpus")
    rows = corpus_rows()
    Dataset.from_list(rows[:15]).to_json(directory / "part-0.jsonl")
    Dataset.from_list(rows[15:]).to_json(directory / "part-1.jsonl")
    return directory


@pytest.fixture(scope="module")
def parquet_corpus(tmp_path_factory):
    import pandas as pd

    directory = tmp_path_factory.mktemp("parquet_corpus")
    pd.DataFrame(corpus_rows()).to_parquet(directory / "train.parquet")
    return directory


def source_for(directory, **changes):
    return from_config({"source": "file_prefixes", "corpus": "local", "corpus_path": str(directory),
                        "min_file_tokens": MIN_FILE_TOKENS, "prompt_tokens": PROMPT_TOKENS, "per_round": 6,
                        "shuffle_buffer": 100, **changes})


@pytest.fixture(scope="module")
def arrow_corpus(tmp_path_factory):
    from datasets import Dataset

    directory = tmp_path_factory.mktemp("arrow_corpus")
    Dataset.from_list(corpus_rows()).save_to_disk(directory)  # Arrow data beside datasets' JSON metadata
    return directory


@pytest.mark.parametrize("corpus", ["jsonl_corpus", "parquet_corpus", "arrow_corpus"])
def test_prompts_are_exact_token_prefixes_of_long_enough_files(corpus, tokenizer, request):
    source = source_for(request.getfixturevalue(corpus))
    rows = source.prompts(Draw(seed=0, round=1, tokenizer=tokenizer))
    files = {row["path"]: row["content"] for row in corpus_rows()}
    assert len(rows) == 6 and len({row["task_id"] for row in rows}) == 6
    for row in rows:
        text = files[row["origin"]]
        ids = tokenizer(text, add_special_tokens=False).input_ids
        assert len(ids) >= MIN_FILE_TOKENS
        assert row["prompt"] == tokenizer.decode(ids[:PROMPT_TOKENS]) and text.startswith(row["prompt"])
        assert len(tokenizer(row["prompt"], add_special_tokens=False).input_ids) == PROMPT_TOKENS
        assert set(row) == {"task_id", "prompt", "origin"}  # no tests: file prefixes have none
    skipped = [path for path, text in files.items() if len(tokenizer(text, add_special_tokens=False).input_ids)
               < MIN_FILE_TOKENS]
    assert len(skipped) == 10 and not {row["origin"] for row in rows} & set(skipped)


def test_each_round_draws_afresh_and_a_round_repeats_exactly(jsonl_corpus, parquet_corpus, tokenizer):
    source = source_for(jsonl_corpus)

    def drawn(seed, round_):
        return [row["origin"] for row in source.prompts(Draw(seed=seed, round=round_, tokenizer=tokenizer))]

    assert drawn(0, 1) == drawn(0, 1)
    assert drawn(0, 1) != drawn(0, 2)
    assert drawn(0, 1) != drawn(1, 1)  # another run seed, another stream
    assert Draw(seed=0, round=3).shuffle_seed == 3  # run seed 0: the study's seed, the round number


def test_a_corpus_too_small_for_the_round_is_an_error(jsonl_corpus, tokenizer):
    with pytest.raises(ValueError, match=r"the corpus ran out: 20 distinct files of 100 tokens or more, and "
                                         r"prompts.per_round asks 25"):
        source_for(jsonl_corpus, per_round=25).prompts(Draw(seed=0, round=1, tokenizer=tokenizer))


def test_a_local_corpus_is_checked_before_any_job(tmp_path, jsonl_corpus):
    def config(**prompts):
        return {**MINIMAL, "prompts": {"source": "file_prefixes", "corpus": "local", **prompts}}

    with pytest.raises(ConfigError, match="config key 'prompts.corpus_path': corpus 'local' needs a directory"):
        validate_config(config(corpus_path=str(tmp_path / "missing")), SCHEMA)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not data")
    with pytest.raises(ConfigError, match="config key 'prompts.corpus_path': .*empty holds no .jsonl"):
        validate_config(config(corpus_path=str(tmp_path / "empty")), SCHEMA)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "a.jsonl").write_text('{"content": "def f():\\n"}\n{oops\n')
    with pytest.raises(ConfigError, match="config key 'prompts.corpus_path': .*broken: its files do not read"):
        validate_config(config(corpus_path=str(tmp_path / "broken")), SCHEMA)
    with pytest.raises(ConfigError, match="config key 'prompts.field': the corpus has no text column 'code'"):
        validate_config(config(corpus_path=str(jsonl_corpus), field="code"), SCHEMA)
    with pytest.raises(ConfigError, match="config key 'prompts.source': gate 'execution' runs each prompt's tests"):
        validate_config({**config(corpus_path=str(jsonl_corpus)), "gates": ["none", "execution"]}, SCHEMA)
    checked = validate_config(config(corpus_path=str(jsonl_corpus)), SCHEMA)
    assert checked["control"]["solutions"] == "human_pool"  # file prefixes carry no reference solutions
    assert checked["prompts"]["prompt_tokens"] is None  # null: the source's default, 1024
    assert from_config(checked["prompts"]).settings.prompt_tokens == 1024


def test_a_hub_corpus_without_network_says_so(tmp_path, tiny_model_dir):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO / "src"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf"), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "gatedloop.prompts", "--source", "file_prefixes", "--options",
                           '{"corpus": "hub", "dataset": "bigcode/the-stack-dedup"}', "--model", str(tiny_model_dir),
                           "--seed", "0", "--round", "1", "--out", str(tmp_path / "round1.jsonl")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode != 0 and not (tmp_path / "round1.jsonl").exists()
    assert "could not be streamed from the Hugging Face hub" in done.stderr
    assert "HF_DATASETS_OFFLINE" in done.stderr and "prompts.corpus: local" in done.stderr


def test_the_schema_defaults_are_the_study_settings_the_source_declares():
    import yaml

    from gatedloop.core.options import config_fields
    from gatedloop.prompt_sources import PROMPT_SOURCES

    schema = yaml.safe_load(SCHEMA.read_text())["properties"]["prompts"]["properties"]
    declared = {f.name: f.default for f in config_fields(PROMPT_SOURCES.get("file_prefixes").Options)}
    assert set(declared) <= set(schema)
    assert {key: schema[key]["default"] for key in declared if key != "prompt_tokens"} == \
        {key: value for key, value in declared.items() if key != "prompt_tokens"}
    assert (declared["min_file_tokens"], declared["prompt_tokens"], declared["shuffle_buffer"]) == (512, 1024, 50_000)
    assert (declared["dataset"], declared["data_dir"], declared["field"]) == \
        ("bigcode/the-stack-dedup", "data/python", "content")
