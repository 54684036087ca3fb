"""Variant arms (``<gate>@<label>``): one gate with settings of its own as an arm of the same sweep."""

import json
import re

import pytest
import yaml
from conftest import REPO, SCHEMA
from workflow_runs import planned_jobs, snakemake

from gatedloop.core.config import ConfigError, arm_options, gate_options_for, validate_config


def _config(**changes) -> dict:
    config = yaml.safe_load((REPO / "config/integration.yaml").read_text())
    config.update(changes)
    return config


def test_a_variant_takes_its_gates_options_with_its_own_on_top():
    config = validate_config(_config(
        gates=["none", "compile", "compile@noise10", "perplexity", "perplexity@half"],
        gate_options={"compile": {"noise": 0.05}, "compile@noise10": {"noise": 0.1},
                      "perplexity": {"keep_fraction": 0.25}, "perplexity@half": {"keep_fraction": 0.5}}), SCHEMA)
    assert arm_options(config, "compile") == {"noise": 0.05}
    assert arm_options(config, "compile@noise10") == {"noise": 0.1}
    assert arm_options(config, "perplexity@half") == {"keep_fraction": 0.5}
    assert gate_options_for(config, "tiny", "perplexity@half") == {"keep_fraction": 0.5}


@pytest.mark.parametrize(("gates", "gate_options", "expected"), [
    (["compile@"], {}, r"gates\[0\]': unknown gate 'compile@'"),
    (["nogate@x"], {}, r"gates\[0\]': unknown gate 'nogate@x'"),
    (["none", "reference@x"], {}, r"gates\[1\]': 'reference@x': the control arm has no variants"),
    (["compile@n"], {"compile@n": {"keep_fraction": 0.5}}, r"gate_options\.compile@n.*keep_fraction"),
    (["perplexity@p"], {"perplexity@p": {"noise": 0.1}}, r"gate_options\.perplexity@p\.noise': decision noise"),
    (["compile"], {"nogate@x": {}}, r"gate_options': unknown gate 'nogate@x'.*<gate>@<label>"),
])
def test_a_bad_variant_is_named(gates, gate_options, expected):
    with pytest.raises(ConfigError, match=expected):
        validate_config(_config(gates=gates, gate_options=gate_options), SCHEMA)


def test_variant_arms_are_planned_as_arms_with_their_own_settings(tmp_path):
    config = _config(gates=["none", "compile", "compile@noise20", "perplexity", "perplexity@half"],
                     gate_options={"compile@noise20": {"noise": 0.2}, "perplexity": {"keep_fraction": 0.25},
                                   "perplexity@half": {"keep_fraction": 0.5}})
    path = tmp_path / "arms.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path / "run", "-n", "-p", configfile=path)
    jobs = planned_jobs(result)
    # every arm fine-tunes its own chain (2 rounds), the control arm included
    assert jobs["finetune"] == 6 * 2
    text = result.stdout
    noisy = [line for line in text.splitlines() if "gatedloop.gate " in line and "/compile@noise20/" in line]
    plain = [line for line in text.splitlines() if "gatedloop.gate " in line and "/compile/" in line]
    assert noisy and all("--noise-seed" in line and '"noise": 0.2' in line for line in noisy)
    assert plain and not any("--noise-seed" in line for line in plain)
    # the variant of a self-gate is scored by the rule that gets a model, with its own keep fraction
    halves = [line for line in text.splitlines() if "gatedloop.gate " in line and "/perplexity@half/" in line]
    assert halves and all(json.loads(re.search(r"--options '(\{.*?\})'", line)[1])["keep_fraction"] == 0.5
                          for line in halves)
    assert all("--model" in line for line in halves)
