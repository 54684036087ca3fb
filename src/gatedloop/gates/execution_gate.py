"""An execution gate (exogenous verifier): run the prompt's own tests in the sandbox and accept what passes.
Samples need ``tests`` (microtask prompts carry them), unless ``untested: run`` accepts a sample without tests when
its program runs to its end without an error (the study's v2 execution gate, whose file-prefix and pool prompts
often have no test code). Generated code only ever runs through ``gatedloop.sandbox``. Options: ``timeout_s``
(default 5), ``workers`` (default: the job's threads), ``untested`` (error)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gatedloop.core.options import option
from gatedloop.gates.base import GATES, Decision, Gate, Sample
from gatedloop.gates.noise import NoiseOptions
from gatedloop.sandbox import Limits, run_programs, with_tests


@GATES.register("execution")
class ExecutionGate(Gate):
    kind = "exogenous"

    @dataclass(frozen=True)
    class Options(NoiseOptions):
        timeout_s: float = option(5.0, "seconds each sample's program with its tests may run", exclusiveMinimum=0)
        workers: int | None = option(None, "programs run at once (null: the job's threads)", minimum=1)
        untested: Literal["error", "run"] = option(
            "error", "a sample whose prompt has no tests: error (the job stops), or run (accepted when its program "
            "runs to its end without an error: the study's v2)")

    def decide(self, samples: list[Sample]) -> list[Decision]:
        untested = [s.id for s in samples if not s.tests]
        if untested and self.settings.untested == "error":
            raise ValueError(f"gate 'execution' needs tests with every sample (or untested: run); none for "
                             f"{', '.join(untested[:5])}")
        limits = Limits(timeout_s=float(self.settings.timeout_s))
        programs = [with_tests(s.program, s.tests) if s.tests else s.program + "\n" for s in samples]
        workers = self.threads if self.settings.workers is None else self.settings.workers
        verdicts = run_programs(programs, limits, workers=workers)
        return [Decision(s.id, s.prompt_id, float(v.passed), v.passed, v.status + (f": {v.detail}" if v.detail else ""))
                for s, v in zip(samples, verdicts, strict=True)]
