"""The gate interface. A gate reads generated samples and decides, per sample, whether it is trained on."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass

from gatedloop.core.options import options_from
from gatedloop.core.registry import Registry
from gatedloop.gates.noise import NOISY_KINDS, takes_noise


@dataclass(frozen=True)
class Sample:
    id: str
    prompt_id: str
    prompt: str
    completion: str
    tests: tuple[str, ...] = ()  # where the prompt pool has tests (microtasks do)

    @property
    def program(self) -> str:
        return self.prompt + self.completion


@dataclass(frozen=True)
class Decision:
    id: str
    prompt_id: str
    score: float
    accepted: bool
    reason: str

    def to_json(self) -> dict:
        return dict(self.__dict__)


# What an arm of the sweep is, by its gate: none (everything is trained on), human (a rule people wrote: compile,
# quality, lint), self (the model being trained judges its own samples), exogenous (a judge outside the loop: a fixed
# reviewer model, the prompt's tests), control (not a gate: human-written code instead of samples, the reference arm),
# harm (a positive control: an arm built to damage the model, so a run shows whether the instrument can see damage).
KINDS = ("none", "human", "self", "exogenous", "control", "harm")


class Gate(ABC):
    """``options`` are the gate's settings from config (``gate_options.<name>``), as given; ``settings`` the same
    as the gate's ``Options`` (typed, defaults filled). ``model`` is the model a gate scores with (the current
    round's model for self-gates, the reviewer for ``cross``); ``threads`` is the job's thread budget."""

    name = ""  # set by GATES.register
    kind = ""  # one of KINDS
    # Which model the gate scores with: None (model-independent), "current" (the round's own model: a
    # self-gate) or "reviewer" (a fixed model named in gate_options.<gate>.reviewer).
    scores_with: str | None = None

    @dataclass(frozen=True)
    class Options:
        """No options."""

    def __init__(self, options: dict | None = None, model: str | None = None, threads: int = 1):
        self.options = options or {}
        self.settings = options_from(self.Options, self.options, f"gate_options.{self.name}")
        self.model = model
        self.threads = threads

    @classmethod
    def keep_fraction(cls, options: dict) -> float | None:
        """The fraction a quantile gate keeps of each round's samples; None for gates that judge each sample on
        its own (their acceptance rate is whatever the samples earn)."""
        return None

    @classmethod
    def needs_tokenizer(cls, options: dict) -> bool:
        """Whether the gate, with these options from config, counts tokens in the model's tokenizer without scoring
        with the model (the study's quality length): the workflow then sets its ``tokenizer`` option to the cell's
        round-0 model directory."""
        return False

    @abstractmethod
    def decide(self, samples: list[Sample]) -> list[Decision]:
        """One decision per sample, in order."""


# An arm of the sweep is a gate (``compile``) or a variant of one: ``<gate>@<label>`` (``compile@noise10``), the
# same gate with settings of its own (gate_options.<arm>, over gate_options.<gate>), so several settings of one
# gate (the study's noise levels, anchors) are arms of one sweep, seed-paired like any other.
ARM_MARK = "@"
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def gate_of(arm: str) -> str:
    """The registered gate an arm runs: ``compile`` for ``compile`` and for ``compile@noise10``."""
    return arm.split(ARM_MARK, 1)[0]


def options_of_arm(gate_options: dict, arm: str) -> dict:
    """An arm's options from a config's gate_options section: its gate's, and a variant arm's own on top
    (gatedloop.core.config.arm_options)."""
    options = dict(gate_options.get(gate_of(arm), {}))
    if arm != gate_of(arm):
        options.update(gate_options.get(arm, {}))
    return options


class GateRegistry(Registry[type[Gate]]):
    """The gates by name, and by what they are (``kind``): the one place that says which arm is which. Lookups
    take arm names too (``compile@noise10`` is a compile gate)."""

    def get(self, name: str) -> type[Gate]:
        return super().get(gate_of(name))

    def __contains__(self, name: str) -> bool:
        gate, _, label = name.partition(ARM_MARK)
        return super().__contains__(gate) and (ARM_MARK not in name or bool(_LABEL.match(label)))

    def add(self, name: str, item: type[Gate]) -> type[Gate]:
        if item.kind not in KINDS:
            raise ValueError(f"gate {name!r}: kind {item.kind!r} is not one of {', '.join(KINDS)}")
        if takes_noise(item.Options) and item.kind not in NOISY_KINDS:
            raise ValueError(f"gate {name!r}: decision noise is for gates of kind {' or '.join(NOISY_KINDS)}, "
                             f"not {item.kind}")
        item.name = name
        return super().add(name, item)

    def of_kind(self, kind: str) -> list[str]:
        """The gates of a kind, in registration order (the imports in gatedloop.gates)."""
        if kind not in KINDS:
            raise ValueError(f"no gate kind {kind!r}; kinds: {', '.join(KINDS)}")
        return [name for name, gate in self.items() if gate.kind == kind]

    def kind_of(self, name: str) -> str:
        return self.get(name).kind

    def control_name(self) -> str:
        """The control arm's name (the reference arm): the one gate of kind control."""
        (control,) = self.of_kind("control")
        return control

    def scoring_with_model(self) -> list[str]:
        """The gates that score with a model (the round's own, or a reviewer), in registration order."""
        return [name for name, gate in self.items() if gate.scores_with]


GATES = GateRegistry("gate", options_key="gate_options.{name}")
