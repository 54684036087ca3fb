"""Run one gate over one round's samples.

CLI: ``python -m gatedloop.gate --gate NAME --samples IN.jsonl --out OUT.jsonl [--model DIR]
[--options JSON] [--noise-seed N]``. Input lines ``{"id", "prompt_id", "prompt", "completion"}``; output lines
``{"id", "prompt_id", "score", "accepted", "reason"}``, one per input line, in order. With decision noise
(``noise`` > 0 in the options, gatedloop.gates.noise), ``accepted`` is the noisy decision (what is trained on) and
each line also has ``accepted_clean`` (the gate's own); the flips are drawn from ``--noise-seed``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from gatedloop.core.io import read_jsonl, write_jsonl
from gatedloop.core.runtime import set_threads
from gatedloop.engine.warm import run_cli
from gatedloop.gates import GATES, Decision, Sample
from gatedloop.gates.noise import noisy_rows


def load_samples(path: Path) -> list[Sample]:
    samples = []
    for lineno, row in enumerate(read_jsonl(path), 1):
        missing = {"id", "prompt_id", "prompt", "completion"} - row.keys()
        if missing:
            raise ValueError(f"{path}:{lineno}: sample is missing {', '.join(sorted(missing))}")
        samples.append(Sample(str(row["id"]), str(row["prompt_id"]), row["prompt"], row["completion"],
                              tuple(row.get("tests", ()))))
    return samples


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gate", required=True, help=f"one of: {', '.join(GATES.names())}")
    parser.add_argument("--samples", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", default=None,
                        help="the model the gate scores with: the round's model (self-gates) or the reviewer (cross)")
    parser.add_argument("--options", default="{}", help="the gate's settings as a JSON object")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--calibration", type=Path, default=None,
                        help="mode calibrated: round 1's decisions, whose lowest accepted score is the threshold")
    parser.add_argument("--noise-seed", type=int, default=None,
                        help="decision noise (option noise > 0): the seed of the flips (the workflow: the job's)")
    args = parser.parse_args(argv)
    if args.gate not in GATES:
        parser.error(f"unknown gate {args.gate!r}; known: {', '.join(GATES.names())}")
    gate_cls = GATES.get(args.gate)
    if gate_cls.scores_with:
        if not args.model:
            parser.error(f"gate {args.gate!r} scores with the model: pass --model")
        set_threads(args.threads)
    samples = load_samples(args.samples)
    options = json.loads(args.options)
    if args.calibration is not None:
        from gatedloop.gates.self_gates import CALIBRATED, calibrated_threshold

        try:
            options[CALIBRATED] = calibrated_threshold(read_jsonl(args.calibration))
        except ValueError as exc:
            sys.exit(f"gate: error: {args.calibration}: {exc}")
    gate = gate_cls(options, model=args.model, threads=args.threads)
    noise = getattr(gate.settings, "noise", 0.0)
    if noise > 0 and args.noise_seed is None:
        parser.error(f"gate {args.gate!r} has decision noise {noise}: pass --noise-seed")
    rows = decision_rows(gate.decide(samples), noise, args.noise_seed)
    write_jsonl(args.out, rows)
    accepted = sum(row["accepted"] for row in rows)
    print(f"gate {args.gate}: accepted {accepted} of {len(rows)}")
    if noise > 0:
        flipped = sum(row["accepted"] != row["accepted_clean"] for row in rows)
        print(f"gate {args.gate}: decision noise {noise} flipped {flipped} of {len(rows)} decisions")


def decision_rows(decisions: list[Decision], noise: float, seed: int | None) -> list[dict]:
    """The output lines: the gate's decisions, with noise applied where the gate has some."""
    rows = [d.to_json() for d in decisions]
    return noisy_rows(rows, noise, seed) if noise > 0 else rows


if __name__ == "__main__":
    run_cli(main)
