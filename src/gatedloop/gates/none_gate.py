"""No gate (the study's "Vanilla"): everything generated is trained on."""

from __future__ import annotations

from gatedloop.gates.base import GATES, Decision, Gate, Sample


@GATES.register("none")
class NoGate(Gate):
    kind = "none"

    def decide(self, samples: list[Sample]) -> list[Decision]:
        return [Decision(s.id, s.prompt_id, 1.0, True, "no gate") for s in samples]
