"""``failing``: a positive control, not a review gate. It trains on exactly the samples an execution gate would
reject: a sample with tests whose program fails them, and one without tests whose program does not run to its end.
Fine-tuning on the model's own failures is a harm we are certain of, so the arm shows whether a run, at its dose
and with its seeds, can detect damage at all (an instrument that cannot see this cannot tell "no decline" from "too
gentle a world"). Beyond the study. Programs run only through ``gatedloop.sandbox``, as the execution gate's do.
Options: ``timeout_s`` (default 5), ``workers`` (default: the job's threads).
"""

from __future__ import annotations

from dataclasses import dataclass

from gatedloop.core.options import option
from gatedloop.gates.base import GATES, Decision, Gate, Sample
from gatedloop.sandbox import Limits, run_programs, with_tests


@GATES.register("failing")
class FailingGate(Gate):
    kind = "harm"

    @dataclass(frozen=True)
    class Options:
        timeout_s: float = option(5.0, "seconds each sample's program (with its tests, if any) may run",
                                  exclusiveMinimum=0)
        workers: int | None = option(None, "programs run at once (null: the job's threads)", minimum=1)

    def decide(self, samples: list[Sample]) -> list[Decision]:
        limits = Limits(timeout_s=float(self.settings.timeout_s))
        programs = [with_tests(s.program, s.tests) if s.tests else s.program + "\n" for s in samples]
        workers = self.threads if self.settings.workers is None else self.settings.workers
        verdicts = run_programs(programs, limits, workers=workers)
        return [Decision(s.id, s.prompt_id, float(not v.passed), not v.passed,
                         ("fails: " if not v.passed else "passes: ") + v.status + (f": {v.detail}" if v.detail else ""))
                for s, v in zip(samples, verdicts, strict=True)]
