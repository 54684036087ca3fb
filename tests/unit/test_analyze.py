"""Spectral statistics on matrices with known spectra, diversity metrics on crafted sets, and the analysis CLI on a
real (tiny) transformers model."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from gatedloop import analyze
from gatedloop.analyze import (
    bootstrap_statistics,
    compression_ratio,
    covariance_eigenvalues,
    distinct_n,
    diversity,
    entropy_bits,
    imported_modules,
    layer_indices,
    spectral_analysis,
    spectral_statistics,
)


def test_statistics_of_a_known_spectrum():
    stats = spectral_statistics([1.0, 4.0, 2.0, 1.0], top_k=2)  # any order
    assert stats["lambda1_over_lambda2"] == pytest.approx(2.0)
    assert stats["topk_share"] == pytest.approx(6 / 8)
    p = np.array([4, 2, 1, 1]) / 8
    assert stats["effective_rank"] == pytest.approx(math.exp(-(p * np.log(p)).sum()))
    assert stats["participation_ratio"] == pytest.approx(64 / 22)


def test_a_flat_spectrum_has_full_rank_and_a_spike_has_rank_one():
    flat = spectral_statistics([3.0] * 8, top_k=1)
    assert flat["effective_rank"] == pytest.approx(8) and flat["participation_ratio"] == pytest.approx(8)
    assert flat["lambda1_over_lambda2"] == pytest.approx(1)
    spike = spectral_statistics([5.0, 0.0, 0.0], top_k=1)
    assert spike["effective_rank"] == pytest.approx(1) and spike["topk_share"] == 1
    assert spike["lambda1_over_lambda2"] == math.inf
    with pytest.raises(ValueError, match="do not vary"):
        spectral_statistics([0.0, 0.0])


def _moments(x, groups):
    counts = np.array([len(g) for g in np.array_split(x, groups)], dtype=float)
    firsts = np.stack([g.sum(0) for g in np.array_split(x, groups)])
    seconds = np.stack([g.T @ g for g in np.array_split(x, groups)])
    return counts, firsts, seconds


def test_eigenvalues_from_moments_equal_numpy_and_recover_a_known_covariance():
    rng = np.random.default_rng(0)
    rotation, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    x = rng.normal(size=(20000, 4)) * np.sqrt([9.0, 4.0, 1.0, 0.25]) @ rotation.T + 3.0
    counts, firsts, seconds = _moments(x, 10)
    ours = covariance_eigenvalues(counts.sum(), firsts.sum(0), seconds.sum(0))
    np.testing.assert_allclose(ours, np.linalg.eigvalsh(np.cov(x.T, bias=True))[::-1], rtol=1e-9)
    np.testing.assert_allclose(ours, [9.0, 4.0, 1.0, 0.25], rtol=0.05)


def test_the_bootstrap_interval_covers_the_value_and_narrows_with_data():
    rng = np.random.default_rng(1)
    small = rng.normal(size=(400, 6)) * np.sqrt([6, 3, 1, 1, 1, 1])
    large = rng.normal(size=(40000, 6)) * np.sqrt([6, 3, 1, 1, 1, 1])
    a = bootstrap_statistics(*_moments(small, 40), top_k=2, reps=100, seed=0)["lambda1_over_lambda2"]
    b = bootstrap_statistics(*_moments(large, 40), top_k=2, reps=100, seed=0)["lambda1_over_lambda2"]
    assert a["low"] <= a["value"] <= a["high"] and b["low"] <= b["value"] <= b["high"]
    assert b["std"] < a["std"] / 3
    assert b["value"] == pytest.approx(2.0, rel=0.05)
    none = bootstrap_statistics(*_moments(small, 40), top_k=2, reps=0, seed=0)["lambda1_over_lambda2"]
    assert none["std"] == 0 and none["low"] == none["value"] == none["high"]


def _all_at_once(counts, firsts, seconds, reps, seed):
    """The former bootstrap: every resample's covariance materialised at once (reps x d x d)."""
    groups, width = firsts.shape
    rng = np.random.default_rng(seed)
    weights = np.stack([np.bincount(rng.integers(0, groups, groups), minlength=groups) for _ in range(reps)])
    n = weights @ counts
    means = (weights @ firsts) / n[:, None]
    covariances = (weights @ seconds.reshape(groups, -1)).reshape(reps, width, width) / n[:, None, None]
    covariances -= means[:, :, None] * means[:, None, :]
    return [spectral_statistics(v, 2) for v in np.linalg.eigvalsh((covariances + covariances.transpose(0, 2, 1)) / 2)]


def test_the_bootstrap_in_chunks_equals_every_resample_at_once(monkeypatch):
    rng = np.random.default_rng(2)
    moments = _moments(rng.normal(size=(3000, 12)) * np.sqrt(np.arange(1, 13)), 30)
    reference = _all_at_once(*moments, reps=50, seed=4)
    for name in ("lambda1_over_lambda2", "effective_rank"):
        values = [r[name] for r in reference]
        monkeypatch.setattr(analyze, "BOOTSTRAP_BUDGET", 12 * 12 * 7)  # 7 resamples per chunk: 8 chunks
        chunked = bootstrap_statistics(*moments, top_k=2, reps=50, seed=4)[name]
        assert chunked["std"] == pytest.approx(np.std(values), rel=1e-9)
        assert chunked["low"] == pytest.approx(np.quantile(values, 0.025), rel=1e-9)
        assert chunked["high"] == pytest.approx(np.quantile(values, 0.975), rel=1e-9)


