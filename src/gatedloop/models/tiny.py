"""Tiny real models made on the spot, offline, in seconds: random weights in the architectures of the study's
models, with real tokenizers trained on microtask text. Tests and ``bench/gpu_smoke.py`` use them to run every
model stage through transformers and peft without downloading anything.

* ``gpt2``: the embedded model's architecture and tokenizer (``<|endoftext|>`` ends text; no BOS).
* ``llama``: a BOS-adding tokenizer, as Llama, CodeLlama and DeepSeek-Coder have: ``tokenizer("x")`` is
  ``<s> x``; " yes" is two tokens while " good", " bad", " True" and " False" are one each (the condition behind
  per-model answer words).
* ``qwen2``: Qwen2's architecture (grouped-query attention, biased q/k/v projections) with a byte-level tokenizer
  that, like Qwen2.5-Coder's, adds no BOS.
"""

from __future__ import annotations

from pathlib import Path

ARCHITECTURES = ("gpt2", "llama", "qwen2")
# Text that makes the trained tokenizers hold the study's answer words as single tokens and " yes" as two.
ANSWER_TEXT = "# quality: good\n# quality: bad\nok = x or y and True or y is False\n"


def _training_texts(answers: bool = True) -> list[str]:
    from gatedloop.data import task_families as microtasks

    return [t.prompt + t.canonical_solution for t in microtasks.all_tasks()] + [ANSWER_TEXT] * (400 * answers)


def _byte_level_tokenizer(bos: str | None, eos: str, vocab_size: int = 400):
    """A byte-level BPE tokenizer trained on microtask text; with ``bos``, every text it encodes with special tokens
    starts with it."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", *([bos] if bos else []), eos]
    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    core.train_from_iterator(_training_texts(), trainer=trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    if bos:
        core.post_processor = processors.TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
                                                            special_tokens=[(bos, core.token_to_id(bos))])
    return PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", eos_token=eos,
                                   **({"bos_token": bos} if bos else {}), model_max_length=1_000_000)


def build(arch: str, seed: int = 0):
    """(model, tokenizer) of a tiny random model of ``arch``."""
    import torch

    torch.manual_seed(seed)
    if arch == "gpt2":
        from gatedloop.models.scratch import ModelShape, build_model, train_tokenizer

        tokenizer = train_tokenizer(_training_texts(answers=False), vocab_size=400)
        return build_model(ModelShape(n_embd=32, n_layer=2, n_head=2, n_positions=128), tokenizer), tokenizer
    if arch == "llama":
        from transformers import LlamaConfig, LlamaForCausalLM

        tokenizer = _byte_level_tokenizer(bos="<s>", eos="</s>")
        config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                             num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
                             bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
        return LlamaForCausalLM(config), tokenizer
    if arch == "qwen2":
        from transformers import Qwen2Config, Qwen2ForCausalLM

        # Qwen2's tokenizer class (which AutoTokenizer picks for a qwen2 model) pads with <|endoftext|>: it must exist
        tokenizer = _byte_level_tokenizer(bos=None, eos="<|endoftext|>")
        config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                             eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True)
        return Qwen2ForCausalLM(config), tokenizer
    raise ValueError(f"unknown tiny architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")


def save(arch: str, out: str | Path, seed: int = 0) -> Path:
    """Build a tiny ``arch`` model and save it, with its tokenizer, as a Hugging Face directory at ``out``."""
    model, tokenizer = build(arch, seed)
    model.config.use_cache = True
    out = Path(out)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
