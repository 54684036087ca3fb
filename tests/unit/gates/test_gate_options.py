"""What each gate declares: its kind (the arm it makes) and its typed options, as the registry and every module that
sorts arms read them."""

import dataclasses

import pytest

from gatedloop.analysis import effects
from gatedloop.core.options import OptionsError, config_fields
from gatedloop.gates import GATES, Sample
from gatedloop.gates.base import KINDS, Gate, GateRegistry
from gatedloop.gates.self_gates import CALIBRATED
from gatedloop.tools import findings


def test_every_gate_is_of_one_kind_and_the_kinds_sort_the_arms():
    assert {name: GATES.kind_of(name) for name in GATES.names()} == {
        "none": "none", "compile": "human", "quality": "human", "compile_quality": "human", "lint": "human",
        "perplexity": "self", "binary": "self", "cross": "exogenous", "execution": "exogenous",
        "reference": "control", "failing": "harm"}
    assert GATES.of_kind("self") == ["perplexity", "binary"]  # the cross reviewer is fixed: not a self-gate
    assert GATES.control_name() == "reference"
    assert GATES.scoring_with_model() == ["perplexity", "binary", "cross"]
    assert sorted(name for kind in KINDS for name in GATES.of_kind(kind)) == GATES.names()
    with pytest.raises(ValueError, match="no gate kind 'ai'"):
        GATES.of_kind("ai")


def test_the_modules_that_sort_arms_read_the_kinds():
    """findings' verdicts keep their arms (self: perplexity and binary, as before: cross is exogenous)."""
    assert findings.NO_GATE == "none" and findings.SELF_GATES == ["perplexity", "binary"]
    assert findings.HUMAN_GATES == ["compile", "lint", "quality", "compile_quality"]
    assert findings.CONTROL == effects.CONTROL == "reference"


def test_a_variant_arm_is_its_gate_with_a_label():
    assert "compile@noise10" in GATES and "binary@t0.5" in GATES
    assert GATES.get("compile@noise10") is GATES.get("compile")
    assert GATES.kind_of("perplexity@strict") == "self" and GATES.get("cross@other").scores_with == "reviewer"
    for bad in ("compile@", "compile@-x", "compile@a/b", "nogate@x", "@x"):
        assert bad not in GATES, bad
    with pytest.raises(KeyError, match="unknown gate 'nogate'"):
        GATES.get("nogate@x")


def test_a_gate_without_a_kind_is_not_registered():
    class Unsorted(Gate):
        def decide(self, samples):
            return []

    with pytest.raises(ValueError, match="gate 'unsorted': kind '' is not one of none, human, self"):
        GateRegistry("gate").add("unsorted", Unsorted)


def test_the_self_gates_options_default_to_what_they_score_with():
    """The selecting gates' Options are their only defaults: the study's quantile selection, our question."""
    expected = {"mode": "quantile", "keep_fraction": 0.25, "threshold": None, "batch_size": 32,
                "scorer": "transformers", "dtype": "auto"}
    binary = {**expected, "template": "{prompt}{completion}\n# Question: is the code above correct? Answer:",
              "yes_word": " yes", "no_word": " no", "max_content_tokens": None}
    for name, defaults in (("perplexity", expected), ("binary", binary),
                           ("cross", {**binary, "noise": 0.0, "reviewer": "base"})):
        declared = {f.name: f.default for f in config_fields(GATES.get(name).Options)}
        assert declared == defaults, name
    assert CALIBRATED in {f.name for f in dataclasses.fields(GATES.get("perplexity").Options)}


def test_the_registry_types_options_and_fills_defaults():
    options = GATES.options("quality", {"min_tokens": 8})
    assert (options.min_tokens, options.max_repetition, options.ngram) == (8, 0.3, 4)
    assert GATES.options("lint", {"ignore": ["UnusedImport"]}).ignore == ("UnusedImport",)
    assert GATES.options("execution").workers is None
    with pytest.raises(OptionsError, match=r"^gate_options.execution.timeout_s: expected a number, got '5s'$"):
        GATES.options("execution", {"timeout_s": "5s"})
    with pytest.raises(OptionsError, match=r"^models.m.gate_options.binary.yes_word: expected a string, got 1$"):
        GATES.options("binary", {"yes_word": 1}, where="models.m.gate_options.binary")


def test_a_gate_job_refuses_options_its_gate_does_not_take():
    sample = Sample("t0#0", "t0", "def f():", "\n    return 1\n")
    assert GATES.get("lint")({"ignore": ["UnusedImport"]}).decide([sample])[0].accepted
    with pytest.raises(OptionsError, match=r"gate_options.lint: unknown option 'ignored' \(known: ignore, noise\)"):
        GATES.get("lint")({"ignored": ["UnusedImport"]})
    with pytest.raises(OptionsError, match=r"gate_options.compile: unknown option 'strict' \(known: noise\)"):
        GATES.get("compile")({"strict": True})
    with pytest.raises(OptionsError, match=r"gate_options.none: unknown option 'strict' \(known: none\)"):
        GATES.get("none")({"strict": True})
    # the gate job (not the config) sets the calibrated threshold
    assert GATES.get("perplexity")({"mode": "calibrated", CALIBRATED: -1.5}).settings.calibrated_threshold == -1.5
