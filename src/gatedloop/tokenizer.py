"""Train a byte-level BPE tokenizer on the corpus and save it in Hugging Face format.

CLI: ``python -m gatedloop.tokenizer --corpus corpus.jsonl --out DIR [--vocab-size 4096]``. The result loads
with ``AutoTokenizer.from_pretrained(DIR)``; ``<|endoftext|>`` is end-of-text, padding and beginning-of-text.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from gatedloop.core.io import atomic_path, read_jsonl
from gatedloop.engine.warm import run_cli
from gatedloop.models.scratch import train_tokenizer


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
