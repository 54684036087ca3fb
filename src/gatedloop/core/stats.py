"""Bootstrap intervals and paired differences: where every table and figure gets its spread from.

What is resampled is the unit that repeats independently in the design, drawn with replacement as many times as
there are units (the nonparametric bootstrap):
- seeds, for a statistic with one value per seed (a curve's band over seeds, a per-seed difference between rounds);
- seeds and tasks, crossed, for pass@1 from per-task verdicts (every seed is scored on every task, so one task draw
  is shared by the seeds of a replicate): the interval reflects seed-to-seed spread and which tasks the benchmark
  happens to hold;
- audit samples, for the audit's AUROC and precision gain (gatedloop.audit);
- groups of probe snippets, for spectral statistics (tokens of one snippet are not independent; gatedloop.analyze).
An interval is the percentile interval of the replicates (numpy's default, linear interpolation).

Reproducibility: each estimate draws from its own ``numpy.random.default_rng(seed)``, and a set of replicates is
one ``rng.integers(0, n, (reps, n))`` call, row r being replicate r. numpy fills that array element by element from
one stream, so it holds the same indices as one ``rng.integers(0, n, n)`` call per replicate (how the audit and the
spectral bootstrap used to draw): their intervals reproduce bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

CI95 = (0.025, 0.975)  # the quantiles at the ends of a 95% percentile interval


def resample_indices(rng: np.random.Generator, n: int, reps: int) -> np.ndarray:
    """(reps, n) indices into n units, drawn with replacement: row r is replicate r."""
    return rng.integers(0, n, (reps, n))


def resample_counts(rng: np.random.Generator, n: int, reps: int) -> np.ndarray:
    """(reps, n) float64: how often each of n units is drawn in each replicate (the same draws as
    ``resample_indices``). A replicate's statistic of sums is then a weighted sum, without forming its data."""
    draws = resample_indices(rng, n, reps)
    cells = (draws + n * np.arange(reps)[:, None]).ravel()  # replicate r's draws count into cells r*n .. r*n + n-1
    return np.bincount(cells, minlength=reps * n).reshape(reps, n).astype(np.float64)


def percentile_interval(replicates: Sequence[float] | np.ndarray, ends: Sequence[float] = CI95) -> tuple[float, float]:
    """The ``ends`` quantiles of bootstrap replicates. A replicate whose statistic is undefined (NaN: an AUROC of a
    resample holding one class) is left out; (NaN, NaN) when none is defined."""
    values = np.asarray(replicates, dtype=float)
    values = values[~np.isnan(values)]
    if not len(values):
        return math.nan, math.nan
    low, high = np.quantile(values, ends)
    return float(low), float(high)


def bootstrap_mean(values: Sequence[float] | np.ndarray, reps: int, seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high) of one value per unit (a seed): the mean and its 95% interval, units resampled.
    ``values`` holds at least one value and no NaN (callers decide what a missing seed means)."""
    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = values[resample_indices(rng, len(values), reps)].mean(axis=1)
    low, high = percentile_interval(means)
    return float(values.mean()), low, high


def crossed_bootstrap_mean(values: np.ndarray, reps: int, seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high) of a seeds x tasks matrix: the mean and its 95% interval, seeds and tasks resampled
    (seeds first, then tasks; one task draw shared by every seed of a replicate)."""
    values = np.asarray(values, dtype=float)
    n_seeds, n_tasks = values.shape
    rng = np.random.default_rng(seed)
    seed_counts = resample_counts(rng, n_seeds, reps)
    task_counts = resample_counts(rng, n_tasks, reps)
    # a replicate's mean is w_seed . values . w_task / (S * T): no resampled matrix is materialised
    replicates = np.einsum("bs,st,bt->b", seed_counts, values, task_counts) / (n_seeds * n_tasks)
    low, high = percentile_interval(replicates)
    return float(values.mean()), low, high


def paired_difference(after: Sequence | np.ndarray, before: Sequence | np.ndarray, reps: int,
                      seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high) of ``after - before``, paired element by element: both sides of an element are one unit
    measured twice (the same seed, or seed and task), so what the unit adds to both cancels. One value per seed
    (1-D): seeds resampled; a seeds x tasks matrix (2-D): seeds and tasks resampled, crossed."""
    differences = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    if differences.ndim == 1:
        return bootstrap_mean(differences, reps, seed)
    if differences.ndim == 2:
        return crossed_bootstrap_mean(differences, reps, seed)
    raise ValueError(f"paired values are per seed (1-D) or per seed and task (2-D), not {differences.ndim}-D")
