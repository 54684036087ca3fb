"""Selection in waves, as the study's second pipeline selects for its human and exogenous gates: candidates are
generated a wave at a time (``wave_size``) and judged by the gate as they come, until ``accepted`` of them pass, or
until ``candidate_budget`` candidates are spent, which is an error (the study never trains a short round). The round
trains on the first ``accepted`` passing candidates in generation order; those that passed after them in the last
wave are the overflow.

Which gates select so (``in_waves``; ``wave_gates`` lists a config's arms that do): with
``budget.selection: waves``, every gate of kind human or exogenous that judges each sample on its own (no quantile:
``keep_fraction`` None). Self-gates keep their fixed pool, scored and cut to the best fraction (accepted_per_round /
keep_fraction generated), and ``none`` generates exactly accepted_per_round.

Reproducibility: wave w of a job is sampled with ``wave_seed(job seed, w)`` and completes the prompts w * wave_size
onwards (the pool cycled in order), so a wave's candidates depend on the model, the job seed, the wave's index and
its size only, never on the gate: every gate of a (model, seed, round) sees the same candidate stream, one gate
reading further along it than another. Decision noise is drawn per candidate, in order, from the gate job's noise
seed (gatedloop.gates.noise.FlipStream), so the gate job over the written file decides exactly as the waves did.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gatedloop.gates.base import GATES, Gate, Sample, options_of_arm
from gatedloop.gates.noise import FlipStream, flipped_rows

WAVE_KINDS = ("human", "exogenous")  # the study's gates that loop until enough pass (its AI gates keep a quantile)
SELECTIONS = ("fixed", "waves")


def in_waves(gate: str, options: dict) -> bool:
    """Whether a gate (or an arm of one: compile@noise10), with these options from config, selects in waves when
    waves are on."""
    gate_cls = GATES.get(gate)
    return gate_cls.kind in WAVE_KINDS and gate_cls.keep_fraction(options) is None


def wave_gates(config: dict) -> list[str]:
    """The config's arms that generate in waves (none unless ``budget.selection`` is waves), in config order."""
    if config["budget"].get("selection", "fixed") != "waves":
        return []
    return [arm for arm in config["gates"] if in_waves(arm, options_of_arm(config["gate_options"], arm))]


def wave_seed(seed: int, wave: int) -> int:
    """The sampling seed of a job's wave: a hash of both, so no two (job, wave) pairs share a seed by arithmetic
    (job seeds are close together: seed * 10,000 + round * 10 + stage)."""
    digest = hashlib.sha256(f"gatedloop-wave:{seed}:{wave}".encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def sample_of(row: dict) -> Sample:
    """A generated sample row (gatedloop.generate's output line) as the gate reads it."""
    return Sample(str(row["id"]), str(row["prompt_id"]), row["prompt"], row["completion"], tuple(row.get("tests", ())))


class BudgetExhausted(RuntimeError):
    """The candidate budget ran out before enough samples passed."""


@dataclass(frozen=True)
class WaveSettings:
    accepted: int  # N: the round trains on the first N passing candidates
    wave_size: int
    candidate_budget: int

    def __post_init__(self):
        for name in ("accepted", "wave_size", "candidate_budget"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.candidate_budget < self.accepted:
            raise ValueError(f"candidate_budget {self.candidate_budget} cannot reach {self.accepted} accepted samples")


# generate_wave(start, count, seed): the rows of candidates start .. start + count - 1, sampled with seed.
WaveGenerator = Callable[[int, int, int], list[dict]]


class WaveCache:
    """Waves another job of the same stream generated already, kept outside every job's outputs: round 1 of every
    waves gate and regime of a (model, seed) reads one stream (the base model, one seed), so each wave of it is
    generated once and read by the others. ``key`` must hold everything that decides a wave's candidates besides its
    start, size and seed (which name its file): the model's fingerprint, the prompts' bytes, the sampling settings,
    the backend, device and precision."""

    def __init__(self, directory: str | os.PathLike, key: str):
        self.directory = Path(directory) / key
        self.hits = 0  # waves read, not generated, by this job

    def wrap(self, generate_wave: WaveGenerator) -> WaveGenerator:
        def cached(start: int, count: int, seed: int) -> list[dict]:
            path = self.directory / f"wave-{start}-{count}-{seed}.jsonl"
            if path.is_file():
                self.hits += 1
                return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            rows = generate_wave(start, count, seed)
            self._write(path, rows)
            return rows

        return cached

    @staticmethod
    def _write(path: Path, rows: list[dict]) -> None:
        # A uniquely named staging file, then a rename: two jobs writing the same wave at once both succeed, with
        # the same content (gatedloop.core.io's atomic writes clear other writers' staging, which would race here).
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "w") as out:
            out.writelines(json.dumps(row) + "\n" for row in rows)
        os.replace(staging, path)


def run_waves(generate_wave: WaveGenerator, gate: Gate, settings: WaveSettings, seed: int,
              noise_seed: int | None = None, log: Callable[[str], None] = print) -> tuple[list[dict], dict]:
    """Generate and judge waves until ``settings.accepted`` candidates pass; return every candidate generated (in
    order) and the round's generation stats. Raises BudgetExhausted, naming N, the budget and how many passed, when
    the budget is spent first."""
    noise = getattr(gate.settings, "noise", 0.0)
    if noise > 0 and noise_seed is None:
        raise ValueError(f"gate {gate.name!r} has decision noise {noise}: a noise seed is needed")
    flips = FlipStream(noise, noise_seed) if noise > 0 else None
    started = time.monotonic()
    candidates: list[dict] = []
    passed = passed_clean = flipped = waves = 0
    while passed < settings.accepted and len(candidates) < settings.candidate_budget:
        count = min(settings.wave_size, settings.candidate_budget - len(candidates))
        wave = generate_wave(len(candidates), count, wave_seed(seed, waves))
        rows = [d.to_json() for d in gate.decide([sample_of(row) for row in wave])]
        if flips is not None:
            rows = flipped_rows(rows, flips.next(len(rows)))
            passed_clean += sum(row["accepted_clean"] for row in rows)
            flipped += sum(row["accepted"] != row["accepted_clean"] for row in rows)
        candidates += wave
        passed += sum(row["accepted"] for row in rows)
        waves += 1
        log(f"wave {waves}: {len(candidates)} generated, {passed} passed (need {settings.accepted})")
    stats = {"selection": "waves", "gate": gate.name, "accepted_per_round": settings.accepted,
             "wave_size": settings.wave_size, "candidate_budget": settings.candidate_budget, "seed": seed,
             "waves": waves, "generated": len(candidates), "passed": passed,
             "selected": min(passed, settings.accepted), "overflow": max(passed - settings.accepted, 0),
             "pass_rate": passed / len(candidates) if candidates else 0.0,
             "seconds": round(time.monotonic() - started, 3)}
    if flips is not None:
        stats.update(noise=noise, passed_clean=passed_clean, flipped=flipped)
    if passed < settings.accepted:
        raise BudgetExhausted(f"gate {gate.name!r}: the candidate budget of {settings.candidate_budget} is spent "
                              f"and only {passed} candidates passed of the {settings.accepted} a round needs "
                              f"({len(candidates)} generated in {waves} waves): raise budget.candidate_budget or "
                              "lower budget.accepted_per_round")
    return candidates, stats
