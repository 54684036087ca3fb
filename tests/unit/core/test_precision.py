"""Precision and per-model batch sizes: 'auto' is float32 on CPU and bfloat16 on CUDA, a bf16 model stays bf16
through fine-tuning and merging, bf16 loads and runs on CPU, and a model's own batch sizes reach its jobs only."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from conftest import REPO
from finetune_rounds import run_cli, two_rounds, write_round
from workflow_runs import shell_commands, snakemake

from gatedloop.backends import SamplingParams, open_backend
from gatedloop.core.runtime import resolve_dtype
from gatedloop.models.loading import load_model, saved_dtype


def test_auto_is_float32_on_cpu_and_bfloat16_on_a_cuda_device_that_has_it(monkeypatch):
    assert resolve_dtype("auto", "cpu") == "float32"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert resolve_dtype("auto", "cuda") == resolve_dtype("auto", "cuda:1") == "bfloat16"
    assert resolve_dtype("auto", "cpu") == "float32"  # a CPU job on a GPU node stays float32
    assert resolve_dtype("float32", "cuda") == "float32"  # an explicit choice is kept
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)  # e.g. a V100
    assert resolve_dtype("auto", "cuda") == "float32"
    with pytest.raises(ValueError, match="dtype 'fp8'"):
        resolve_dtype("fp8", "cpu")


def test_the_default_loads_float32_on_cpu(tiny_model_dir):
    assert load_model(tiny_model_dir).dtype == torch.float32
    assert open_backend("transformers", str(tiny_model_dir)).model.dtype == torch.float32


@pytest.fixture(scope="module")
def bf16_model_dir(tiny_model_dir, tmp_path_factory):
    """The tiny model stored in bfloat16, as CodeLlama-7B and most hub models are."""
    out = tmp_path_factory.mktemp("bf16") / "model"
    model = load_model(tiny_model_dir).to(torch.bfloat16)
    model.save_pretrained(out)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (tiny_model_dir / name).exists():
            shutil.copy(tiny_model_dir / name, out / name)
    return out


def weight_dtypes(model_dir) -> set[str]:
    from safetensors import safe_open

    with safe_open(str(model_dir / "model.safetensors"), "pt") as weights:
        return {str(weights.get_slice(name).get_dtype()) for name in weights.keys()}  # noqa: SIM118


def test_a_bf16_model_fine_tuned_on_cpu_is_merged_and_saved_in_bf16(bf16_model_dir, tmp_path):
    assert saved_dtype(bf16_model_dir) == "bfloat16" and weight_dtypes(bf16_model_dir) == {"BF16"}
    write_round(tmp_path, accepted=lambda i: True)
    stats = run_cli(tmp_path, bf16_model_dir)  # auto on CPU: trained in float32
    assert stats["dtype"] == "float32" and not stats["skipped"]
    merged = tmp_path / "model"
    assert weight_dtypes(merged) == {"BF16"} and saved_dtype(merged) == "bfloat16"
    assert (merged / "model.safetensors").stat().st_size <= (bf16_model_dir / "model.safetensors").stat().st_size
    before, after = load_model(bf16_model_dir).state_dict(), load_model(merged).state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)  # the LoRA delta survived the cast


def test_a_float32_model_stays_float32(tiny_model_dir, tmp_path):
    write_round(tmp_path, accepted=lambda i: True)
    run_cli(tmp_path, tiny_model_dir)
    assert weight_dtypes(tmp_path / "model") == {"F32"}


def test_bf16_loads_generates_and_scores_on_cpu(tiny_model_dir):
    backend = open_backend("transformers", str(tiny_model_dir), device="cpu", dtype="bfloat16")
    assert backend.model.dtype == torch.bfloat16
    completions = backend.generate(["def f(x):\n", "def g(y):\n"], SamplingParams(max_new_tokens=8), seed=0)
    assert len(completions) == 2 and all(isinstance(c, str) for c in completions)
    (scored,) = backend.loglikelihood([("def f(x):\n", "    return x\n")], batch_size=4)
    (full,) = open_backend("transformers", str(tiny_model_dir)).loglikelihood([("def f(x):\n", "    return x\n")])
    assert scored.n_tokens == full.n_tokens
    assert scored.mean_logprob == pytest.approx(full.mean_logprob, abs=0.1)  # bf16 rounding, not another computation




def test_a_models_own_batch_sizes_reach_its_jobs_only(tmp_path):
    config = yaml.safe_load((REPO / "config/integration.yaml").read_text())
    config["models"]["big"] = {**config["models"]["tiny"],
                               "batch_sizes": {"generate": 7, "score": 9, "audit": 11, "gate": 5, "analyze": 13,
                                                               "finetune": 2}}
    config["finetune"]["batch_size"] = 4
    config["dtype"] = "bfloat16"
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path / "run", "-n", "-p", configfile=path)
    assert result.returncode == 0, result.stderr[-3000:]
    expected = {"generate": "--batch-size 7", "generate_shared": "--batch-size 7", "score": "--batch-size 9",
                "score_base": "--batch-size 9", "audit": "--batch-size 11", "audit_generations_base": "--batch-size 11",
                "analyze": "--batch-size 13", "analyze_base": "--batch-size 13"}
    defaults = {"generate": "--batch-size 64", "score": "--batch-size 64", "audit": "--batch-size 64"}
    for rule, flag in expected.items():
        commands = shell_commands(result, rule)
        big = [c for c in commands if "/big/" in c]
        tiny = [c for c in commands if "/tiny/" in c]
        assert big and tiny, rule
        assert all(flag in c for c in big) and not any(flag in c for c in tiny), rule
        default = defaults.get(rule.removesuffix("_shared").removesuffix("_base").removesuffix("_generations"))
        if default:
            assert all(default in c for c in tiny), rule
    gates = shell_commands(result, "gate")
    options = {c: json.loads(re.search(r"--options '(\{.*?\})'", c)[1]) for c in gates}
    assert options and all(o["dtype"] == "bfloat16" for o in options.values())
    assert all(o.get("batch_size") == 5 for c, o in options.items() if "/big/" in c)
    assert all("batch_size" not in o for c, o in options.items() if "/tiny/" in c)
    model_jobs = [c for rule in ("generate", "score", "finetune", "analyze") for c in shell_commands(result, rule)]
    assert model_jobs and all("--dtype bfloat16" in c for c in model_jobs)
    assert all("batch_size" not in c and "dtype" not in c for c in shell_commands(result, "gate_human"))
    # fine-tuning: the model's own per-step batch, accumulated to the configured effective batch (4 x 1)
    finetunes = shell_commands(result, "finetune")
    assert all("--batch-size 2 " in c and "--grad-accum 2 " in c for c in finetunes if "/big/" in c)
    assert all("--batch-size 4 " in c and "--grad-accum" not in c for c in finetunes if "/tiny/" in c)


@pytest.mark.parametrize("trained_in", ["float32", "bfloat16"])
def test_an_adapter_chain_of_a_bf16_model_equals_its_kept_merged_weights_in_any_precision(bf16_model_dir, tmp_path,
                                                                                           trained_in):
    """Fine-tuning merges in the precision it ran in (float32 on a CPU, bf16 on a GPU) and saves in the base's
    bf16; a chain, loaded in float32 or bf16, rounds each merge to bf16 as that save did: the same weights."""
    merged = two_rounds(tmp_path / "merged", bf16_model_dir, "--dtype", trained_in)
    chain = two_rounds(tmp_path / "chain", bf16_model_dir, "--dtype", trained_in, "--adapter-chain")
    for loaded_in in ("float32", "bfloat16"):
        kept = load_model(merged, dtype=loaded_in).state_dict()
        rebuilt = load_model(chain, dtype=loaded_in).state_dict()
        assert all(torch.equal(kept[k], rebuilt[k]) for k in kept), (trained_in, loaded_in)


def test_the_merged_copy_an_engine_loads_is_in_the_stored_dtype_and_is_removed_after(bf16_model_dir, tmp_path,
                                                                                      monkeypatch):
    """vLLM reads weight files: a chain is merged into node-local temporary space (SLURM_TMPDIR where set), in the
    base's bf16 (a float32 copy of CodeLlama-7B would be 27 GB), with the chain's weights, and removed afterwards."""
    from gatedloop.models.loading import weights_dir

    chain = two_rounds(tmp_path / "chain", bf16_model_dir, "--adapter-chain")
    scratch = tmp_path / "node-local"
    scratch.mkdir()
    monkeypatch.setenv("SLURM_TMPDIR", str(scratch))
    with weights_dir(chain) as merged:
        assert Path(merged).parent == scratch
        assert weight_dtypes(Path(merged)) == {"BF16"} and saved_dtype(merged) == "bfloat16"
        copy, rebuilt = load_model(merged).state_dict(), load_model(chain).state_dict()
        assert all(torch.equal(copy[k], rebuilt[k]) for k in copy)
    assert not any(scratch.iterdir())
    with weights_dir(bf16_model_dir) as same:  # merged weights kept: the directory itself
        assert same == str(bf16_model_dir)
