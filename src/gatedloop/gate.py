"""Run one gate over one round's samples.

CLI: ``python -m gatedloop.gate --gate NAME --samples IN.jsonl --out OUT.jsonl [--model DIR]
[--options JSON]``. Input lines ``{"id", "prompt_id", "prompt", "completion"}``; output lines
``{"id", "prompt_id", "score", "accepted", "reason"}``, one per input line, in order.
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
from gatedloop.gates import GATES, Sample


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
    decisions = gate_cls(options, model=args.model, threads=args.threads).decide(samples)
    write_jsonl(args.out, (d.to_json() for d in decisions))
    accepted = sum(d.accepted for d in decisions)
    print(f"gate {args.gate}: accepted {accepted} of {len(decisions)}")


if __name__ == "__main__":
    run_cli(main)
