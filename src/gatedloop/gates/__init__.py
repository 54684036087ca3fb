"""Review gates: a registry of small classes behind one interface (``Gate``), chosen by name in config.

A new gate is one new module here with a ``@GATES.register("name")`` class, plus its import below.
"""

from __future__ import annotations

from gatedloop.gates.base import GATES, Decision, Gate, Sample

# Importing a gate module registers it.
from gatedloop.gates import (  # noqa: E402,F401  isort: skip
    compile_gate, execution_gate, failing_gate, lint_gate, none_gate, quality_gate, reference_gate, self_gates,
)

__all__ = ["GATES", "Decision", "Gate", "Sample"]
