"""Per-round analysis: the spectrum of the round model's hidden states on a fixed probe set of human-written code,
and the diversity of the round's generated code.

CLI: ``python -m gatedloop.analyze --model DIR --probe probe.jsonl --out analysis.json --spectrum spectrum.json
[--samples samples.jsonl --base-model DIR] [--layers middle last] [--max-tokens 128] [--top-k 5] [--bootstrap 200]
[--distinct-n 1 2 4] [--batch-size 32] [--dtype auto] [--seed S] [--threads N]``.

Spectral: token-level hidden states (every non-padding token of every probe snippet, not one mean-pooled vector per
snippet: those were too few for a stable estimate) at each layer; the covariance's eigenvalues, and from them
lambda1/lambda2 (the study's statistic), the top-k eigenvalue share, the effective rank (exp of the entropy of the
normalised spectrum) and the participation ratio ((sum l)^2 / sum l^2). The spread is a bootstrap over probe
snippets (resampling snippets, not tokens, since tokens of one snippet are not independent), computed from
per-group moments so each resample costs one eigendecomposition. Moments and resamples stay on the model's device
(a GPU's batched float64 eigendecomposition, not hundreds of single-threaded ones on the host), and resamples are
formed a chunk at a time: memory is bounded by MOMENT_BUDGET + BOOTSTRAP_BUDGET whatever the hidden width.

Diversity (the samples of round r, written by the round r-1 model): distinct-n over code tokens, the zlib
compression ratio, the entropy of AST node types in the completions, the numbers of unique identifiers and imported
modules, and the perplexity of the completions under the round-0 model.
"""

from __future__ import annotations

import argparse
import ast
import keyword
import math
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gatedloop.core.io import read_jsonl, write_json
from gatedloop.core.options import add_dataclass_args
from gatedloop.core.provenance import environment
from gatedloop.core.runtime import DTYPES, set_threads
from gatedloop.core.text import code_tokens
from gatedloop.engine.warm import run_cli

if TYPE_CHECKING:
    import numpy as np

IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w., ]+))", re.M)
MOMENT_BUDGET = 250_000_000  # float64 entries kept for the bootstrap's per-group second moments (~2 GB)
BOOTSTRAP_BUDGET = 32_000_000  # float64 entries of resampled covariances formed at once (~256 MB)


@dataclass
class AnalysisSettings:
    """The analysis settings the workflow passes from the config (section analysis)."""

    layers: list[str] = field(default_factory=lambda: ["middle", "last"])  # last, middle, first, embeddings, index
    max_tokens: int = 128
    top_k: int = 5
    bootstrap: int = 200
    distinct_n: list[int] = field(default_factory=lambda: [1, 2, 4])


# ---------------------------------------------------------------- spectral statistics (pure functions)

def spectral_statistics(eigenvalues: Sequence[float], top_k: int = 5) -> dict[str, float]:
    """Statistics of a covariance spectrum (any order; negative round-off clipped to 0)."""
    import numpy as np

    values = np.sort(np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None))[::-1]
    total = values.sum()
    if total <= 0:
        raise ValueError("the covariance is zero: the hidden states do not vary")
    shares = values / total
    nonzero = shares[shares > 0]
    return {"lambda1_over_lambda2": float(values[0] / values[1]) if values[1] > 0 else math.inf,
            "topk_share": float(shares[:top_k].sum()),
            "effective_rank": float(math.exp(-(nonzero * np.log(nonzero)).sum())),
            "participation_ratio": float(total**2 / (values**2).sum())}


def covariance_eigenvalues(count, first, second) -> np.ndarray:
    """Eigenvalues (descending) of the covariance from moments: count, sum of x, sum of x x^T (numpy arrays or
    torch tensors; computed in float64 where the moments are)."""
    import torch

    first, second = torch.as_tensor(first), torch.as_tensor(second)
    return _eigenvalues(torch.as_tensor(count, dtype=torch.float64).reshape(1), first[None], second[None])[0]


