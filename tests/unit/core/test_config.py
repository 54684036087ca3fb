import dataclasses
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SCHEMA

from gatedloop.analyze import AnalysisSettings
from gatedloop.backends import SamplingParams
from gatedloop.core.config import (
    NOT_STAGE_SETTINGS,
    ConfigError,
    asks_question,
    config_schema,
    finetune_batch,
    gate_options_for,
    load_schema,
    load_yaml,
    not_stage_settings,
    validate_config,
)
from gatedloop.core.options import config_fields
from gatedloop.finetune import FinetuneConfig
from gatedloop.pretrain import ModelShape, PretrainConfig
from gatedloop.sample_checks import SampleCheckSettings
from gatedloop.score import ScoreSettings

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
        (SamplingParams, ["properties", "audit"], ()),
        (SamplingParams, ["properties", "score"], ("temperature", "stop")),
        (AnalysisSettings, ["properties", "analysis"], ()),
        (SampleCheckSettings, ["properties", "sample_checks"], ()),
        (ScoreSettings, ["properties", "score"], ("prompt_strip",)),  # config: one value per benchmark
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
         "config key 'score.livecodebench': unknown option 'release' (known: end_date, release_version, revision,"),
        ({"benchmarks": ["livecodebench"], "livecodebench": {"timeout_s": "6"}},
         "config key 'score.livecodebench.timeout_s': expected an integer, got '6'"),
        ({"benchmarks": ["livecodebench"], "livecodebench": {"timeout_s": 0}},
         "config key 'score.livecodebench.timeout_s': 0 is less than the minimum of 1"),
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


# ---------------------------------------------------------------- gate and benchmark options, stage settings


@pytest.mark.parametrize(("gate_options", "expected"), [
    ({"perplexity": {"keep_fraction": "x"}}, "config key 'gate_options.perplexity.keep_fraction': expected a number, "
                                             "got 'x'"),
    ({"perplexity": {"kep_fraction": 0.5}}, "config key 'gate_options.perplexity': unknown option 'kep_fraction' "
                                            "(known: batch_size, dtype, keep_fraction, mode, scorer, threshold)"),
    ({"binary": {"mode": "top"}}, "config key 'gate_options.binary.mode': expected one of 'quantile', 'threshold', "
                                  "'calibrated', got 'top'"),
    ({"quality": {"min_tokens": 8.5}}, "config key 'gate_options.quality.min_tokens': expected an integer, got 8.5"),
    ({"lint": {"ignore": "UnusedImport"}}, "config key 'gate_options.lint.ignore': expected a list of strings"),
    ({"perplexity": {"reviewer": "base"}}, "config key 'gate_options.perplexity': unknown option 'reviewer'"),
    ({"perplexity": {"calibrated_threshold": -1.0}}, "config key 'gate_options.perplexity.calibrated_threshold': "
                                                     "set by the job itself"),
    ({"perplexity": {"keep_fraction": 1.5}}, "config key 'gate_options.perplexity.keep_fraction': 1.5 is greater "
                                             "than the maximum of 1"),  # a range: the generated schema's
    ({"perplexity": []}, "config key 'gate_options.perplexity': [] is not of type 'object'"),
])
def test_gate_options_are_typed_at_validation(gate_options, expected):
    with pytest.raises(ConfigError) as err:
        validate_config({**MINIMAL, "gate_options": gate_options}, SCHEMA)
    assert expected in str(err.value)


def test_gate_options_stay_as_written_and_benchmark_sections_get_their_defaults():
    """Gate jobs get the options as written (the gate fills its defaults): validation adds none, so no job command
    changes; a benchmark's section is filled, as its --option flags always were."""
    config = validate_config({**MINIMAL, "gate_options": {"cross": {"reviewer": "base", "keep_fraction": 1}}}, SCHEMA)
    assert config["gate_options"] == {"cross": {"reviewer": "base", "keep_fraction": 1}}
    assert config["score"]["livecodebench"] == {"release_version": "release_v1", "start_date": None,
                                                "end_date": None, "timeout_s": 6, "revision": None}


