"""The `gatedloop` command: one verb per tool, installed as a console script."""

import subprocess
import sys
from pathlib import Path

import yaml
from conftest import REPO

GATEDLOOP = str(Path(sys.executable).with_name("gatedloop"))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([GATEDLOOP, *args], capture_output=True, text=True, timeout=120)


def test_without_a_verb_it_lists_every_verb():
    result = run()
    assert result.returncode == 0
    assert all(verb in result.stdout for verb in ("check-config", "estimate", "findings"))


def test_an_unknown_verb_is_named_with_the_verbs_there_are():
    result = run("train")
    assert result.returncode != 0 and "'train'" in result.stderr and "check-config" in result.stderr


def test_a_verb_runs_its_tool_with_the_remaining_arguments(tmp_path):
    good = run("check-config", str(REPO / "config" / "config.yaml"))
    assert good.returncode == 0 and "valid:" in good.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("rounds: many\n")
    refused = run("check-config", str(bad))
    assert refused.returncode != 0 and "rounds" in refused.stderr


def test_check_config_prints_the_schema_with_every_gates_options():
    result = run("check-config", "--schema")
    assert result.returncode == 0, result.stderr
    schema = yaml.safe_load(result.stdout)
    perplexity = schema["properties"]["gate_options"]["properties"]["perplexity"]["properties"]
    keep_fraction = perplexity["keep_fraction"]
    assert keep_fraction["type"] == "number" and "(default: 0.25)" in keep_fraction["description"]
    assert schema["properties"]["score"]["properties"]["livecodebench"]["properties"]["timeout_s"]["default"] == 6
    assert run("check-config").returncode != 0
