"""Generation with Hugging Face transformers: batched, left-padded, KV cache on, stop strings honoured."""

from __future__ import annotations

from gatedloop.backends.base import Backend, SamplingParams, truncate_at_stop
from gatedloop.models import load_model, load_tokenizer


class TransformersBackend(Backend):
    def __init__(self, model_path: str, device: str = "cpu", dtype: str = "float32"):
        super().__init__(model_path, device, dtype)
        self.tokenizer = load_tokenizer(model_path, padding_side="left")
        self.model = load_model(model_path, device=device, dtype=dtype)

    def generate(self, prompts: list[str], params: SamplingParams, seed: int) -> list[str]:
        import torch

        completions: list[str] = []
        for start in range(0, len(prompts), params.batch_size):
            batch = prompts[start : start + params.batch_size]
            # Seed per batch, so a batch's samples do not depend on how many batches ran before it.
            torch.manual_seed(seed * 1_000_003 + start)
            encoded = self.tokenizer(batch, return_tensors="pt", padding=True).to(self.model.device)
            sampling = {} if params.greedy else {"temperature": params.temperature, "top_p": params.top_p,
                                                 "top_k": 0}
            with torch.inference_mode():
                output = self.model.generate(
                    **encoded, do_sample=not params.greedy, max_new_tokens=params.max_new_tokens,
                    use_cache=True,  # without it CPU generation was 20-30x slower
                    stop_strings=params.stop or None, tokenizer=self.tokenizer,
                    pad_token_id=self.tokenizer.pad_token_id, eos_token_id=self.tokenizer.eos_token_id,
                    **sampling,
                )
            new_tokens = output[:, encoded["input_ids"].shape[1] :]
            texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            completions += [truncate_at_stop(t, params.stop) for t in texts]
        return completions
