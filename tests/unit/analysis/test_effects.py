"""Paired effects: gate minus control and round r minus round 0, with seed- and task-paired intervals."""

from __future__ import annotations

import pytest

from gatedloop.analysis.effects import compare, effect_rows, task_passes


def test_task_passes_average_the_samples_of_each_task():
    verdicts = [{"task_id": "a", "passed": True}, {"task_id": "a", "passed": False}, {"task_id": "b", "passed": True}]
    assert task_passes(verdicts) == {"a": 0.5, "b": 1.0}


def test_pairing_by_seed_cancels_what_the_seeds_share():
    """Seed effects shared by both arms (seed 1 is good for everyone) vanish in a paired difference: the gate is
    always exactly 0.1 below the control, so the interval is that point; unpaired it would be wide."""
    tasks = [f"t{i}" for i in range(20)]
    seed_level = {0: 0.2, 1: 0.9, 2: 0.5}
    control = {s: {t: level for t in tasks} for s, level in seed_level.items()}
    gate = {s: {t: level - 0.1 for t in tasks} for s, level in seed_level.items()}
    result = compare(gate, control, reps=500, seed=0)
    assert result["effect"] == pytest.approx(-0.1)
    assert result["low"] == pytest.approx(-0.1) and result["high"] == pytest.approx(-0.1)
    assert result["seed_sd"] == pytest.approx(0.0, abs=1e-12)
    assert (result["n_seeds"], result["n_tasks"]) == (3, 20)


def test_only_shared_seeds_and_tasks_are_compared():
    gate = {0: {"a": 1.0, "b": 0.0}, 1: {"a": 1.0, "b": 1.0}}
    control = {0: {"a": 0.0, "b": 0.0, "c": 1.0}}
    result = compare(gate, control, reps=100, seed=0)
    assert (result["n_seeds"], result["n_tasks"]) == (1, 2)
    assert result["effect"] == pytest.approx(0.5)
    assert compare(gate, {5: {"a": 1.0}}, reps=100, seed=0) is None


def test_effect_rows_give_the_self_training_effect_and_the_drift_of_every_arm():
    tasks = ["a", "b", "c", "d"]

    def passes(values):
        return dict(zip(tasks, values, strict=True))

    data = {}
    for seed in (0, 1):
        data[("tiny", "base", None, seed, 0, "microtasks")] = passes([1, 1, 0, 0])
        data[("tiny", "reference", "replace", seed, 1, "microtasks")] = passes([1, 1, 1, 0])
        data[("tiny", "none", "replace", seed, 1, "microtasks")] = passes([1, 0, 0, 0])
    rows = {(r["gate"], r["round"], r["comparison"]): r
            for r in effect_rows(data, ["none", "reference"], ["replace"], reps=200)}
    assert rows[("none", 1, "vs_reference")]["effect"] == pytest.approx(-0.5)
    assert rows[("none", 1, "vs_round0")]["effect"] == pytest.approx(-0.25)
    assert rows[("reference", 1, "vs_round0")]["effect"] == pytest.approx(0.25)  # the control's drift
    assert ("reference", 1, "vs_reference") not in rows
    assert rows[("none", 0, "vs_reference")]["effect"] == 0  # round 0 is the same base model for every arm