def test_per_model_gate_options_are_still_checked():
    models = {"tiny": {"source": "scratch", "gate_options": {"binary": {"yes_word": 3}}}}
    with pytest.raises(ConfigError, match=r"config key 'models.tiny.gate_options.binary.yes_word': 3 is not of type"):
        validate_config({"models": models, "gates": ["binary"]}, SCHEMA)
    models["tiny"]["gate_options"] = {"binary": {"threshold": 0.5}}
    with pytest.raises(ConfigError, match=r"config key 'models.tiny.gate_options.binary': Additional properties"):
        validate_config({"models": models, "gates": ["binary"]}, SCHEMA)
    models["tiny"]["gate_options"] = {"binary": {"yes_word": " good", "no_word": " bad"}}
    config = validate_config({"models": models, "gates": ["binary"]}, SCHEMA)
    assert gate_options_for(config, "tiny", "binary") == {"yes_word": " good", "no_word": " bad"}


def test_the_schema_describes_every_gates_and_benchmarks_options_from_its_dataclass():
    from gatedloop.benchmarks import BENCHMARKS
    from gatedloop.gates import GATES

    schema = config_schema(SCHEMA)
    gate_sections = schema["properties"]["gate_options"]["properties"]
    assert list(gate_sections) == [name for name, _ in GATES.items()]
    for name, gate in GATES.items():
        declared = {f.name for f in config_fields(gate.Options)}
        assert set(gate_sections[name]["properties"]) == declared, name
        assert all("default" not in prop for prop in gate_sections[name]["properties"].values()), name
    assert set(gate_sections["cross"]["properties"]) >= {"reviewer", "yes_word", "keep_fraction"}
    score = schema["properties"]["score"]["properties"]
    for name, benchmark in BENCHMARKS.items():
        declared = {f.name for f in config_fields(benchmark.Options)}
        assert set(score.get(name, {}).get("properties", {})) == declared, name
        assert all(score[name]["properties"][key]["default"] == getattr(benchmark.Options(), key) for key in declared)


def test_per_model_answer_options_are_options_of_every_gate_that_asks():
    """models.<name>.gate_options.<gate> is written in the schema file (answer words and template only): each of its
    keys is an option of every gate that asks a question, of the same type."""
    from gatedloop.gates import GATES

    per_model = load_schema(SCHEMA)["properties"]["models"]["additionalProperties"]["properties"]["gate_options"]
    asking = [name for name in GATES.names() if asks_question(name)]
    assert asking == ["binary", "cross"]
    for gate in asking:
        generated = GATES.options_schema(gate, defaults=False)["properties"]
        for key, prop in per_model["additionalProperties"]["properties"].items():
            assert generated[key]["type"] == prop["type"], (gate, key)


def _stage_sections():
    schema = load_schema(SCHEMA)["properties"]
    model = schema["models"]["additionalProperties"]["properties"]
    # section -> its schema, the dataclasses whose fields its rules pass (common.smk cli_for)
    return {"generate": (schema["generate"], [SamplingParams]), "audit": (schema["audit"], [SamplingParams]),
            "score": (schema["score"], [SamplingParams, ScoreSettings]),
            "finetune": (schema["finetune"], [FinetuneConfig]), "analysis": (schema["analysis"], [AnalysisSettings]),
            "sample_checks": (schema["sample_checks"], [SampleCheckSettings]),
            "models.shape": (model["shape"], [ModelShape]), "models.pretrain": (model["pretrain"], [PretrainConfig])}


@pytest.mark.parametrize("section", ["generate", "audit", "score", "finetune", "analysis", "sample_checks",
                                     "models.shape", "models.pretrain"])
