"""Write one round's prompts from the configured prompt source (gatedloop.prompt_sources), in our pool form.

CLI: ``python -m gatedloop.prompts --source file_prefixes --options JSON --seed S --round R --out round.jsonl
[--model DIR]``. ``--options``: the source's options from the config section ``prompts`` (a JSON object);
``--model``: the round-0 model whose tokenizer the prompts are cut in (sources that count tokens). Output lines are
``{"task_id", "prompt"}`` (plus ``tests`` where the source has them, ``origin`` where a file prefix names its file).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from gatedloop.core.io import write_jsonl
from gatedloop.engine.warm import run_cli
from gatedloop.prompt_sources import PROMPT_SOURCES, SECTION, Draw


def round_prompts(source_name: str, options: dict, seed: int, round_: int, model: str | None = None) -> list[dict]:
    source = PROMPT_SOURCES.get(source_name)
    source = source(PROMPT_SOURCES.options(source_name, options, where=SECTION))
    tokenizer = None
    if source.counts_tokens():
        if model is None:
            raise ValueError(f"source {source_name!r} cuts prompts in the model's tokenizer: give --model")
        from gatedloop.models.loading import load_tokenizer

        tokenizer = load_tokenizer(model)
    return source.prompts(Draw(seed=seed, round=round_, tokenizer=tokenizer))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, choices=PROMPT_SOURCES.names())
    parser.add_argument("--options", type=json.loads, default={}, help="the source's options (JSON object)")
    parser.add_argument("--model", default=None, help="the round-0 model directory (its tokenizer)")
    parser.add_argument("--seed", type=int, required=True, help="the run's seed")
    parser.add_argument("--round", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        prompts = round_prompts(args.source, args.options, args.seed, args.round, args.model)
    except (ValueError, RuntimeError) as exc:  # OptionsError is a ValueError
        sys.exit(f"prompts: error: {exc}")
    write_jsonl(args.out, prompts)
    print(f"{len(prompts)} prompts from {args.source} (seed {args.seed}, round {args.round}) -> {args.out}")


if __name__ == "__main__":
    run_cli(main)
