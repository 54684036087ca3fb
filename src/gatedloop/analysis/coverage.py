"""Coverage per task family: what each round trained on, family by family, and how each family fared.

A gate can be accurate (it accepts almost only correct samples) and still narrow the training data to the
families the model already solves; held-out pass then holds on those families and falls on the rest. Per
(model, gate, regime, seed, round, benchmark, family): ``n_accepted`` (samples of that family the gate accepted
for this round's fine-tuning: the data the round-r model was trained on; budgets may train on a subset of
them), and ``n_tasks`` / ``pass_at_1`` on the benchmark's tasks of that family. Per round, ``family_entropy``:
the Shannon entropy (bits) of the accepted family mix (0: one family; log2 of the family count: all alike).

Families come from the data, never from guesses: the prompt pool's ``family`` field (the microtasks have one;
a pool of your own may) and the benchmark verdicts' ``family`` (microtasks). HumanEval, MBPP and LiveCodeBench
have no families: they get no coverage rows, and ``families_absent`` names them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

COVERAGE_COLUMNS = ["model", "gate", "regime", "seed", "round", "benchmark", "family", "n_tasks", "pass_at_1",
                    "n_accepted"]


def prompt_families(pool: Iterable[dict]) -> dict[str, str]:
    """prompt id -> family, for the prompts that have one."""
    return {str(row["task_id"]): row["family"] for row in pool if row.get("family")}


def accepted_by_family(decisions: Iterable[dict], families: dict[str, str]) -> Counter:
    """family -> accepted samples; samples whose prompt has no family are not counted."""
    return Counter(families[d["prompt_id"]] for d in decisions
                   if d["accepted"] and d["prompt_id"] in families)


def family_entropy(counts: Counter) -> float:
    """Entropy in bits of the family mix; NaN with nothing accepted."""
    total = sum(counts.values())
    if total == 0:
        return float("nan")
    return -sum(n / total * math.log2(n / total) for n in counts.values() if n)


def pass_by_family(verdicts: Iterable[dict]) -> dict[str, tuple[int, float]] | None:
    """family -> (tasks, pass@1) from one score's verdicts; None when the benchmark has no families."""
    per_task: dict[str, list] = {}
    for row in verdicts:
        if not row.get("family"):
            return None
        passed, n, family = per_task.get(row["task_id"], (0, 0, row["family"]))
        per_task[row["task_id"]] = (passed + bool(row["passed"]), n + 1, family)
    by_family: dict[str, list[float]] = {}
    for passed, n, family in per_task.values():
        by_family.setdefault(family, []).append(passed / n)
    return {family: (len(values), sum(values) / len(values)) for family, values in by_family.items()}


def coverage_rows(keys: dict, family_pass: dict[str, tuple[int, float]], accepted: Counter | None) -> list[dict]:
    """One row per family of the benchmark (and per accepted family the benchmark lacks)."""
    families = sorted(set(family_pass) | set(accepted or ()))
    rows = []
    for family in families:
        n_tasks, pass_at_1 = family_pass.get(family, (0, float("nan")))
        rows.append({**keys, "family": family, "n_tasks": n_tasks, "pass_at_1": pass_at_1,
                     "n_accepted": accepted.get(family, 0) if accepted is not None else float("nan")})
    return rows
