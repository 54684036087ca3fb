"""Train a byte-level BPE tokenizer on the corpus and save it in Hugging Face format.

CLI: ``python -m gatedloop.tokenizer --corpus corpus.jsonl --out DIR [--vocab-size 4096]``. The result loads
with ``AutoTokenizer.from_pretrained(DIR)``; ``<|endoftext|>`` is end-of-text, padding and beginning-of-text.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from gatedloop.io import atomic_path, read_jsonl
from gatedloop.warm import run_cli

EOT = "<|endoftext|>"


def train_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOT], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOT, bos_token=EOT, pad_token=EOT,
                                   unk_token=EOT, model_max_length=1_000_000)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--vocab-size", type=int, default=4096)
    args = parser.parse_args(argv)
    texts = [doc["text"] for doc in read_jsonl(args.corpus)]
    tokenizer = train_tokenizer(texts, args.vocab_size)
    with atomic_path(args.out) as tmp:
        tokenizer.save_pretrained(tmp)
    print(f"vocabulary {len(tokenizer)} -> {args.out}")


if __name__ == "__main__":
    run_cli(main)
