"""HumanEval+ and MBPP+ (evalplus): problems through evalplus's own loaders and pinned versions, verdicts equal to
evalplus's ``check_correctness`` (base and plus inputs), every solution run in our sandbox.

Data: evalplus downloads HumanEvalPlus v0.1.10 / MbppPlus v0.2.0 into its cache directory
(``$XDG_CACHE_HOME/evalplus``) where the network allows. Offline, give a local file: ``--data FILE`` on the score
CLI (``score.data.<benchmark>`` in config), evalplus's ``HUMANEVAL_OVERRIDE_PATH`` / ``MBPP_OVERRIDE_PATH``, or the
file pre-placed in that cache directory. Without any of these the error says exactly that.

Expected outputs come from the canonical solutions through evalplus's ``trusted_exec`` (as its
``get_groundtruth`` computes them), cached once per data file next to evalplus's cache, written atomically.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gatedloop.benchmarks.base import Benchmark, BenchmarkTask

HARNESS = Path(__file__).with_name("plus_harness.py").read_text()
ORACLE_FORMAT = 1  # bump when the cached expected-output layout changes


class BenchmarkDataMissing(RuntimeError):
    """A benchmark's data could not be found or downloaded; the message says how to provide it."""


@dataclass(frozen=True)
class PlusTask(BenchmarkTask):
    entry_point: str = ""
    atol: float = 0.0
    oracle: str = "exact"
    payload: str = ""  # base64 pickle: [(phase, inputs, expected, alternatives, time limits), ...]

    def base_passed(self, verdict) -> bool:
        """Whether the original (base) inputs passed: the check runs them first and stops at the first failure, so
        a failure in the plus phase means base passed (evalplus's separate HumanEval / MBPP number)."""
        return verdict.passed or verdict.detail.startswith("AssertionError: plus")

    def check_program(self, solution: str) -> str:
        call = (f"_gl_plus_checker()({solution!r}, {self.payload!r}, {self.entry_point!r}, {self.atol!r}, "
                f"{self.oracle!r})")
        return HARNESS + "\n\n" + call + "\n"


def oracle_mode(dataset: str, entry_point: str) -> str:
    """evalplus's special oracles, in the order its ``unsafe_execute`` tries them (lists from evalplus itself)."""
    from evalplus.eval._special_oracle import MBPP_OUTPUT_NOT_NONE_TASKS, MBPP_OUTPUT_SET_EQ_TASKS

    if dataset == "mbpp":
        named = {"are_equivalent": "are_equivalent", "sum_div": "sum_div", "surface_Area": "alt_close",
                 "digit_distance_nums": "alt_equal"}
        if entry_point in named:
            return named[entry_point]
        if entry_point in MBPP_OUTPUT_SET_EQ_TASKS:
            return "set_eq"
        if entry_point in MBPP_OUTPUT_NOT_NONE_TASKS:
            return "not_none"
    if dataset == "humaneval" and entry_point == "find_zero":
        return "find_zero"
    return "exact"


def alternative_outputs(mode: str, inputs: list) -> list:
    """Where evalplus accepts a second reading of a task, that reading's value for each input."""
    from evalplus.eval._special_oracle import _digit_distance_nums, _surface_Area

    if mode == "alt_close":
        return [_surface_Area(*inp) for inp in inputs]
    if mode == "alt_equal":
        return [_digit_distance_nums(*inp) for inp in inputs]
    return [None] * len(inputs)