def test_every_key_of_a_stage_section_is_a_stage_setting_or_named_with_its_use(section):
    schema, classes = _stage_sections()[section]
    keys = set(config_schema(SCHEMA)["properties"]["score"]["properties"]) if section == "score" \
        else set(schema["properties"])
    fields = {f.name for cls in classes for f in dataclasses.fields(cls)}
    elsewhere = not_stage_settings(section)
    assert keys <= fields | set(elsewhere), f"{section}: {sorted(keys - fields - set(elsewhere))} go nowhere"
    assert not fields & set(elsewhere), f"{section}: {sorted(fields & set(elsewhere))} are stage settings"
    assert set(elsewhere) <= keys, f"{section}: NOT_STAGE_SETTINGS names {sorted(set(elsewhere) - keys)}"
    assert all(reason for reason in elsewhere.values())
    assert set(NOT_STAGE_SETTINGS) <= {name.split(".")[0] for name in _stage_sections()}


def test_the_control_arm_is_the_control_gate():
    config = validate_config({**MINIMAL, "gates": ["none"]}, SCHEMA)
    assert config["gates"] == ["none", "reference"]


def test_a_models_finetune_batch_must_divide_the_effective_batch():
    config = yaml.safe_load((REPO / "config/integration.yaml").read_text())
    config["finetune"] = {**config.get("finetune", {}), "batch_size": 8, "grad_accum": 8}
    config["models"]["tiny"]["batch_sizes"] = {"finetune": 32}
    validated = validate_config(config, SCHEMA)
    assert finetune_batch(validated, "tiny") == (32, 2)
    config["models"]["tiny"]["batch_sizes"] = {"finetune": 24}
    with pytest.raises(ConfigError, match=r"models\.tiny\.batch_sizes\.finetune': 24 does not divide the effective "
                                          r"batch 64 \(finetune.batch_size 8 x finetune.grad_accum 8\)"):
        validate_config(config, SCHEMA)


def test_the_study_and_each_of_its_suites_validate(tmp_path):
    """config/study.yaml, and every overlay in config/study/ merged over it (the files the overlays leave to the
    user, anchors and natural-language text, written here)."""
    from gatedloop.core.config import merge

    (tmp_path / "rows.jsonl").write_text("".join(
        f'{{"id": "r{i}", "content": "def fresh_{i}():\\n    return {i}\\n", "verified": true}}\n'
        for i in range(5 * 1250)))
    files = {"anchors": {"path": str(tmp_path / "rows.jsonl")},
             "natural_language": {"path": str(tmp_path / "rows.jsonl")}}
    study = load_yaml(REPO / "config/study.yaml")
    assert validate_config(study, SCHEMA)["finetune"]["method"] == "full"
    overlays = sorted((REPO / "config/study").glob("*.yaml"))
    assert len(overlays) >= 6
    for path in overlays:
        overlay = load_yaml(path)
        for section, value in files.items():
            if section in overlay:
                overlay[section] = {**overlay[section], **value}
        config = validate_config(merge(study, overlay), SCHEMA)
        assert set(config["models"]) <= set(study["models"]) and config["gates"], path



def test_only_models_keeps_some_models_and_refuses_to_drop_a_reviewer():
    study = load_yaml(REPO / "config/study.yaml")
    kept = validate_config({**study, "only_models": ["qwen2.5-coder-1.5b"]}, SCHEMA)
    assert list(kept["models"]) == ["qwen2.5-coder-1.5b"]
    with pytest.raises(ConfigError, match=r"'only_models': 'nomodel' is not a model of models"):
        validate_config({**study, "only_models": ["nomodel"]}, SCHEMA)
    reviewed = {**study, "only_models": ["qwen2.5-coder-1.5b"], "gates": ["none", "cross"],
                "gate_options": {"cross": {"reviewer": "starcoder2-3b", "yes_word": " good", "no_word": " bad"}}}
    with pytest.raises(ConfigError, match=r"gate_options.cross.reviewer names model 'starcoder2-3b'"):
        validate_config(reviewed, SCHEMA)
