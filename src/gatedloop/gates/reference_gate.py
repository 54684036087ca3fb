"""The control arm, ``reference``: not a review of generated code but the same loop trained on human-written
solutions of the same prompts (``gatedloop.reference`` writes them as the round's samples). Its decline is what
fine-tuning alone does (forgetting, drift); a gate's decline beyond it is the self-training effect.
"""

from __future__ import annotations

from gatedloop.gates.base import GATES, Decision, Gate, Sample


@GATES.register("reference")
class ReferenceArm(Gate):
    kind = "control"  # its samples are human solutions (rule reference_samples), and it has no audit

    def decide(self, samples: list[Sample]) -> list[Decision]:
        return [Decision(s.id, s.prompt_id, 1.0, True, "human reference") for s in samples]
