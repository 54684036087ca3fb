import dataclasses
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SCHEMA

from gatedloop.backends import SamplingParams
from gatedloop.core.config import ConfigError, load_schema, load_yaml, validate_config
from gatedloop.finetune import FinetuneConfig
from gatedloop.pretrain import ModelShape, PretrainConfig

MINIMAL = {"models": {"tiny": {"source": "scratch"}}}


def test_every_scenario_file_validates():
    for path in sorted((REPO / "config").glob("*.yaml")):
        config = validate_config(load_yaml(path), SCHEMA)
        assert config["gates"] and config["rounds"] >= 1, path


def test_defaults_are_filled_from_the_schema():
    config = validate_config(MINIMAL, SCHEMA)
    assert config["generate"]["temperature"] == 0.8 and config["generate"]["top_p"] == 0.95
    assert config["models"]["tiny"]["pretrain"]["steps"] > 0
    assert config["score"]["benchmarks"] == ["microtasks"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"rounds": "three"}, "config key 'rounds': 'three' is not of type 'integer'"),
        ({"surprise": 1}, "'surprise' was unexpected"),
        ({"generate": {"temprature": 0.5}}, "config key 'generate': Additional properties"),
        ({"generate": {"top_p": 2}}, "config key 'generate.top_p'"),
        ({"gates": ["none", "magic"]}, "config key 'gates[1]': unknown gate 'magic'; known: "),
        ({"score": {"benchmarks": ["nope"]}}, "config key 'score.benchmarks[0]': unknown benchmark 'nope'"),
        ({"generate": {"backend": "tgi"}}, "config key 'generate.backend': unknown backend 'tgi'"),
        ({"models": {"m": {"source": "magic"}}}, "config key 'models.m.source': unknown model source 'magic'"),
        ({"gate_options": {"magic": {}}}, "config key 'gate_options': unknown gate 'magic'"),
        ({"score": {"stop": {"humaneval": ["\n"]}}}, "config key 'score.stop.humaneval': 'humaneval' is not in "
                                                     "score.benchmarks (microtasks)"),
        ({"score": {"stop": ["\ndef "]}}, "config key 'score.stop'"),
        ({"score": {"stop": {"microtasks": [""]}}}, "config key 'score.stop.microtasks[0]'"),
    ],
)
def test_bad_config_names_the_key(change, expected):
    with pytest.raises(ConfigError) as err:
        validate_config({**MINIMAL, **change}, SCHEMA)
    assert expected in str(err.value)


def test_malformed_yaml_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("models:\n  tiny: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_yaml(bad)


def _schema_defaults(section: dict) -> dict:
    return {k: v["default"] for k, v in section["properties"].items() if "default" in v}


@pytest.mark.parametrize(
    ("cls", "path", "skip"),
    [
        (PretrainConfig, ["properties", "models", "additionalProperties", "properties", "pretrain"], ()),
        (ModelShape, ["properties", "models", "additionalProperties", "properties", "shape"], ()),
        (FinetuneConfig, ["properties", "finetune"], ("seed",)),
        (SamplingParams, ["properties", "generate"], ("temperature", "top_p")),
    ],
)
def test_code_defaults_match_the_schema(cls, path, skip):
    """Defaults live in the schema; the dataclasses (for running a CLI by hand) must not drift from it."""
    section = load_schema(SCHEMA)
    for key in path:
        section = section[key]
    schema_defaults = _schema_defaults(section)
    for field in dataclasses.fields(cls):
        if field.name in skip or field.name not in schema_defaults:
            continue
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        assert default == schema_defaults[field.name], f"{cls.__name__}.{field.name}"


def test_schema_is_valid_yaml_with_a_draft():
    schema = yaml.safe_load(Path(SCHEMA).read_text())
    assert "2020-12" in schema["$schema"]


def test_several_greedy_samples_per_task_are_refused(tmp_path):
    config = load_yaml(REPO / "config" / "config.yaml")
    config["score"]["n_samples"] = 10
    with pytest.raises(ConfigError, match=r"score\.n_samples.*temperature"):
        validate_config(config, SCHEMA)
    config["score"].update(temperature=0.8, k=[1, 5])
    assert validate_config(config, SCHEMA)["score"]["k"] == [1, 5]


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        ({"benchmarks": ["humaneval"], "data": {"mbpp_plus": "x.jsonl"}},
         "config key 'score.data.mbpp_plus': 'mbpp_plus' is not in score.benchmarks (humaneval)"),
        ({"benchmarks": ["microtasks"], "data": {"microtasks": "x.jsonl"}},
         "config key 'score.data.microtasks': the workflow builds the microtasks file itself"),
        ({"benchmarks": ["humaneval_plus"], "data": {"humaneval_plus": "no/such/file.jsonl"}},
         "config key 'score.data.humaneval_plus': no/such/file.jsonl is not a file"),
        ({"benchmarks": ["livecodebench"], "livecodebench": {"start_date": "May 2024"}},
         "config key 'score.livecodebench.start_date'"),
        ({"benchmarks": ["livecodebench"], "livecodebench": {"release": "v5"}},
         "config key 'score.livecodebench': Additional properties"),
    ],
)
def test_benchmark_data_and_settings_are_checked_before_any_job(score, expected):
    with pytest.raises(ConfigError) as err:
        validate_config({**MINIMAL, "score": score}, SCHEMA)
    assert expected in str(err.value)


