"""Decision noise: each decision of a model-independent gate (kinds human and exogenous) flipped with probability
``noise``, as the study's noisy-gate suite does (compile at 0, 5, 10 and 20%). It models a reviewer who errs at a
known rate independently of the sample, so the loop's response to an unreliable gate can be measured against the
same gate without errors.

The gate job applies it (gatedloop.gate), after the gate decided: the gate's own ``decide`` stays clean, so the
audit, which calls ``decide`` itself, keeps judging the clean gate. ``accepted`` is what is trained on (the noisy
decision); ``accepted_clean`` keeps the gate's own. Only a gate with ``noise > 0`` writes ``accepted_clean``, so a
run without noise writes the same decisions, byte for byte, as before noise existed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from gatedloop.core.options import option

NOISY_KINDS = ("human", "exogenous")  # model-independent checks; a self-gate's errors are the object of study


@dataclass(frozen=True)
class NoiseOptions:
    """The option every gate of a kind in NOISY_KINDS takes (its Options derive from this class)."""

    noise: float = option(0.0, "probability of flipping each decision (the study's noisy gate; 0: none), seeded "
                          "per job; the clean decisions are kept as accepted_clean", minimum=0, maximum=1)


def takes_noise(options_cls) -> bool:
    return issubclass(options_cls, NoiseOptions)


class FlipStream:
    """The flips of a run's decisions, drawn in order: one uniform draw per decision from a generator seeded with
    ``seed``. Drawing them in parts (generation's waves, gatedloop.gates.waves) gives the same flips as drawing
    them all at once (the gate job over the whole file), so both decide alike."""

    def __init__(self, probability: float, seed: int):
        self.probability = probability
        self.rng = random.Random(seed)

    def next(self, n: int) -> list[bool]:
        return [self.rng.random() < self.probability for _ in range(n)]


def flips(n: int, probability: float, seed: int) -> list[bool]:
    """Whether each of ``n`` decisions is flipped: a decision's flip depends only on its position, never on what the
    gate decided."""
    return FlipStream(probability, seed).next(n)


def noisy_rows(rows: list[dict], probability: float, seed: int) -> list[dict]:
    """Decision rows with ``accepted`` flipped where drawn and the gate's own decision as ``accepted_clean``."""
    return flipped_rows(rows, flips(len(rows), probability, seed))


def flipped_rows(rows: list[dict], drawn: list[bool]) -> list[dict]:
    """The rows with the drawn flips applied (one per row, in order)."""
    noisy = []
    for row, flipped in zip(rows, drawn, strict=True):
        accepted = row["accepted"] != flipped
        reason = f"{row['reason']} (flipped by decision noise)" if flipped else row["reason"]
        noisy.append({**row, "accepted": accepted, "reason": reason, "accepted_clean": row["accepted"]})
    return noisy
