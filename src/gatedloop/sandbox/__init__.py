"""Untrusted generated programs run only here: a clean fork server (``server``, stdlib only) and its client
(``runner``), which every stage that executes code calls."""

from gatedloop.sandbox.runner import Limits, Verdict, isolation, run_program, run_programs, with_tests

__all__ = ["Limits", "Verdict", "isolation", "run_program", "run_programs", "with_tests"]
