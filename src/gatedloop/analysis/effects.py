"""Paired comparisons between arms, with bootstrap intervals that respect the design.

Two comparisons per (model, arm, regime, round, benchmark), from the per-task verdicts beside each score:
- ``vs_reference``: the self-training effect, the arm's pass@1 minus the control arm's (``reference``: the same
  loop trained on human solutions). Negative means the gate's data did worse than human data would have; the
  control's own decline (fine-tuning drift, forgetting) is subtracted out.
- ``vs_round0``: the arm's pass@1 minus round 0's (the same base model); for the control arm this is its drift,
  which a sound fine-tuning recipe keeps within seed noise.

Pairing: both sides of a difference share the seed (the same round-1 samples, the same fine-tuning order) and
the task. The interval resamples seeds and, within them, tasks (both with replacement; one task draw shared by
the seeds of a replicate, as tasks are crossed with seeds: gatedloop.core.stats.paired_difference), so it
reflects seed-to-seed spread and which tasks the benchmark happens to hold; with one seed it is a task bootstrap
only. ``seed_sd`` is the spread of the per-seed differences (NaN for one seed).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gatedloop.core.stats import paired_difference
from gatedloop.gates import GATES

CONTROL = GATES.control_name()
BASE_GATE = "base"
EFFECT_COLUMNS = ["model", "gate", "regime", "round", "benchmark", "comparison", "effect", "low", "high",
                  "seed_sd", "n_seeds", "n_tasks"]


def task_passes(verdicts: Iterable[dict]) -> dict[str, float]:
    """task id -> fraction of its samples that passed (1 or 0 under greedy scoring)."""
    totals: dict[str, list[int]] = {}
    for row in verdicts:
        passed, n = totals.setdefault(str(row["task_id"]), [0, 0])
        totals[str(row["task_id"])] = [passed + bool(row["passed"]), n + 1]
    return {task: passed / n for task, (passed, n) in totals.items()}


def compare(side: dict[int, dict[str, float]], other: dict[int, dict[str, float]], reps: int, seed: int):
    """Paired difference of two arms given seed -> task -> pass; None where they share no seed or task."""
    seeds = sorted(set(side) & set(other))
    if not seeds:
        return None
    tasks = sorted(set.intersection(*(set(side[s]) & set(other[s]) for s in seeds)))
    if not tasks:
        return None
    after = np.array([[side[s][t] for t in tasks] for s in seeds])
    before = np.array([[other[s][t] for t in tasks] for s in seeds])
    mean, low, high = paired_difference(after, before, reps, seed)
    per_seed = (after - before).mean(axis=1)
    seed_sd = float(per_seed.std(ddof=1)) if len(seeds) > 1 else float("nan")
    return {"effect": mean, "low": low, "high": high, "seed_sd": seed_sd, "n_seeds": len(seeds),
            "n_tasks": len(tasks)}


def effect_rows(passes: dict[tuple, dict[str, float]], gates: Iterable[str], regimes: Iterable[str],
                reps: int = 2000, seed: int = 0) -> list[dict]:
    """``passes``: (model, gate, regime, seed, round, benchmark) -> task -> pass, round 0 under gate 'base' and
    regime None. Rows of EFFECT_COLUMNS for every arm, regime, round and benchmark present."""
    by_cell: dict[tuple, dict[int, dict[str, float]]] = {}
    for (model, gate, regime, run_seed, round_, benchmark), tasks in passes.items():
        by_cell.setdefault((model, gate, regime, round_, benchmark), {})[run_seed] = tasks
    rows = []
    models = sorted({k[0] for k in by_cell})
    benchmarks = sorted({k[4] for k in by_cell})
    rounds = sorted({k[3] for k in by_cell})
    for model in models:
        for benchmark in benchmarks:
            base = by_cell.get((model, BASE_GATE, None, 0, benchmark))
            for gate in gates:
                for regime in regimes:
                    for round_ in rounds:
                        arm = base if round_ == 0 else by_cell.get((model, gate, regime, round_, benchmark))
                        control = base if round_ == 0 else by_cell.get((model, CONTROL, regime, round_, benchmark))
                        keys = {"model": model, "gate": gate, "regime": regime, "round": round_,
                                "benchmark": benchmark}
                        if arm is None:
                            continue
                        comparisons = [("vs_round0", base)]
                        if gate != CONTROL:
                            comparisons.append(("vs_reference", control))
                        for name, other in comparisons:
                            result = compare(arm, other, reps, seed) if other is not None else None
                            if result is not None:
                                rows.append({**keys, "comparison": name, **result})
    return rows
