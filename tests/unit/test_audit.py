import math

import numpy as np
import pytest

from gatedloop.audit import audit_stats, auroc, point_stats, precision_gain


def test_auroc_on_known_orderings():
    truth = [True, True, False, False]
    assert auroc([4, 3, 2, 1], truth) == 1.0
    assert auroc([1, 2, 3, 4], truth) == 0.0
    assert auroc([1, 1, 1, 1], truth) == 0.5  # ties count half: a constant score carries no information
    assert auroc([3, 1, 2, 0], truth) == 0.75  # 3 of 4 (correct, incorrect) pairs ordered right
    assert math.isnan(auroc([1, 2], [True, True]))
    assert auroc([-math.inf, 0.0, 1.0], [False, True, True]) == 1.0


def test_auroc_matches_the_pairwise_definition_on_random_data():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, 60).astype(float)  # many ties
    truth = rng.random(60) < 0.4
    pos, neg = scores[truth], scores[~truth]
    pairwise = np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])
    assert auroc(scores, truth) == pytest.approx(pairwise)


def test_precision_recall_and_tv_on_a_known_table():
    # 10 samples, 6 correct; the gate accepts 4: 3 correct, 1 wrong.
    truth = [True] * 6 + [False] * 4
    accepted = [True, True, True, False, False, False, True, False, False, False]
    stats = point_stats([float(a) for a in accepted], accepted, truth)
    assert stats["acceptance_rate"] == 0.4
    assert stats["precision"] == 0.75 and stats["recall"] == 0.5
    assert stats["precision_gain"] == pytest.approx(0.75 - 0.6) and stats["tv"] == pytest.approx(0.15)
    assert math.isnan(precision_gain([False] * 10, truth))


def test_a_rubber_stamp_is_self_confirming_and_a_real_filter_is_not():
    rng = np.random.default_rng(1)
    truth = rng.random(400) < 0.5
    noise = rng.random(400)
    stamp = audit_stats(noise, noise > 0.5, truth, n_boot=300)
    assert stamp["auroc_low"] < 0.5 < stamp["auroc_high"] and stamp["self_confirming"]
    signal = truth + 0.3 * noise
    real = audit_stats(signal, signal > 0.8, truth, n_boot=300)
    assert real["auroc"] == 1.0 and real["precision_gain_low"] > 0.3 and not real["self_confirming"]
