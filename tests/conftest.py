"""Shared fixtures: a real (tiny, randomly initialised) GPT-2 model with a real trained BPE tokenizer, built
offline in seconds, so backend, gate and fine-tuning tests exercise transformers and peft for real."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer GPT-2 (random weights) + a BPE tokenizer trained on microtask text, saved in HF format."""
    from gatedloop import microtasks
    from gatedloop.pretrain import ModelShape, build_model
    from gatedloop.runtime import set_threads
    from gatedloop.tokenizer import train_tokenizer

    set_threads(1)
    import torch

    torch.manual_seed(0)
    texts = [t.prompt + t.canonical_solution for t in microtasks.all_tasks()]
    tokenizer = train_tokenizer(texts, vocab_size=400)
    model = build_model(ModelShape(n_embd=32, n_layer=2, n_head=2, n_positions=128), tokenizer)
    model.config.use_cache = True
    out = tmp_path_factory.mktemp("tiny") / "model"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


# Text that makes the Llama-style tokenizer below behave like the study's: " good", " bad", " True" and " False"
# are single tokens, " yes" is two (the condition behind per-model answer words).
ANSWER_TEXT = "# quality: good\n# quality: bad\nok = x or y and True or y is False\n"


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory) -> Path:
    """A 2-layer Llama (random weights) with a byte-level BPE tokenizer that, like Llama's, CodeLlama's and
    DeepSeek-Coder's, puts ``<s>`` before every text it encodes with special tokens (``</s>`` ends text)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from gatedloop import microtasks
    from gatedloop.runtime import set_threads

    set_threads(1)
    import torch

    torch.manual_seed(0)
    texts = [t.prompt + t.canonical_solution for t in microtasks.all_tasks()] + [ANSWER_TEXT] * 400
    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    core.train_from_iterator(texts, trainer=trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    core.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                        special_tokens=[("<s>", core.token_to_id("<s>"))])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                        model_max_length=1_000_000)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    model = LlamaForCausalLM(config)
    out = tmp_path_factory.mktemp("tiny_llama") / "model"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
