"""Hugging Face transformers. Generation: batched, left-padded, KV cache on, stop strings honoured. Scoring: the
token ids of gatedloop.core.encoding, right-padded batches of one forward pass each, logits in float32 whatever the
model's dtype."""

from __future__ import annotations

import math

from gatedloop.backends.base import (
    Backend,
    LogLikelihood,
    SamplingParams,
    decode_continuation,
    first_scored,
    truncate_at_stop,
)
from gatedloop.core.encoding import TextEncoder
from gatedloop.models.loading import load_model, load_tokenizer, padded_batches


def nucleus_warper(temperature: float, top_p: float, candidates: int = 256):
    """Temperature then top-p, as transformers' TemperatureLogitsWarper + TopPLogitsWarper compute them: keep the
    most likely tokens whose exclusive cumulative probability is below ``top_p`` (so at least one).

    transformers sorts the whole vocabulary every step, and on CPU that sort was 40% of sampling time. Here a
    row's ``candidates`` most likely tokens are sorted first; only a row whose candidates hold less than
    ``top_p`` of the mass (a very flat distribution) falls back to the full sort. The kept set is the same.
    """
    import torch
    from transformers import LogitsProcessor

    class NucleusWarper(LogitsProcessor):
        def __call__(self, input_ids, scores):
            scores = scores / temperature
            if top_p >= 1.0:
                return scores
            probs = scores.softmax(dim=-1)
            k = min(candidates, probs.shape[-1])
            top_probs, top_index = probs.topk(k, dim=-1)
            exclusive = top_probs.cumsum(dim=-1) - top_probs  # mass of the more likely tokens
            keep = torch.zeros_like(probs, dtype=torch.bool).scatter_(1, top_index, exclusive < top_p)
            flat = top_probs.sum(dim=-1) < top_p  # rows whose nucleus reaches past the candidates
            if flat.any():
                sorted_probs, sorted_index = probs[flat].sort(dim=-1, descending=True)
                exclusive_all = sorted_probs.cumsum(dim=-1) - sorted_probs
                keep[flat] = torch.zeros_like(sorted_probs, dtype=torch.bool).scatter_(
                    1, sorted_index, exclusive_all < top_p)
            return scores.masked_fill(~keep, -float("inf"))

    return NucleusWarper()


class TransformersBackend(Backend):
    def __init__(self, model_path: str, device: str = "cpu", dtype: str = "auto"):
        super().__init__(model_path, device, dtype)
        self.tokenizer = load_tokenizer(model_path, padding_side="left")  # scoring pads its own batches, on the right
        self.encoder = TextEncoder(self.tokenizer)
        self.model = load_model(model_path, device=device, dtype=self.dtype)

    def _context_length(self) -> int | None:
        config = self.model.config
        return getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", None)

    def _encode(self, batch: list[str], max_new_tokens: int):
        """Left-padded ids; a prompt longer than the context minus ``max_new_tokens`` keeps its end (the part next
        to the completion, as lm-evaluation-harness truncates), with a warning."""
        import sys

        context = self._context_length()
        limit = None if context is None else max(1, context - max_new_tokens)
        self.tokenizer.truncation_side = "left"
        encoded = self.tokenizer(batch, return_tensors="pt", padding=True, truncation=limit is not None,
                                 max_length=limit)
        if limit is not None:
            lengths = [len(ids) for ids in self.tokenizer(batch).input_ids]
            cut = sum(n > limit for n in lengths)
            if cut:
                print(f"warning: {cut} prompt(s) longer than {limit} tokens (context {context} - {max_new_tokens}"
                      " new) kept their last tokens only", file=sys.stderr)
        return encoded.to(self.model.device)

    def generate(self, prompts: list[str], params: SamplingParams, seed: int) -> list[str]:
        import torch

        completions: list[str] = []
        for start in range(0, len(prompts), params.batch_size):
            batch = prompts[start : start + params.batch_size]
            # Seed per batch, so a batch's samples do not depend on how many batches ran before it.
            torch.manual_seed(seed * 1_000_003 + start)
            encoded = self._encode(batch, params.max_new_tokens)
            # Sampling: our warper does temperature and top-p (transformers' own are switched off, not doubled).
            sampling = {} if params.greedy else {
                "temperature": 1.0, "top_p": 1.0, "top_k": 0,
                "logits_processor": [nucleus_warper(params.temperature, params.top_p)]}
            with torch.inference_mode():
                output = self.model.generate(
                    **encoded, do_sample=not params.greedy, max_new_tokens=params.max_new_tokens,
                    use_cache=True,  # without it CPU generation was 20-30x slower
                    stop_strings=params.stop or None, tokenizer=self.tokenizer,
                    pad_token_id=self.tokenizer.pad_token_id, eos_token_id=self.tokenizer.eos_token_id,
                    **sampling,
                )
            width = encoded["input_ids"].shape[1]
            texts = [decode_continuation(self.tokenizer, row[:width].tolist(), row[width:].tolist())
                     for row in output]
            completions += [truncate_at_stop(t, params.stop) for t in texts]
        return completions

    # ------------------------------------------------------------------ scoring

    def _logits(self, token_lists: list[list[int]], batch_size: int):
        """(chunk, float32 logits on the CPU) per right-padded batch of ``token_lists``."""
        import torch

        for chunk, ids, mask in padded_batches(token_lists, batch_size, self.tokenizer.pad_token_id):
            with torch.inference_mode():
                logits = self.model(input_ids=ids.to(self.model.device),
                                    attention_mask=mask.to(self.model.device)).logits.float().cpu()
            yield chunk, logits

    def loglikelihood(self, requests: list[tuple[str, str]], batch_size: int = 32) -> list[LogLikelihood]:
        import torch

        encoded = [self.encoder.pair(context, continuation, max_tokens=self._context_length())
                   for context, continuation in requests]
        results: list[LogLikelihood] = []
        start = 0
        for chunk, logits in self._logits([e.ids for e in encoded], batch_size):
            logprobs = torch.log_softmax(logits, dim=-1)
            for i, tokens in enumerate(chunk):
                first = first_scored(encoded[start + i].n_prompt)
                targets = torch.tensor(tokens[first:])
                if len(targets) == 0:
                    results.append(LogLikelihood(0.0, 0, -math.inf))
                    continue
                # logits at position j predict token j + 1
                picked = logprobs[i, first - 1 : len(tokens) - 1].gather(1, targets[:, None])
                results.append(LogLikelihood(picked.sum().item(), len(targets), picked.mean().item()))
            start += len(chunk)
        return results

    def next_token_margin(self, contexts: list[str], first: int, second: int, batch_size: int = 32) -> list[float]:
        limit = self._context_length()
        lists = [self._keep_end(self.encoder.text(context), limit) for context in contexts]
        margins: list[float] = []
        for chunk, logits in self._logits(lists, batch_size):
            for i, tokens in enumerate(chunk):
                last = logits[i, len(tokens) - 1]
                margins.append((last[first] - last[second]).item())  # the normalizer cancels
        return margins

    def _keep_end(self, ids: list[int], limit: int | None) -> list[int]:
        return ids if limit is None else self.encoder.keep_end(ids, limit)
