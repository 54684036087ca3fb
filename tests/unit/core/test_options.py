import argparse

from gatedloop.backends import SamplingParams
from gatedloop.core.options import add_dataclass_args, dataclass_from_args, to_cli_args
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
