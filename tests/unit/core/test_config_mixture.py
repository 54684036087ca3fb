"""Validation of the study's training mixture (anchors, natural_language, models.<name>.nl_fraction) and of
evaluation_rounds."""

import json

import pytest
from conftest import SCHEMA

from gatedloop.core.config import ConfigError, nl_fraction_for, validate_config


def jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def anchors(tmp_path, n):
    return jsonl(tmp_path / "anchors.jsonl", [{"id": f"a{i}", "content": f"def anchor_{i}():\n    return {i}\n",
                                               "verified": True} for i in range(n)])


def config(**extra):
    return {"models": {"tiny": {"source": "scratch"}}, "gates": ["none"], "rounds": 3,
            "budget": {"accepted_per_round": 40}, **extra}


def test_defaults_are_off_and_need_no_file():
    validated = validate_config({"models": {"tiny": {"source": "scratch"}}}, SCHEMA)
    assert validated["anchors"] == {"path": None, "fraction": 0.0, "arms": None}
    assert validated["natural_language"] == {"path": None, "fraction": 0.0}
    assert validated["evaluation_rounds"] is None and "nl_fraction" not in validated["models"]["tiny"]


def test_enough_anchors_for_every_round_pass_and_too_few_are_named_with_the_numbers(tmp_path):
    validate_config(config(anchors={"path": str(anchors(tmp_path, 6)), "fraction": 0.05}), SCHEMA)  # 3 x 2
    path = anchors(tmp_path, 5)
    with pytest.raises(ConfigError, match=rf"'anchors.path': {path}: 3 rounds x 2 anchors per round need 6 verified "
                                          r"rows; the file has 5"):
        validate_config(config(anchors={"path": str(path), "fraction": 0.05}), SCHEMA)


def test_an_anchor_that_is_a_prompt_of_the_pool_is_refused_naming_the_row(tmp_path):
    pool = jsonl(tmp_path / "pool.jsonl", [{"task_id": "p0", "prompt": "def pooled(x):"},
                                           {"task_id": "p1", "prompt": "def other(x):"}])
    path = jsonl(tmp_path / "anchors.jsonl", [{"id": "fine", "content": "def fresh():\n    pass\n", "verified": True},
                                              {"id": "leak", "content": "def pooled(x):\n", "verified": True}])
    with pytest.raises(ConfigError, match=r"anchors.jsonl:2: anchor 'leak' is a prompt of the prompt pool"):
        validate_config(config(rounds=1, prompts={"path": str(pool)}, anchors={"path": str(path), "fraction": 0.05}),
                        SCHEMA)


def test_the_embedded_pool_is_checked_too(tmp_path):
    from gatedloop.data.task_families import split_tasks

    prompt = split_tasks(0.15, 0, 256)["pool"][0].prompt
    path = jsonl(tmp_path / "anchors.jsonl", [{"content": prompt, "verified": True}])
    with pytest.raises(ConfigError, match="anchors.jsonl:1: anchor 'line1' is a prompt of the prompt pool"):
        validate_config(config(rounds=1, anchors={"path": str(path), "fraction": 0.01}), SCHEMA)


def test_unverified_rows_missing_files_and_a_missing_budget_are_refused(tmp_path):
    path = jsonl(tmp_path / "anchors.jsonl", [{"content": "x = 1", "verified": False}])
    with pytest.raises(ConfigError, match=r"'anchors.path': .*anchors.jsonl:1: anchor 'line1' is not 'verified: true'"):
        validate_config(config(anchors={"path": str(path), "fraction": 0.05}), SCHEMA)
    with pytest.raises(ConfigError, match="'natural_language.path': a fraction above 0 needs a JSONL file"):
        validate_config(config(natural_language={"fraction": 0.25}), SCHEMA)
    no_budget = {**config(anchors={"path": str(anchors(tmp_path, 9)), "fraction": 0.05}), "budget": {}}
    with pytest.raises(ConfigError, match="'budget.accepted_per_round': anchors.fraction and natural_language"):
        validate_config(no_budget, SCHEMA)
    with pytest.raises(ConfigError, match="leave no synthetic sample of 40"):
        validate_config(config(anchors={"path": str(anchors(tmp_path, 99)), "fraction": 0.5},
                               natural_language={"path": str(path), "fraction": 0.5}), SCHEMA)


def test_a_models_nl_fraction_overrides_the_global_one_and_sizes_the_check(tmp_path):
    text = jsonl(tmp_path / "nl.jsonl", [{"content": f"# note {i}"} for i in range(10)])
    models = {"starcoder": {"source": "scratch", "nl_fraction": 0.25}, "santa": {"source": "scratch"}}
    validated = validate_config(config(models=models, natural_language={"path": str(text), "fraction": 0.0}), SCHEMA)
    assert nl_fraction_for(validated, "starcoder") == 0.25 and nl_fraction_for(validated, "santa") == 0.0
    models["starcoder"]["nl_fraction"] = 0.3  # 12 rows a round, 10 there
    with pytest.raises(ConfigError, match="round 1 needs 12 natural-language rows; 10 are eligible"):
        validate_config(config(models=models, natural_language={"path": str(text)}), SCHEMA)


@pytest.mark.parametrize(("rounds", "message"), [
    ([1, 3], "must include the baseline, round 0"),
    ([0, 1], "must include the last round, 3"),
    ([0, 3, 4], "round 4 is past the last round"),
])
def test_evaluation_rounds_need_round_0_and_the_last_within_range(rounds, message):
    with pytest.raises(ConfigError, match=rf"'evaluation_rounds': {message}"):
        validate_config(config(evaluation_rounds=rounds), SCHEMA)


def test_evaluation_rounds_are_checked_by_the_schema_and_a_valid_list_passes():
    assert validate_config(config(evaluation_rounds=[3, 0, 2]), SCHEMA)["evaluation_rounds"] == [3, 0, 2]
    with pytest.raises(ConfigError, match="evaluation_rounds"):
        validate_config(config(evaluation_rounds=[0, 0, 3]), SCHEMA)
    with pytest.raises(ConfigError, match="evaluation_rounds"):
        validate_config(config(evaluation_rounds=[-1, 0, 3]), SCHEMA)


def test_anchors_arms_must_be_arms_of_the_sweep(tmp_path):
    config = {"models": {"tiny": {"source": "scratch"}}, "gates": ["none", "execution"],
              "anchors": {"arms": ["execution@anchor5"]}}
    with pytest.raises(ConfigError, match=r"anchors\.arms\[0\]': 'execution@anchor5' is not an arm of gates"):
        validate_config(config, SCHEMA)
