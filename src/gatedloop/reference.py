"""The control arm's training data: human-written solutions in place of the model's own samples.

CLI: ``python -m gatedloop.reference --prompts POOL.jsonl --out samples.jsonl --solutions prompts``
or ``... --solutions human_pool --human HUMAN.jsonl --round R``.

``prompts``: each prompt of the fixed pool with its own reference solution (``canonical_solution``: the
microtasks carry theirs; a pool of your own may), one sample per prompt, so the control sees exactly the prompts
the gated arms see. ``human_pool``: for pools without solutions (real runs), as many human-written functions
as the pool has prompts, round R taking the R-th slice of the human pool (standard-library code the model was
not pre-trained on). Rows have the fields of generated samples, so the gate, fine-tuning and checks read them
unchanged.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from gatedloop.core.io import read_jsonl, write_jsonl
from gatedloop.data.prompt_pool import SOLUTION, missing_solutions
from gatedloop.engine.warm import run_cli


def solutions_of_prompts(prompts: list[dict]) -> list[dict]:
    """One sample per prompt: the prompt and its reference solution."""
    missing = missing_solutions(prompts)
    if missing:
        raise ValueError(f"{len(missing)} prompt(s) have no '{SOLUTION}' (first: {missing[0]!r}); "
                         "use solutions human_pool for a pool without solutions")
    return [{"id": f"{p['task_id']}#ref", "prompt_id": p["task_id"], "prompt": p["prompt"],
             "completion": p[SOLUTION], "tests": list(p.get("tests", [])), "source": "reference"}
            for p in prompts]


def human_functions(pool: list[dict], n: int, round_index: int) -> list[dict]:
    """``n`` human-written functions, round R's slice of the pool (wrapping when the pool is exhausted)."""
    if not pool:
        raise ValueError("the human pool is empty")
    start = (round_index - 1) * n
    rows = []
    for i in range(n):
        function = pool[(start + i) % len(pool)]
        rows.append({"id": f"{function['id']}#r{round_index}.{i}", "prompt_id": function["id"], "prompt": "",
                     "completion": function["completion"], "tests": [], "source": "human_pool"})
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=Path, required=True, help="the fixed prompt pool")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--solutions", choices=["prompts", "human_pool"], default="prompts")
    parser.add_argument("--human", type=Path, default=None, help="solutions human_pool: the human pool file")
    parser.add_argument("--round", type=int, default=1, help="solutions human_pool: the round (its slice)")
    args = parser.parse_args(argv)
    prompts = read_jsonl(args.prompts)
    if args.solutions == "prompts":
        try:
            samples = solutions_of_prompts(prompts)
        except ValueError as exc:
            parser.exit(2, f"reference: error: {args.prompts}: {exc}\n")
    else:
        if args.human is None:
            parser.error("--solutions human_pool needs --human")
        samples = human_functions(read_jsonl(args.human), len(prompts), args.round)
    write_jsonl(args.out, samples)
    print(f"reference: {len(samples)} human-written samples ({args.solutions}) -> {args.out}")


if __name__ == "__main__":
    run_cli(main)