def test_an_unquoted_yaml_date_is_a_date_window(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("models: {tiny: {source: scratch}}\nscore:\n  benchmarks: [livecodebench]\n"
                    "  livecodebench: {start_date: 2024-05-01, end_date: '2024-09-30'}\n")
    config = validate_config(load_yaml(path), SCHEMA)
    assert config["score"]["livecodebench"]["start_date"] == "2024-05-01"
    assert config["score"]["livecodebench"]["release_version"] == "release_v1"


@pytest.mark.parametrize(("figures", "expected"), [
    ({"gates": ["binary"]}, "config key 'figures.gates': 'binary' is not run by this config (none, reference)"),
    ({"benchmarks": ["humaneval"]}, "config key 'figures.benchmarks': 'humaneval' is not run by this config"),
    ({"collapse_fraction": 1.5}, "config key 'figures.collapse_fraction'"),
])
def test_figure_settings_are_checked(figures, expected):
    with pytest.raises(ConfigError) as err:
        validate_config({**MINIMAL, "gates": ["none"], "figures": figures}, SCHEMA)
    assert expected in str(err.value)


@pytest.mark.parametrize(("analysis", "expected"), [
    ({"probe": {"source": "web"}}, "config key 'analysis.probe.source'"),
    ({"layers": []}, "config key 'analysis.layers'"),
    ({"bootstrap": -1}, "config key 'analysis.bootstrap'"),
    ({"probe": {"source": "file"}}, "config key 'analysis.probe.path': source 'file' needs a JSONL file"),
])
def test_analysis_settings_are_checked(analysis, expected):
    with pytest.raises(ConfigError) as err:
        validate_config({**MINIMAL, "analysis": analysis}, SCHEMA)
    assert expected in str(err.value)


@pytest.mark.parametrize(("benchmark", "lines", "expected"), [
    ("humaneval_plus", ['{"task_id": "HumanEval/0", "prompt": "p"}'],
     "x.jsonl:1: task 'HumanEval/0' lacks contract, entry_point, canonical_solution, base_input, plus_input, atol"),
    ("humaneval", ['{"task_id": "HumanEval/0", "prompt": "p", "canonical_solution": "", "test": "",'
                   ' "entry_point": "f"}', "{not json"], "x.jsonl:2: not valid JSON"),
    ("livecodebench", ["", '["a list"]'], "x.jsonl:2: a line must be a JSON object"),
])
def test_a_broken_benchmark_file_is_named_by_line_at_validation(tmp_path, benchmark, lines, expected):
    data = tmp_path / "x.jsonl"
    data.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as err:
        validate_config({**MINIMAL, "score": {"benchmarks": [benchmark], "data": {benchmark: str(data)}}}, SCHEMA)
    assert f"config key 'score.data.{benchmark}'" in str(err.value) and expected in str(err.value)
