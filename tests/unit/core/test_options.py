"""Typed settings: stage settings through the command line and from a config section, gate and benchmark
options from a config section (types, unknown keys, defaults) and their schema."""

import argparse
import dataclasses
from typing import Literal

import pytest
from jsonschema import Draft202012Validator

from gatedloop.backends import SamplingParams
from gatedloop.core.options import (
    OptionsError,
    add_dataclass_args,
    dataclass_from_args,
    option,
    options_from,
    options_schema,
    stage_settings,
    to_cli_args,
    value_from_text,
)
from gatedloop.finetune import FinetuneConfig


def roundtrip(cls, settings):
    parser = argparse.ArgumentParser()
    add_dataclass_args(parser, cls)
    return dataclass_from_args(cls, parser.parse_args(to_cli_args(settings)))


def test_settings_survive_the_command_line():
    params = roundtrip(SamplingParams, {"temperature": 0.0, "stop": ["\ndef ", "\n#"], "max_new_tokens": 7})
    assert params == SamplingParams(temperature=0.0, stop=["\ndef ", "\n#"], max_new_tokens=7)
    cfg = roundtrip(FinetuneConfig, {"loss_on_prompt": False, "target_modules": ["c_attn", "c_proj"], "lr": 1e-4})
    assert cfg.loss_on_prompt is False and cfg.target_modules == ["c_attn", "c_proj"] and cfg.lr == 1e-4


# ---------------------------------------------------------------- typed options of gates and benchmarks


@dataclasses.dataclass(frozen=True)
class Example:
    """An example section."""

    fraction: float = option(0.25, "a share", exclusiveMinimum=0, maximum=1)
    count: int = option(3, "how many", minimum=1)
    flag: bool = option(True, "on or off")
    mode: Literal["a", "b"] = option("a", "which")
    words: tuple[str, ...] = option((), "some words")
    bound: str | None = option(None, "a date or none", pattern="^[0-9]+$")
    internal: float | None = option(None, "set by the job", config=False)


def test_options_fill_defaults_and_keep_given_values_as_given():
    assert options_from(Example, {}, "x") == Example()
    chosen = options_from(Example, {"fraction": 1, "words": ["a", "b"], "bound": "12"}, "x")
    assert chosen.fraction == 1 and type(chosen.fraction) is int  # an integer is a number, not converted
    assert chosen.words == ("a", "b") and chosen.bound == "12" and chosen.count == 3


@pytest.mark.parametrize(("values", "key", "problem"), [
    ({"fraction": "x"}, "sec.fraction", "expected a number, got 'x'"),
    ({"fraction": True}, "sec.fraction", "expected a number, got True"),
    ({"count": 2.5}, "sec.count", "expected an integer, got 2.5"),
    ({"flag": "yes"}, "sec.flag", "expected true or false, got 'yes'"),
    ({"mode": "c"}, "sec.mode", "expected one of 'a', 'b', got 'c'"),
    ({"words": ["a", 1]}, "sec.words", "expected a list of strings, got ['a', 1]"),
    ({"bound": 12}, "sec.bound", "expected a string or null, got 12"),
    ({"fractoin": 0.5}, "sec", "unknown option 'fractoin' (known: bound, count, flag, fraction, internal, mode, "
                               "words)"),
])
def test_a_wrong_type_or_unknown_key_is_named_with_its_path_and_the_type_expected(values, key, problem):
    with pytest.raises(OptionsError) as err:
        options_from(Example, values, "sec")
    assert (err.value.key, err.value.problem) == (key, problem)
    assert str(err.value) == f"{key}: {problem}"


def test_what_the_job_sets_is_no_config_key():
    assert options_from(Example, {"internal": 0.5}, "sec").internal == 0.5
    with pytest.raises(OptionsError, match=r"sec.internal: set by the job itself, not by the config"):
        options_from(Example, {"internal": 0.5}, "sec", config=True)
    with pytest.raises(OptionsError, match=r"known: bound, count, flag, fraction, mode, words\)"):
        options_from(Example, {"other": 1}, "sec", config=True)


def test_the_schema_of_options_agrees_with_the_dataclass():
    with_defaults = options_schema(Example, defaults=True)
    assert with_defaults["description"] == "An example section." and with_defaults["default"] == {}
    assert with_defaults["additionalProperties"] is False and "internal" not in with_defaults["properties"]
    assert with_defaults["properties"]["fraction"] == {"type": "number", "exclusiveMinimum": 0, "maximum": 1,
                                                       "description": "a share", "default": 0.25}
    assert with_defaults["properties"]["mode"]["enum"] == ["a", "b"]
    assert with_defaults["properties"]["words"]["items"] == {"type": "string"}
    assert with_defaults["properties"]["bound"]["type"] == ["string", "null"]
    without = options_schema(Example, defaults=False)
    assert "default" not in without and all("default" not in p for p in without["properties"].values())
    assert without["properties"]["fraction"]["description"] == "a share (default: 0.25)"
    # the schema and options_from accept and refuse the same values
    validator = Draft202012Validator(without)
    for values in ({"fraction": 0.5}, {"count": 2, "words": ["a"]}, {"fraction": "x"}, {"flag": 1}, {"mode": "z"},
                   {"bound": None}, {"bound": 3}, {"extra": 1}):
        try:
            options_from(Example, values, "sec", config=True)
            typed = True
        except OptionsError:
            typed = False
        assert typed == validator.is_valid(values), values


def test_command_line_text_becomes_the_options_type():
    assert value_from_text(Example, "bound", "20240501") == "20240501"  # text stays text where text is taken
    assert value_from_text(Example, "bound", "null") is None
    assert value_from_text(Example, "count", "6") == 6 and value_from_text(Example, "fraction", "0.5") == 0.5
    assert value_from_text(None, "anything", "2024-05-01") == "2024-05-01"


@dataclasses.dataclass
class StageA:
    steps: int = 1
    lr: float = 0.1


@dataclasses.dataclass
class StageB:
    batch_size: int = 8


def test_a_stage_gets_exactly_its_fields_sorted_and_a_stray_key_is_refused():
    section = {"steps": 3, "batch_size": 4, "lr": 0.5, "enabled": True}
    chosen = stage_settings(section, (StageA, StageB), {"enabled": "switches the rule"}, "stage")
    assert list(chosen) == ["batch_size", "lr", "steps"] and chosen["steps"] == 3
    assert to_cli_args(chosen) == ["--batch-size", "4", "--lr", "0.5", "--steps", "3"]
    with pytest.raises(ValueError, match=r"config key 'stage.enabled': no field of StageA takes it"):
        stage_settings({"steps": 3, "enabled": True}, (StageA,), {}, "stage")
