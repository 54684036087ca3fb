"""Answer words per model: a word that is two tokens of a configured model's tokenizer is refused at validation,
before any job; a model's own words reach only that model's gate jobs."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SCHEMA

from gatedloop.core.config import ConfigError, gate_options_for, validate_config

CONFIG = REPO / "config" / "config.yaml"


def with_llama(tiny_llama_dir, gates=("none", "binary", "cross"), words=None) -> dict:
    """The embedded default plus a local Llama-style model (whose tokenizer splits ' yes')."""
    config = yaml.safe_load(CONFIG.read_text())
    config["models"]["llama"] = {"source": "local", "path": str(tiny_llama_dir)}
    if words is not None:
        config["models"]["llama"]["gate_options"] = words
    config["gates"] = list(gates)
    config["gate_options"]["binary"] = {"keep_fraction": 0.25}  # the default words: " yes" / " no"
    return config


def snakemake(workdir: Path, configfile: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(configfile), "--cores", "1", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)


def test_a_two_token_answer_word_is_refused_naming_model_gate_key_and_tokens(tiny_llama_dir):
    with pytest.raises(ConfigError) as err:
        validate_config(with_llama(tiny_llama_dir, gates=("none", "binary")), SCHEMA)
    message = str(err.value)
    assert "config key 'gate_options.binary.yes_word': gate 'binary' of model 'llama'" in message
    assert "' yes' is 2 tokens [' y', 'es']" in message and "models.llama.gate_options.binary.yes_word" in message


def test_a_per_model_override_validates_and_applies_to_that_model_only(tiny_llama_dir):
    words = {"binary": {"yes_word": " good", "no_word": " bad"}, "cross": {"yes_word": " True", "no_word": " False"}}
    config = validate_config(with_llama(tiny_llama_dir, words=words), SCHEMA)
    assert gate_options_for(config, "llama", "binary") == {"keep_fraction": 0.25, "yes_word": " good",
                                                           "no_word": " bad"}
    assert gate_options_for(config, "tiny", "binary") == {"keep_fraction": 0.25}
    assert gate_options_for(config, "tiny", "cross") == config["gate_options"]["cross"]
    # the override's own word is checked too, and named by its key
    bad = {"binary": {"yes_word": " yes", "no_word": " bad"}, "cross": words["cross"]}
    with pytest.raises(ConfigError, match=r"config key 'models.llama.gate_options.binary.yes_word': gate 'binary'"):
        validate_config(with_llama(tiny_llama_dir, words=bad), SCHEMA)


def test_per_model_options_are_only_answer_words_and_template_of_asking_gates(tiny_llama_dir):
    with pytest.raises(ConfigError, match=r"models.llama.gate_options.compile': per-model options are for the gates"):
        validate_config(with_llama(tiny_llama_dir, words={"compile": {"yes_word": " ok"}}), SCHEMA)
    with pytest.raises(ConfigError, match=r"config key 'models.llama.gate_options.binary': Additional properties"):
        validate_config(with_llama(tiny_llama_dir, words={"binary": {"keep_fraction": 0.5}}), SCHEMA)
    with pytest.raises(ConfigError, match=r"'models.llama.gate_options.binary.template': the template may use"):
        validate_config(with_llama(tiny_llama_dir, words={"binary": {"template": "{code} ok?", "yes_word": " good",
                                                                      "no_word": " bad"}}), SCHEMA)


def test_a_cross_reviewer_answers_with_its_own_words(tiny_llama_dir):
    """cross reviewed by the Llama model: the Llama's words, whichever model is trained."""
    config = with_llama(tiny_llama_dir, gates=("none", "cross"), words={"cross": {"yes_word": " good",
                                                                               "no_word": " bad"}})
    config["gate_options"]["cross"] = {"reviewer": "llama", "yes_word": " True", "no_word": " False"}
    validated = validate_config(config, SCHEMA)
    assert gate_options_for(validated, "tiny", "cross")["yes_word"] == " good"
    config["models"]["llama"].pop("gate_options")
    config["gate_options"]["cross"]["yes_word"] = " yes"
    with pytest.raises(ConfigError, match=r"gate 'cross' of model 'tiny': ' yes' is 2 tokens .* of model 'llama'"):
        validate_config(config, SCHEMA)


def test_the_dry_run_fails_before_any_job_and_leaves_no_results(tiny_llama_dir, tmp_path):
    path = tmp_path / "llama.yaml"
    path.write_text(yaml.safe_dump(with_llama(tiny_llama_dir)))
    result = snakemake(tmp_path / "run", path, "-n")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "gate 'binary' of model 'llama': ' yes' is 2 tokens [' y', 'es']" in output, output[-3000:]
    assert not (tmp_path / "run" / "results").exists()


def test_a_models_words_reach_only_its_gate_jobs(tiny_llama_dir, tmp_path):
    words = {"binary": {"yes_word": " good", "no_word": " bad"}, "cross": {"yes_word": " True", "no_word": " False"}}
    path = tmp_path / "llama.yaml"
    path.write_text(yaml.safe_dump(with_llama(tiny_llama_dir, words=words)))
    targets = [f"results/runs/{m}/binary/replace/seed0/round1/decisions.jsonl" for m in ("tiny", "llama")]
    result = snakemake(tmp_path / "run", path, "-n", "-p", "--forceall", *targets)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    options = {}
    for line in output.splitlines():
        match = re.search(r"gatedloop\.gate --gate binary --samples results/runs/(\w+)/.* --options '(\{.*?\})'", line)
        if match:
            options[match[1]] = yaml.safe_load(match[2])
    assert options["llama"] == {"keep_fraction": 0.25, "yes_word": " good", "no_word": " bad", "dtype": "auto"}
    assert options["tiny"] == {"keep_fraction": 0.25, "dtype": "auto"}  # the gate-level options alone
