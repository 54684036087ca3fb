"""The study's Compile gate (a model-independent "human" gate): Python's ``compile()`` of the full program.

A syntax check only: nothing is executed and no test is run, so compiling generated code is safe in-process.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from gatedloop.gates.base import GATES, Decision, Gate, Sample
from gatedloop.gates.noise import NoiseOptions


def compiles(source: str) -> tuple[bool, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for invalid escapes: still compiles
            compile(source, "<sample>", "exec")
    except (SyntaxError, ValueError) as err:  # ValueError: source with null bytes
        return False, f"{type(err).__name__}: {getattr(err, 'msg', err)}"
    return True, "compiles"


@GATES.register("compile")
class CompileGate(Gate):
    kind = "human"

    @dataclass(frozen=True)
    class Options(NoiseOptions):
        """The whole text is compiled (prompt + completion), as in the study."""

    def decide(self, samples: list[Sample]) -> list[Decision]:
        decisions = []
        for s in samples:
            ok, reason = compiles(s.program)
            decisions.append(Decision(s.id, s.prompt_id, float(ok), ok, reason))
        return decisions