def _eigenvalues(n, firsts, seconds) -> np.ndarray:
    """Descending eigenvalues of the covariances of a batch of moments: n (b,), firsts (b, d), seconds (b, d, d)."""
    import torch

    means = firsts / n[:, None]
    covariances = seconds / n[:, None, None] - means[:, :, None] * means[:, None, :]
    values = torch.linalg.eigvalsh((covariances + covariances.mT) / 2)
    return values.flip(-1).cpu().numpy()


def resampled_eigenvalues(weights: np.ndarray, counts, firsts, seconds):
    """Eigenvalues of each resample's covariance (one row of ``weights``: how often each group is drawn), formed
    BOOTSTRAP_BUDGET entries at a time on the moments' device instead of reps x d x d at once (4.3 GB at width
    1024, ~56 GB at 4096)."""
    import torch

    groups, width = firsts.shape
    flat = seconds.reshape(groups, -1)
    chunk = max(1, BOOTSTRAP_BUDGET // (width * width))
    for start in range(0, len(weights), chunk):
        w = torch.as_tensor(weights[start : start + chunk], dtype=torch.float64, device=firsts.device)
        yield from _eigenvalues(w @ counts, w @ firsts, (w @ flat).reshape(len(w), width, width))


def bootstrap_statistics(counts, firsts, seconds, top_k: int, reps: int, seed: int) -> dict[str, dict]:
    """Point estimate, bootstrap std and 95% interval of each statistic, resampling groups of snippets. The moments
    (numpy arrays or torch tensors, float64) stay where they are: on a GPU, so do the eigendecompositions."""
    import numpy as np
    import torch

    from gatedloop.core.stats import percentile_interval, resample_counts

    counts, firsts, seconds = (torch.as_tensor(x, dtype=torch.float64) for x in (counts, firsts, seconds))
    point = spectral_statistics(covariance_eigenvalues(counts.sum(), firsts.sum(0), seconds.sum(0)), top_k)
    draws: dict[str, list[float]] = {name: [] for name in point}
    if reps:
        weights = resample_counts(np.random.default_rng(seed), len(counts), reps)
        for eigenvalues in resampled_eigenvalues(weights, counts, firsts, seconds):
            for name, value in spectral_statistics(eigenvalues, top_k).items():
                draws[name].append(value)
    out = {}
    for name, value in point.items():
        sample = np.asarray(draws[name]) if reps else np.asarray([value])
        low, high = percentile_interval(sample)
        out[name] = {"value": value, "std": float(sample.std()), "low": low, "high": high}
    return out


# ---------------------------------------------------------------- hidden states

def layer_indices(names: Sequence[str], n_layers: int) -> dict[str, int]:
    """'last', 'middle', 'first' or an integer -> an index into hidden_states (0 is the embeddings)."""
    named = {"last": n_layers, "middle": max(1, n_layers // 2), "first": 1, "embeddings": 0}
    out = {}
    for name in names:
        if name in named:
            out[name] = named[name]
        elif str(name).isdigit() and 0 <= int(name) <= n_layers:
            out[f"layer{int(name)}"] = int(name)
        else:
            raise ValueError(f"layer {name!r}: use last, middle, first, embeddings or 0..{n_layers}")
    return out


def hidden_state_moments(model, tokenizer, texts: list[str], layers: dict[str, int], max_tokens: int,
                         batch_size: int = 32) -> dict[str, tuple]:
    """Per layer: (counts, sums, second moments) as float64 tensors on the model's device, one entry per group of
    snippets (see MOMENT_BUDGET). Each group's second moment grows by one (tokens x d)^T (tokens x d) product at a
    time, never a batch x d x d array. The transformer body runs without its language-model head: the hidden
    states are all we need. Each snippet is encoded as a text on its own (gatedloop.core.encoding): a tokenizer's
    BOS goes in front, as the model always saw it, but its position is left out of the moments (the same token in
    every snippet, an attention sink with outsized states); ``max_tokens`` counts the snippet's own tokens."""
    import torch

    from gatedloop.core.encoding import TextEncoder
    from gatedloop.models.loading import padded_batches

    width = model.config.hidden_size
    groups = max(2, min(len(texts), MOMENT_BUDGET // (width * width * max(1, len(layers)))))
    zeros = {"dtype": torch.float64, "device": model.device}
    moments = {name: (torch.zeros(groups, **zeros), torch.zeros(groups, width, **zeros),
                      torch.zeros(groups, width, width, **zeros)) for name in layers}
    encoder = TextEncoder(tokenizer)
    n_lead = len(encoder.leading)
    encoded = [encoder.leading + encoder.plain(text)[:max_tokens] for text in texts]
    body = getattr(model, "base_model", model)
    start = 0
    for chunk, ids, mask in padded_batches(encoded, batch_size, tokenizer.pad_token_id):
        with torch.inference_mode():
            states = body(input_ids=ids.to(model.device), attention_mask=mask.to(model.device),
                          output_hidden_states=True).hidden_states
        counted = mask.clone()
        counted[:, :n_lead] = 0
        keep = counted.to(device=model.device, dtype=torch.float64)[:, :, None]
        group_of = torch.arange(start, start + len(chunk)) % groups
        for name, index in layers.items():
            counts, firsts, seconds = moments[name]
            vectors = states[index].to(torch.float64) * keep  # padding (and BOS) rows become zero
            for group in group_of.unique().tolist():
                rows = vectors[group_of == group].reshape(-1, width)
                counts[group] += keep[group_of == group].sum()
                firsts[group] += rows.sum(0)
                seconds[group] += rows.T @ rows
        start += len(chunk)
    return moments


def spectral_analysis(model_dir: str, texts: list[str], layer_names: Sequence[str], max_tokens: int, top_k: int,
                      reps: int, seed: int, batch_size: int = 32, dtype: str = "auto") -> tuple[dict, dict]:
    """(statistics per layer, eigenvalues per layer) of the model's hidden states on ``texts``."""
    from gatedloop.core.runtime import device_for
    from gatedloop.models.loading import load_model, load_tokenizer

    if len(texts) < 2:
        raise ValueError("the probe set needs at least 2 snippets")
    model = load_model(model_dir, device=device_for("auto"), dtype=dtype)
    tokenizer = load_tokenizer(model_dir)
    layers = layer_indices(layer_names, model.config.num_hidden_layers)
    moments = hidden_state_moments(model, tokenizer, texts, layers, max_tokens, batch_size)
    del model  # the bootstrap's moments and resamples get the device memory
    statistics, spectra = {}, {}
    for name, (counts, firsts, seconds) in moments.items():
        statistics[name] = bootstrap_statistics(counts, firsts, seconds, top_k, reps, seed)
        statistics[name]["n_vectors"] = int(counts.sum())
        spectra[name] = [float(v) for v in covariance_eigenvalues(counts.sum(), firsts.sum(0), seconds.sum(0))]
    return statistics, spectra


# ---------------------------------------------------------------- diversity (pure functions)

def distinct_n(token_lists: list[list[str]], n: int) -> float | None:
    """Unique n-grams / all n-grams, pooled over samples (None when no sample has n tokens)."""
    grams = [tuple(tokens[i : i + n]) for tokens in token_lists for i in range(len(tokens) - n + 1)]
    return len(set(grams)) / len(grams) if grams else None


def compression_ratio(texts: list[str]) -> float | None:
    """zlib-compressed size / raw size of all texts together: lower means more repetition."""
    raw = "\n".join(texts).encode()
    return len(zlib.compress(raw, 9)) / len(raw) if raw else None


def completion_node_types(prompt: str, completion: str) -> Counter | None:
    """AST node types that start inside the completion (None if prompt + completion does not parse)."""
    try:
        tree = ast.parse(prompt + completion)
    except (SyntaxError, ValueError):
        return None
    first_line = prompt.count("\n") + 1
    return Counter(type(node).__name__ for node in ast.walk(tree)
                   if getattr(node, "lineno", 0) >= first_line and not isinstance(node, ast.Module))


def entropy_bits(counts: Counter) -> float | None:
    total = sum(counts.values())
    if not total:
        return None
    return -sum(c / total * math.log2(c / total) for c in counts.values() if c)


def imported_modules(text: str) -> set[str]:
    modules = set()
    for from_module, import_list in IMPORT.findall(text):
        names = [from_module] if from_module else [part.split(" as ")[0] for part in import_list.split(",")]
        modules.update(name.strip().split(".")[0] for name in names if name.strip())
    return modules


def diversity(samples: list[dict], ns: Sequence[int] = (1, 2, 4)) -> dict:
    completions = [s["completion"] for s in samples]
    tokens = [code_tokens(c) for c in completions]
    node_counts: Counter = Counter()
    parsed = 0
    for sample in samples:
        types = completion_node_types(sample["prompt"], sample["completion"])
        if types is not None:
            parsed += 1
            node_counts.update(types)
    identifiers = {t for ts in tokens for t in ts if t[0].isalpha() or t[0] == "_"} - set(keyword.kwlist)
    return {"n_samples": len(samples), **{f"distinct_{n}": distinct_n(tokens, n) for n in ns},
            "compression_ratio": compression_ratio(completions),
            "ast_node_entropy": entropy_bits(node_counts), "parse_rate": parsed / len(samples) if samples else None,
            "unique_identifiers": len(identifiers),
            "unique_imports": len(set().union(*(imported_modules(c) for c in completions))) if samples else 0}


def base_perplexity(base_model: str, samples: list[dict], batch_size: int = 32, dtype: str = "auto") -> float | None:
    """exp of minus the mean (over samples) per-token log-probability of each completion under the round-0 model
    (the perplexity gate's score, from the same backend)."""
    from gatedloop.backends import open_backend
    from gatedloop.core.runtime import device_for

    requests = [(s["prompt"], s["completion"]) for s in samples if s["completion"]]
    backend = open_backend("transformers", base_model, device=device_for("auto"), dtype=dtype)
    scores = [r.mean_logprob for r in backend.loglikelihood(requests, batch_size) if math.isfinite(r.mean_logprob)]
    return math.exp(-sum(scores) / len(scores)) if scores else None


# ---------------------------------------------------------------- CLI

def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the round's model (spectral analysis)")
    parser.add_argument("--probe", type=Path, required=True, help="probe set JSONL with a 'text' field")
    parser.add_argument("--samples", type=Path, default=None, help="the round's generated samples (diversity)")
    parser.add_argument("--base-model", default=None, help="round-0 model: perplexity of the samples under it")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--spectrum", type=Path, required=True)
    add_dataclass_args(parser, AnalysisSettings)
    parser.add_argument("--batch-size", type=int, default=32, help="probe snippets / samples per forward pass")
    parser.add_argument("--dtype", default="auto", choices=DTYPES,
                        help="model precision: auto = bfloat16 on CUDA, float32 on CPU")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    for flag, path in (("--probe", args.probe), ("--samples", args.samples)):
        if path is not None and not path.is_file():
            parser.error(f"{flag}: {path} is not a file")
    set_threads(args.threads)
    texts = [row["text"] for row in read_jsonl(args.probe)]
    statistics, spectra = spectral_analysis(args.model, texts, args.layers, args.max_tokens, args.top_k,
                                            args.bootstrap, args.seed, args.batch_size, args.dtype)
    result: dict = {"spectral": statistics, "n_probe": len(texts), "top_k": args.top_k, "bootstrap": args.bootstrap}
    if args.samples is not None:
        samples = read_jsonl(args.samples)
        result["diversity"] = diversity(samples, args.distinct_n)
        if args.base_model:
            result["diversity"]["base_perplexity"] = base_perplexity(args.base_model, samples, args.batch_size,
                                                                       args.dtype)
    write_json(args.spectrum, {"layers": spectra})
    write_json(args.out, {**result, "provenance": environment()})
    summary = ", ".join(f"{name} l1/l2 {s['lambda1_over_lambda2']['value']:.2f}" for name, s in statistics.items())
    print(f"{args.model}: {summary}")


if __name__ == "__main__":
    run_cli(main)
