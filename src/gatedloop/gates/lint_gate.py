"""A lint gate (model-independent): pyflakes on the full program, as a reviewer's linter would run it.

Rejects code that does not parse and code with any pyflakes finding: undefined names, unused imports or
variables, redefinitions, ``return`` outside a function, and the rest. ``gate_options.lint.ignore`` lists
pyflakes message classes to let through (e.g. ``[UnusedVariable]``). Static analysis only: nothing is executed.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass

from gatedloop.core.options import option
from gatedloop.gates.base import GATES, Decision, Gate, Sample
from gatedloop.gates.noise import NoiseOptions


def lint_messages(source: str) -> list:
    from pyflakes.checker import Checker

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(source)
    return sorted(Checker(tree, filename="<sample>").messages, key=lambda m: m.lineno)


@GATES.register("lint")
class LintGate(Gate):
    kind = "human"

    @dataclass(frozen=True)
    class Options(NoiseOptions):
        ignore: tuple[str, ...] = option((), "pyflakes message classes to let through, e.g. [UnusedVariable]")

    def decide(self, samples: list[Sample]) -> list[Decision]:
        ignore = set(self.settings.ignore)
        decisions = []
        for s in samples:
            try:
                found = [m for m in lint_messages(s.program) if type(m).__name__ not in ignore]
            except (SyntaxError, ValueError) as err:
                decisions.append(Decision(s.id, s.prompt_id, 0.0, False, f"{type(err).__name__}: {err}"))
                continue
            reason = "; ".join(f"{type(m).__name__}: {m.message % m.message_args}" for m in found[:3]) or "clean"
            decisions.append(Decision(s.id, s.prompt_id, -float(len(found)), not found, reason))
        return decisions
