"""The benchmark interface: tasks with a prompt, and the program that checks a completion."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from gatedloop.backends.base import DEFAULT_STOP
from gatedloop.core.io import iter_jsonl
from gatedloop.core.options import options_from
from gatedloop.sandbox import with_tests


@dataclass(frozen=True)
class BenchmarkTask:
    task_id: str
    prompt: str
    test_program: str  # appended after prompt + completion; raises on a wrong answer
    family: str | None = None
    timeout_s: float | None = None  # the wall-clock budget this task needs at least (default: the configured one)

    def program(self, completion: str) -> str:
        """The program that checks a completion (the text after the prompt)."""
        return self.check_program(self.prompt + completion)

    def check_program(self, solution: str) -> str:
        """The program that checks a self-contained solution (prompt included, evalplus's ``solution``)."""
        return with_tests(solution, self.test_program)


class Benchmark(ABC):
    """A named set of tasks. ``data`` is a local file where the benchmark needs one (or may take one instead of
    downloading). Benchmarks with ``needs_preparation`` get a workflow job that downloads and checks their data
    first, so a missing file fails before any model job runs."""

    name = ""
    needs_preparation = False
    # Host memory a job that loads every task (with its tests) needs for it: sizes the contamination check's job.
    memory_mb = 100

    @dataclass(frozen=True)
    class Options:
        """Benchmark-specific settings (config: score.<benchmark>); none by default."""

    required_fields: tuple[str, ...] = ()  # what each line of a local data file must have
    id_field = "task_id"

    @classmethod
    def default_stop(cls, prompt_format: str) -> list[str]:
        """Where a completion of this benchmark's prompt ends, per prompt format (config ``score.stop.<name>``
        overrides it). Raw: HumanEval-style continuations end where top-level code starts. Chat: the model ends its
        turn, and the program is extracted from the answer."""
        return list(DEFAULT_STOP) if prompt_format == "raw" else []

    def chat_solution(self, task: BenchmarkTask, answer: str) -> str:
        """The self-contained program in a chat answer that began inside a code block (evalplus's sanitizer:
        the entry point and what it needs)."""
        from gatedloop.models.prompt_formats import solution_from_answer

        return solution_from_answer(answer, getattr(task, "entry_point", None))

    @classmethod
    def check_data(cls, path: str | Path) -> None:
        """Every line of a local data file (JSONL, or JSONL.gz) is JSON with the fields this benchmark reads; the
        first broken line is named by file and line. The workflow calls this when it validates the config, so a
        broken file fails before any job runs."""
        for line_number, row in iter_jsonl(path):
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{line_number}: a line must be a JSON object")
            missing = [key for key in cls.required_fields if key not in row]
            if missing:
                raise ValueError(f"{path}:{line_number}: task {row.get(cls.id_field)!r} lacks {', '.join(missing)}")

    def __init__(self, data: str | None = None, **options):
        """``options``: the benchmark's settings (config ``score.<name>``, ``--option NAME.KEY=VALUE``), typed by its
        ``Options`` into ``settings``; an unknown key or a wrong type is refused, naming it."""
        self.data = data
        self.settings = options_from(self.Options, options, f"score.{self.name}")

    @abstractmethod
    def tasks(self) -> list[BenchmarkTask]: ...

    def reference_solutions(self) -> dict[str, str]:
        """task id -> reference solution, where the benchmark has them (for contamination checks)."""
        return {}

    def prepare(self) -> dict:
        """Fetch and check what ``tasks`` needs; a record of what was found (written by the prepare job)."""
        return {"benchmark": self.name, "n_tasks": len(self.tasks())}

    @classmethod
    def pinned_options(cls, options: dict, record: dict) -> dict:
        """The options with what the prepare job found pinned (its ``record``), so every scoring job reads the data
        that job checked: by default, the options as they are."""
        return options