def atomic_pickle(obj, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as handle:
        pickle.dump(obj, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(handle.name, path)


class EvalPlusBenchmark(Benchmark):
    """``data``: a local file in evalplus's format, used through evalplus's override variable."""

    dataset = ""  # evalplus's name: humaneval | mbpp
    release = ""  # evalplus's file stem: HumanEvalPlus | MbppPlus
    override = ""  # evalplus's environment variable for a local file
    needs_preparation = True
    memory_mb = 2000  # MBPP+'s plus inputs run to hundreds of MB as Python objects
    # evalplus's completeness_check, plus the fields we read ourselves
    required_fields = ("task_id", "prompt", "contract", "entry_point", "canonical_solution", "base_input",
                       "plus_input", "atol")

    @classmethod
    def default_stop(cls, prompt_format: str) -> list[str]:
        """evalplus's own stop strings (evalplus 0.3.1, ``evalplus/provider/utility.py``: ``EOS`` plus
        ``extra_eos_for_direct_completion(dataset)`` for base models, ``EOS`` plus the closing code fence for chat
        models, as ``provider/hf.py`` and ``provider/vllm.py`` add them). MBPP's base list cuts at a new docstring or
        assert, never at ``import`` or ``def``: its prompt is a docstring, and the model writes the whole module."""
        from evalplus.provider.utility import EOS, extra_eos_for_direct_completion

        extra = extra_eos_for_direct_completion(cls.dataset) if prompt_format == "raw" else ["\n```\n"]
        return [*EOS, *extra]

    def _module(self):
        return importlib.import_module(f"evalplus.data.{self.dataset}")

    def _version(self) -> str:
        module = self._module()
        return module.HUMANEVAL_PLUS_VERSION if self.dataset == "humaneval" else module.MBPP_PLUS_VERSION

    def problems(self) -> dict[str, dict]:
        module = self._module()
        # evalplus reads its override variable once, at import; set the module's copy for this call
        if self.data:
            self.check_data(self.data)
            setattr(module, self.override, str(Path(self.data).resolve()))
        else:
            setattr(module, self.override, os.environ.get(self.override) or None)
        load = module.get_human_eval_plus if self.dataset == "humaneval" else module.get_mbpp_plus
        try:
            return load()
        except OSError as exc:  # urllib's URLError: no network, no cached file
            raise BenchmarkDataMissing(self._missing_message(exc)) from None

    def _missing_message(self, exc: Exception) -> str:
        from evalplus.data.utils import get_dataset_metadata

        url, cache_path = get_dataset_metadata(self.release, self._version(), False)
        return (f"benchmark {self.name!r}: evalplus could not download {self.release} {self._version()} ({exc}). "
                f"Offline, provide the file one of these ways: (1) download {url}, gunzip it and set "
                f"score.data.{self.name}: PATH in the config (or pass --data PATH to python -m gatedloop.score); "
                f"(2) place the gunzipped file at {cache_path}; (3) set {self.override}=PATH.")

    def _data_hash(self) -> str:
        module = self._module()
        return module.get_human_eval_plus_hash() if self.dataset == "humaneval" else module.get_mbpp_plus_hash()

    def expected_outputs(self, problems: dict[str, dict]) -> dict[str, dict]:
        """task id -> {"base": (outputs, seconds), "plus": (...)}, computed once per data file and cached."""
        from evalplus.data.utils import CACHE_DIR

        cache = Path(CACHE_DIR) / f"gatedloop-expected-{self.dataset}-{self._data_hash()}-v{ORACLE_FORMAT}.pkl"
        if cache.is_file():
            with open(cache, "rb") as handle:
                return pickle.load(handle)
        expected = {task_id: self._run_reference(problem) for task_id, problem in problems.items()}
        atomic_pickle(expected, cache)
        return expected

    def _run_reference(self, problem: dict) -> dict:
        from evalplus.eval._special_oracle import MBPP_OUTPUT_NOT_NONE_TASKS
        from evalplus.gen.util import trusted_exec

        not_none = self.dataset == "mbpp" and problem["entry_point"] in MBPP_OUTPUT_NOT_NONE_TASKS
        code = problem["prompt"] + problem["canonical_solution"]
        try:
            return {phase: trusted_exec(code, problem[f"{phase}_input"], problem["entry_point"], record_time=True,
                                        output_not_none=not_none)
                    for phase in ("base", "plus")}
        except Exception as exc:  # the expected outputs come from this solution: without them nothing can score
            raise ValueError(f"{self.data or self.name}: task {problem['task_id']!r}: the canonical solution fails "
                             f"on its own inputs ({type(exc).__name__}: {exc})") from None

    def tasks(self) -> list[BenchmarkTask]:
        from evalplus.config import DEFAULT_GT_TIME_LIMIT_FACTOR, DEFAULT_MIN_TIME_LIMIT

        problems = self.problems()
        expected = self.expected_outputs(problems)
        tasks = []
        for task_id, problem in problems.items():
            mode = oracle_mode(self.dataset, problem["entry_point"])
            phases, budget = [], 2.0  # interpreter start and unpickling
            for phase in ("base", "plus"):
                outputs, seconds = expected[task_id][phase]
                limits = [max(DEFAULT_MIN_TIME_LIMIT, DEFAULT_GT_TIME_LIMIT_FACTOR * t) for t in seconds]
                inputs = problem[f"{phase}_input"]
                phases.append((phase, inputs, outputs, alternative_outputs(mode, inputs), limits))
                budget += min(60.0, sum(limits)) + 2.0
            payload = base64.b64encode(pickle.dumps(phases, protocol=pickle.HIGHEST_PROTOCOL)).decode("ascii")
            tasks.append(PlusTask(task_id, problem["prompt"], repr(problem["base_input"]), None, budget,
                                  problem["entry_point"], float(problem["atol"]), mode, payload))
        return tasks

    def reference_solutions(self) -> dict[str, str]:
        return {task_id: p["prompt"] + p["canonical_solution"] for task_id, p in self.problems().items()}

    def prepare(self) -> dict:
        """Download (where needed) and compute the expected outputs now; what a score job will read."""
        tasks = self.tasks()
        module = self._module()
        path = getattr(module, self.override) or self._module_cache_path()
        return {"benchmark": self.name, "n_tasks": len(tasks), "version": self._version(), "file": str(path),
                "md5": self._data_hash(), "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()}

    def _module_cache_path(self) -> str:
        from evalplus.data.utils import get_dataset_metadata

        return get_dataset_metadata(self.release, self._version(), False)[1]


class HumanEvalPlusBenchmark(EvalPlusBenchmark):
    name, dataset, release, override = "humaneval_plus", "humaneval", "HumanEvalPlus", "HUMANEVAL_OVERRIDE_PATH"


class MbppPlusBenchmark(EvalPlusBenchmark):
    name, dataset, release, override = "mbpp_plus", "mbpp", "MbppPlus", "MBPP_OVERRIDE_PATH"
