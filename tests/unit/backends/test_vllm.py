"""The vLLM backend, run for real: on CPU through the third-party `vllm-cpu` build in its own environment
(`make test-vllm` creates .venv-vllm and runs this file there). `make test`'s environment has no vLLM, so there
these tests are skipped.

Parity: for a small trained model, vLLM's greedy completions equal the transformers backend's, token for token
(same prompts, same stop strings, same truncation), and its scores (log-likelihoods, answer-word margins) equal
the transformers backend's within 1e-3."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

if importlib.util.find_spec("vllm") is None:
    pytest.skip("vLLM is not installed here (make test-vllm runs these tests in .venv-vllm)", allow_module_level=True)

os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")  # GiB of KV cache on CPU; vLLM's default is sized for servers

from gatedloop.backends import SamplingParams, open_backend  # noqa: E402
from gatedloop.data import task_families as microtasks  # noqa: E402

PROMPTS = [t.prompt for t in microtasks.all_tasks()[:24]]


@pytest.fixture(scope="module")
def trained_model_dir(tmp_path_factory):
    """A tiny GPT-2 trained for a few hundred steps: peaked next-token distributions, so greedy decoding is not
    decided by float rounding between near-equal logits (as it would be for random weights)."""
    from gatedloop.core.runtime import set_threads
    from gatedloop.models.scratch import train_tokenizer
    from gatedloop.pretrain import ModelShape, PretrainConfig, pretrain

    set_threads(2)
    docs = [{"source": "microtask", "text": t.prompt + t.canonical_solution} for t in microtasks.all_tasks()]
    tokenizer = train_tokenizer([d["text"] for d in docs], vocab_size=512)
    model, _ = pretrain(docs, tokenizer, ModelShape(n_embd=64, n_layer=2, n_head=2, n_positions=256),
                        PretrainConfig(steps=300, batch_size=8, seq_len=128, lr=3e-3, warmup_steps=20))
    model.config.use_cache = True
    out = tmp_path_factory.mktemp("trained") / "model"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


@pytest.fixture(scope="module")
def vllm_backend(trained_model_dir):
    return open_backend("vllm", trained_model_dir, device="cpu")


def test_greedy_completions_equal_the_transformers_backend(trained_model_dir, vllm_backend):
    params = SamplingParams(temperature=0.0, max_new_tokens=48)
    expected = open_backend("transformers", trained_model_dir).generate(PROMPTS, params, seed=0)
    got = vllm_backend.generate(PROMPTS, params, seed=0)
    assert any(text.strip() for text in expected)
    assert got == expected


def test_sampling_is_reproducible_per_seed_and_independent_of_batching(vllm_backend):
    params = SamplingParams(temperature=0.8, top_p=0.95, max_new_tokens=24)
    first = vllm_backend.generate(PROMPTS, params, seed=7)
    assert vllm_backend.generate(PROMPTS, params, seed=7) == first
    assert vllm_backend.generate(PROMPTS[:5], params, seed=7) == first[:5]  # a prompt's seed is its own
    assert vllm_backend.generate(PROMPTS, params, seed=8) != first


def test_completions_stop_at_stop_strings_like_every_backend(vllm_backend):
    params = SamplingParams(temperature=0.0, max_new_tokens=48, stop=["\n"])
    assert all("\n" not in text for text in vllm_backend.generate(PROMPTS, params, seed=0))


def test_the_generate_stage_runs_on_vllm_in_its_own_process(trained_model_dir, tmp_path):
    prompts = tmp_path / "pool.jsonl"
    prompts.write_text("".join(json.dumps({"task_id": f"t{i}", "prompt": p}) + "\n" for i, p in enumerate(PROMPTS)))
    out = tmp_path / "samples.jsonl"
    result = subprocess.run([sys.executable, "-m", "gatedloop.generate", "--model", trained_model_dir, "--prompts",
                             str(prompts), "--out", str(out), "--seed", "3", "--backend", "vllm:max_model_len=256",
                             "--device", "cpu", "--threads", "2", "--max-new-tokens", "16"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["prompt_id"] for r in rows] == [f"t{i}" for i in range(len(PROMPTS))]


def test_scores_on_vllm_equal_the_transformers_backends(trained_model_dir, vllm_backend):
    """The self-gates' scores (``scorer: vllm``): log-likelihoods of completions and answer-word margins."""
    tasks = microtasks.all_tasks()[:12]
    requests = [(t.prompt, t.canonical_solution if i % 2 else "\n    return 0\n") for i, t in enumerate(tasks)]
    reference = open_backend("transformers", trained_model_dir)
    expected, got = reference.loglikelihood(requests, 4), vllm_backend.loglikelihood(requests, 4)
    assert [r.n_tokens for r in got] == [r.n_tokens for r in expected]
    assert [r.mean_logprob for r in got] == pytest.approx([r.mean_logprob for r in expected], abs=1e-3)
    for mine, reference_score in zip(got, expected, strict=True):
        assert mine.logprob == pytest.approx(reference_score.logprob, abs=1e-3 * reference_score.n_tokens)
    yes, no = 42, 43  # any two token ids: the margin is a difference of their logits
    texts = [prompt + completion + "\n# Correct?" for prompt, completion in requests]
    expected_margins = reference.next_token_margin(texts, yes, no, 4)
    assert vllm_backend.next_token_margin(texts, yes, no, 4) == pytest.approx(expected_margins, abs=1e-3)
