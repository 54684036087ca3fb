"""Bootstrap intervals and paired differences (gatedloop.core.stats): what is resampled, reproducibility, and the
intervals' behaviour (they hold the estimate, narrow with data, vanish where nothing varies)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gatedloop.core.stats import (
    bootstrap_mean,
    crossed_bootstrap_mean,
    paired_difference,
    percentile_interval,
    resample_counts,
    resample_indices,
)


def test_one_draw_of_every_replicate_equals_one_draw_per_replicate():
    """The audit and the spectral bootstrap used to draw each replicate on its own: the block draw must hold the
    same indices, or their intervals would not reproduce."""
    for n in (1, 2, 7, 174, 1000):
        block = resample_indices(np.random.default_rng(3), n, 25)
        rng = np.random.default_rng(3)
        rows = np.stack([rng.integers(0, n, n) for _ in range(25)])
        assert block.shape == (25, n)
        np.testing.assert_array_equal(block, rows)


def test_counts_say_how_often_each_unit_is_drawn():
    indices = resample_indices(np.random.default_rng(5), 9, 40)
    counts = resample_counts(np.random.default_rng(5), 9, 40)
    assert counts.dtype == np.float64 and counts.shape == (40, 9)
    np.testing.assert_array_equal(counts, [np.bincount(row, minlength=9) for row in indices])
    assert (counts.sum(axis=1) == 9).all()  # each replicate draws as many units as there are


def test_the_percentile_interval_leaves_out_undefined_replicates():
    assert percentile_interval([np.nan, 1.0, 2.0, np.nan, 3.0], ends=(0.0, 1.0)) == (1.0, 3.0)
    assert percentile_interval([np.nan, 1.0, 2.0, 3.0]) == percentile_interval([1.0, 2.0, 3.0])
    low, high = percentile_interval([math.nan, math.nan])
    assert math.isnan(low) and math.isnan(high)
    assert percentile_interval(np.arange(101.0)) == (2.5, 97.5)


def test_the_bootstrap_interval_holds_the_mean_and_narrows_with_more_seeds():
    rng = np.random.default_rng(1)
    few = rng.normal(0.4, 0.1, 4)
    many = rng.normal(0.4, 0.1, 64)
    mean, low, high = bootstrap_mean(many, reps=2000)
    assert low < mean < high and mean == pytest.approx(many.mean())
    _, low_few, high_few = bootstrap_mean(few, reps=2000)
    assert low_few < few.mean() < high_few
    assert (high - low) < (high_few - low_few) / 2


def test_a_seeded_bootstrap_is_reproducible_and_the_seed_matters():
    values = np.random.default_rng(2).normal(size=10)
    assert bootstrap_mean(values, reps=300, seed=7) == bootstrap_mean(values, reps=300, seed=7)
    assert bootstrap_mean(values, reps=300, seed=7)[1:] != bootstrap_mean(values, reps=300, seed=8)[1:]
    matrix = np.random.default_rng(2).normal(size=(3, 20))
    assert crossed_bootstrap_mean(matrix, 300, seed=7) == crossed_bootstrap_mean(matrix, 300, seed=7)


def test_a_single_value_has_a_zero_width_interval():
    assert bootstrap_mean([0.3], reps=100) == (0.3, 0.3, 0.3)


def test_a_paired_difference_of_identical_samples_is_exactly_zero():
    rng = np.random.default_rng(4)
    per_seed = rng.normal(size=5)
    per_task = rng.random((3, 40))
    assert paired_difference(per_seed, per_seed, reps=500) == (0.0, 0.0, 0.0)
    assert paired_difference(per_task, per_task, reps=500) == (0.0, 0.0, 0.0)


def test_pairing_cancels_what_a_seed_adds_to_both_sides():
    """Seeds far apart (seed-to-seed spread 1.0) with a small, steady gain of 0.1: paired, the gain's interval is
    narrow and above zero; the arm's own mean over seeds is far less certain."""
    rng = np.random.default_rng(6)
    before = rng.normal(0.0, 1.0, 8)
    after = before + 0.1 + rng.normal(0.0, 0.01, 8)
    mean, low, high = paired_difference(after, before, reps=2000)
    assert 0.0 < low < mean < high and mean == pytest.approx(0.1, abs=0.02)
    _, low_unpaired, high_unpaired = bootstrap_mean(after, reps=2000)
    assert (high - low) * 20 < high_unpaired - low_unpaired


def test_a_constant_matrix_has_a_zero_width_interval():
    mean, low, high = crossed_bootstrap_mean(np.full((4, 30), -0.25), reps=500)
    assert mean == low == high == pytest.approx(-0.25)


def test_the_crossed_interval_narrows_with_more_seeds():
    rng = np.random.default_rng(1)
    few = rng.normal(-0.1, 0.3, (2, 50))
    many = rng.normal(-0.1, 0.3, (16, 50))
    mean, low, high = crossed_bootstrap_mean(many, reps=2000)
    assert low < mean < high
    _, low_few, high_few = crossed_bootstrap_mean(few, reps=2000)
    assert (high - low) < (high_few - low_few)


def test_the_crossed_bootstrap_resamples_tasks_and_seeds():
    """One seed: the spread is which tasks the benchmark holds; one task: it is the seeds'."""
    rng = np.random.default_rng(8)
    _, low, high = crossed_bootstrap_mean(rng.random((1, 30)), reps=500)
    assert high - low > 0.05
    _, low, high = crossed_bootstrap_mean(rng.random((30, 1)), reps=500)
    assert high - low > 0.05


def test_a_paired_difference_is_per_seed_or_per_seed_and_task():
    with pytest.raises(ValueError, match="3-D"):
        paired_difference(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), reps=10)