def test_hidden_state_moments_equal_the_moments_of_every_token(tiny_model_dir):
    from gatedloop.models.loading import load_model, load_tokenizer

    model, tokenizer = load_model(tiny_model_dir), load_tokenizer(tiny_model_dir)
    texts = PROBE * 3
    counts, firsts, seconds = analyze.hidden_state_moments(model, tokenizer, texts, {"last": 2}, 64,
                                                           batch_size=4)["last"]
    vectors = []
    for text in texts:
        ids = torch.tensor([tokenizer(text, add_special_tokens=False).input_ids[:64]])
        with torch.inference_mode():
            vectors.append(model.base_model(input_ids=ids, output_hidden_states=True).hidden_states[2][0].double())
    x = torch.cat(vectors).numpy()
    assert counts.sum().item() == len(x)
    np.testing.assert_allclose(firsts.sum(0).numpy(), x.sum(0), rtol=1e-4, atol=1e-4)  # float32 states, padded or not
    np.testing.assert_allclose(seconds.sum(0).numpy(), x.T @ x, rtol=1e-4, atol=1e-4)


def test_layer_names():
    assert layer_indices(["middle", "last", "0", "2"], 4) == {"middle": 2, "last": 4, "layer0": 0, "layer2": 2}
    with pytest.raises(ValueError, match="layer 'top'"):
        layer_indices(["top"], 4)


def test_diversity_metrics_on_crafted_sets():
    same = [{"prompt": "def f(x):\n", "completion": "    return x + 1\n"}] * 20
    varied = [{"prompt": "def f(x):\n", "completion": f"    import m{i}\n    y{i} = x * {i}\n    return y{i} - {i}\n"}
              for i in range(20)]
    d_same, d_varied = diversity(same, ns=(1, 2)), diversity(varied, ns=(1, 2))
    assert d_same["distinct_1"] == pytest.approx(4 / 80) and d_same["distinct_2"] == pytest.approx(3 / 60)
    assert d_varied["distinct_2"] > d_same["distinct_2"]
    assert d_same["compression_ratio"] < d_varied["compression_ratio"]
    assert d_same["unique_identifiers"] == 1 and d_varied["unique_identifiers"] == 1 + 20 + 20  # x, y_i, m_i
    assert d_same["unique_imports"] == 0 and d_varied["unique_imports"] == 20
    assert d_same["parse_rate"] == 1 and d_varied["ast_node_entropy"] > d_same["ast_node_entropy"] > 0
    broken = diversity([{"prompt": "def f(x):\n", "completion": "    return (\n"}])
    assert broken["parse_rate"] == 0 and broken["ast_node_entropy"] is None


def test_small_diversity_pieces():
    assert distinct_n([["a", "b", "a", "b"]], 2) == pytest.approx(2 / 3)
    assert distinct_n([["a"]], 2) is None and compression_ratio([]) is None
    assert entropy_bits({"A": 1, "B": 1}) == pytest.approx(1.0)
    assert imported_modules("import os.path, sys as s\nfrom collections import Counter\nx = 1") == {
        "os", "sys", "collections"}


PROBE = ["def add(a, b):\n    return a + b\n", "def mul(a, b):\n    return a * b\n",
         "class A:\n    def go(self):\n        return [i for i in range(3)]\n", "x = {'k': 1}\nprint(x)\n"]


def test_spectral_analysis_of_a_real_model(tiny_model_dir):
    from transformers import AutoTokenizer

    stats, spectra = spectral_analysis(str(tiny_model_dir), PROBE, ["middle", "last"], max_tokens=64, top_k=3,
                                       reps=20, seed=0)
    tokens = sum(len(AutoTokenizer.from_pretrained(tiny_model_dir)(t, add_special_tokens=False).input_ids)
                 for t in PROBE)
    assert set(stats) == {"middle", "last"} and stats["last"]["n_vectors"] == tokens
    assert len(spectra["last"]) == 32 and spectra["last"] == sorted(spectra["last"], reverse=True)
    assert stats["last"]["lambda1_over_lambda2"]["value"] == pytest.approx(spectra["last"][0] / spectra["last"][1])
    again, _ = spectral_analysis(str(tiny_model_dir), PROBE, ["middle", "last"], 64, 3, 20, 0)
    assert again == stats  # deterministic for a seed


def test_the_cli_writes_statistics_spectra_and_diversity(tiny_model_dir, tmp_path):
    probe, samples = tmp_path / "probe.jsonl", tmp_path / "samples.jsonl"
    probe.write_text("".join(json.dumps({"text": t}) + "\n" for t in PROBE))
    samples.write_text("".join(json.dumps({"id": str(i), "prompt": "def f(x):\n", "completion": f"    return {i}\n"})
                               + "\n" for i in range(5)))
    out, spectrum = tmp_path / "analysis.json", tmp_path / "spectrum.json"
    result = subprocess.run([sys.executable, "-m", "gatedloop.analyze", "--model", str(tiny_model_dir), "--probe",
                             str(probe), "--samples", str(samples), "--base-model", str(tiny_model_dir), "--out",
                             str(out), "--spectrum", str(spectrum), "--bootstrap", "10"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    analysis = json.loads(out.read_text())
    assert analysis["diversity"]["n_samples"] == 5 and analysis["diversity"]["base_perplexity"] > 1
    assert set(json.loads(spectrum.read_text())["layers"]) == {"middle", "last"}
    bad = subprocess.run([sys.executable, "-m", "gatedloop.analyze", "--model", str(tiny_model_dir), "--probe",
                          str(tmp_path / "nope.jsonl"), "--out", str(out), "--spectrum", str(spectrum)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--probe:" in bad.stderr and "is not a file" in bad.stderr
