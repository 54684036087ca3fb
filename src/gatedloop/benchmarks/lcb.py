"""LiveCodeBench code generation: problems from a local file or its hub dataset (release version and contest-date
window from config), graded like LiveCodeBench's own grader (see ``lcb_harness.py``), every program in our sandbox.

Data: ``data`` is a JSONL file of rows of ``livecodebench/code_generation_lite`` (question_id, question_title,
question_content, platform, contest_date, starter_code, difficulty, public_test_cases, private_test_cases,
metadata; private tests as JSON or as the hub's base64/zlib/pickle encoding). Without a file, the release's JSONL
files of the hub dataset (``release_version``; ``revision`` pins a commit) through ``huggingface_hub``'s cache,
which ``HF_HUB_OFFLINE=1`` reads without network; a failed download says what failed and how to provide the rows.

Prompts use LiveCodeBench's generic question template and end inside a Python code block, so a base model writes
the program and a completion ends at the closing backticks.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
import pickle
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from gatedloop.benchmarks.base import Benchmark, BenchmarkTask
from gatedloop.benchmarks.plus import BenchmarkDataMissing
from gatedloop.core.io import iter_jsonl
from gatedloop.core.options import option

HARNESS = Path(__file__).with_name("lcb_harness.py").read_text()
HUB_DATASET = "livecodebench/code_generation_lite"
CODE_FENCE = "```"
DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # a contest-date bound, YYYY-MM-DD
# The grader's prelude: every program sees these names (star imports first, then the modules themselves).
PRELUDE_MODULES = ("string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random",
                   "statistics", "itertools", "functools", "operator", "io", "sys", "json", "builtins", "typing")
PRELUDE = ("".join(f"from {m} import *\n" for m in PRELUDE_MODULES)
           + "".join(f"import {m}\n" for m in PRELUDE_MODULES if m not in {"builtins", "typing"})
           + "sys.setrecursionlimit(50000)\n")
WITH_STARTER = ("You will use the following starter code to write the solution to the problem and enclose your "
                "code within delimiters.")
WITHOUT_STARTER = ("Read the inputs from stdin solve the problem and write the answer to stdout (do not directly "
                   "test on the sample inputs). Enclose your code within delimiters as follows. Ensure that when the "
                   "python program runs, it reads the inputs, runs the algorithm and writes output to STDOUT.")
REQUIRED = ("question_id", "question_content", "contest_date", "public_test_cases", "private_test_cases", "metadata")


def without_main_guard(code: str) -> str:
    """A final ``if __name__ == '__main__':`` block becomes plain statements (the grader does the same)."""
    try:
        tree = ast.parse(code)
        last = tree.body[-1]
        if isinstance(last, ast.If) and ast.unparse(last.test).strip() == "__name__ == '__main__'":
            return ast.unparse(tree.body[:-1]) + "\n" + ast.unparse(last.body)
    except (SyntaxError, IndexError, ValueError):
        pass
    return code


def wrapped_stdio_program(code: str) -> str:
    """Imports hoisted, every other statement inside ``def wrapped_function():``, after the prelude; code that
    does not parse is left as it is (and fails to load)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code
    imports = [s for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom))]
    others = [s for s in tree.body if not isinstance(s, (ast.Import, ast.ImportFrom))]
    extra = {"type_params": []} if "type_params" in ast.FunctionDef._fields else {}
    function = ast.FunctionDef(name="wrapped_function", args=ast.arguments(
        posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]), body=others, decorator_list=[],
        lineno=-1, **extra)
    return PRELUDE + "\n" + "\n".join(ast.unparse(s) for s in imports) + "\n" + ast.unparse(function)


def release_file_number(name: str) -> int:
    """test.jsonl -> 1, test5.jsonl -> 5; 0 for any other file."""
    match = re.fullmatch(r"test(\d*)\.jsonl", name)
    return (int(match[1]) if match[1] else 1) if match else 0


def release_file(number: int) -> str:
    return "test.jsonl" if number == 1 else f"test{number}.jsonl"


def release_files(tag: str) -> list[str]:
    """The hub files a release tag reads, as the dataset's loading script (``code_generation_lite.py``,
    ``ALLOWED_FILES``) maps them: ``release_vN`` every increment up to N (test.jsonl .. testN.jsonl), ``vN`` the
    N-th increment alone, ``vN_vM`` increments N to M. ``release_latest`` needs the hub's file list."""
    cumulative = re.fullmatch(r"release_v(\d+)", tag)
    single = re.fullmatch(r"v(\d+)", tag)
    span = re.fullmatch(r"v(\d+)_v(\d+)", tag)
    if cumulative and int(cumulative[1]) >= 1:
        return [release_file(n) for n in range(1, int(cumulative[1]) + 1)]
    if single and int(single[1]) >= 1:
        return [release_file(int(single[1]))]
    if span and 1 <= int(span[1]) < int(span[2]):
        return [release_file(n) for n in range(int(span[1]), int(span[2]) + 1)]
    raise ValueError(f"config key 'score.livecodebench.release_version': {tag!r} is not a release tag of "
                     f"{HUB_DATASET} (release_vN, vN, vN_vM with N < M, or release_latest)")


def decode_tests(field: str) -> list[dict]:
    try:
        return json.loads(field)
    except json.JSONDecodeError:  # the hub's compressed private tests
        return json.loads(pickle.loads(zlib.decompress(base64.b64decode(field.encode("utf-8")))))


def question_prompt(content: str, starter_code: str) -> str:
    prompt = f"### Question:\n{content}\n\n"
    if starter_code:
        prompt += f"### Format: {WITH_STARTER}\n```python\n{starter_code}\n```\n\n"
    else:
        prompt += f"### Format: {WITHOUT_STARTER}\n```python\n# YOUR CODE HERE\n```\n\n"
    return prompt + "### Answer: (use the provided format with backticks)\n\n```python\n"


@dataclass(frozen=True)
class LCBTask(BenchmarkTask):
    fn_name: str | None = None
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    test_timeout: int = 6

    def program(self, completion: str) -> str:
        return self.check_program(completion.split(CODE_FENCE)[0])

    def check_program(self, solution: str) -> str:
        if self.fn_name is None:  # stdin program: wrapped into a function, as the grader does
            code = wrapped_stdio_program(without_main_guard(solution))
        else:
            code = PRELUDE + "\n\n" + solution
        call = (f"_gl_lcb_checker()({code!r}, {self.fn_name!r}, {list(self.inputs)!r}, {list(self.outputs)!r}, "
                f"{self.test_timeout!r})")
        return HARNESS + "\n\n" + call + "\n"


class LiveCodeBenchBenchmark(Benchmark):
    required_fields = REQUIRED
    id_field = "question_id"

    name = "livecodebench"
    needs_preparation = True
    memory_mb = 16000  # the decoded private tests of a full release (what prepare_benchmark is given too)

    @dataclass(frozen=True)
    class Options:
        """LiveCodeBench problems - hub release, contest-date window (inclusive, YYYY-MM-DD), seconds per test"""

        release_version: str = option("release_v1", "the hub release: release_vN, or release_latest")
        start_date: str | None = option(None, "the window's first contest date (null: open)", pattern=DATE)
        end_date: str | None = option(None, "the window's last contest date (null: open)", pattern=DATE)
        timeout_s: int = option(6, "seconds per test", minimum=1)
        revision: str | None = option(None, "the hub dataset's revision (a commit hash pins it; null - main, whose "
                                      "commit the prepare job records); unused with score.data.livecodebench",
                                      minLength=1)

    @classmethod
    def default_stop(cls, prompt_format: str) -> list[str]:
        """Both prompt formats open a Python code block, so an answer ends at its closing fence: no stop that cuts
        a program (a stdin program's ``def main``, ``import sys``, ``print``, comments all stay)."""
        return [CODE_FENCE]

    def chat_solution(self, task: BenchmarkTask, answer: str) -> str:
        """The code block as the model wrote it, as LiveCodeBench's own ``extract_code`` takes it: evalplus's
        sanitizer would keep only definitions and drop a stdin program's top-level ``main()`` and ``print``."""
        return answer.split(CODE_FENCE)[0]

    def _rows(self) -> list[tuple[str, dict]]:
        if self.data:
            return list(self._file_rows(Path(self.data)))
        return [row for path in self.hub_files() for row in self._file_rows(path)]

    def hub_files(self) -> list[Path]:
        """The release's JSONL files of the hub dataset, downloaded into (or found in) the Hugging Face cache. The
        files are read directly: ``datasets`` >= 4 no longer runs the dataset's loading script."""
        from huggingface_hub import hf_hub_download

        revision = self._revision()
        paths = []
        for name in self._release_files(revision):
            try:
                paths.append(Path(hf_hub_download(HUB_DATASET, name, repo_type="dataset", revision=revision)))
            except Exception as exc:
                raise BenchmarkDataMissing(self._download_error(name, revision, exc)) from None
        return paths

    def _revision(self) -> str | None:
        revision = self.settings.revision
        return None if revision is None else str(revision)

    def _release_files(self, revision: str | None) -> list[str]:
        tag = str(self.settings.release_version)
        if tag != "release_latest":
            return release_files(tag)
        from huggingface_hub import list_repo_files

        try:
            names = list_repo_files(HUB_DATASET, repo_type="dataset", revision=revision)
        except Exception as exc:  # the file list is the hub's answer: no cache holds it
            raise BenchmarkDataMissing(
                f"benchmark 'livecodebench': release_latest needs the file list of {HUB_DATASET}, and the hub did not "
                f"give it ({type(exc).__name__}: {exc}). Name the release instead (config key "
                f"score.livecodebench.release_version: release_vN, whose files the cache may hold).") from None
        return sorted((n for n in names if release_file_number(n)), key=release_file_number)

    def _download_error(self, name: str, revision: str | None, exc: Exception) -> str:
        """What failed, in words: the hub client's error classes tell a missing file from a missing connection."""
        from huggingface_hub import errors

        where = f"{HUB_DATASET} at revision {revision or 'main'}"
        cause = f"({type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''})"
        if isinstance(exc, (errors.LocalEntryNotFoundError, errors.OfflineModeIsEnabled)):
            why = ("HF_HUB_OFFLINE is set and the file is not in the Hugging Face cache"
                   if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}
                   else "the hub could not be reached and the file is not in the Hugging Face cache")
            return (f"benchmark 'livecodebench': could not load {name} of {where} "
                    f"({self.settings.release_version}): {why} {cause}. Download it where the network allows "
                    f"(huggingface-cli download {HUB_DATASET} {name} --repo-type dataset"
                    f"{' --revision ' + revision if revision else ''}) into the same cache (HF_HOME), or give a "
                    f"JSONL file of its rows: score.data.livecodebench: PATH in the config (--data PATH to "
                    f"python -m gatedloop.score).")
        if isinstance(exc, errors.GatedRepoError | errors.RepositoryNotFoundError):
            why = "the hub has no such dataset, or it needs a login this machine lacks"
        elif isinstance(exc, errors.RevisionNotFoundError):
            why = f"the dataset has no revision {revision!r} (config key score.livecodebench.revision)"
        elif isinstance(exc, errors.EntryNotFoundError):
            why = (f"the dataset has no file {name} at this revision, which release "
                   f"{self.settings.release_version!r} needs (config key score.livecodebench.release_version)")
        else:
            why = "the download failed"
        return f"benchmark 'livecodebench': could not load {name} of {where}: {why} {cause}."

    @staticmethod
    def _file_rows(path: Path):
        for number, row in iter_jsonl(path):
            yield f"{path}:{number}", row

    def _in_window(self, contest_date: str) -> bool:
        day = str(contest_date)[:10]
        start, end = self.settings.start_date, self.settings.end_date
        return (not start or day >= str(start)[:10]) and (not end or day <= str(end)[:10])

    def tasks(self) -> list[BenchmarkTask]:
        tasks = []
        timeout = int(self.settings.timeout_s)
        for where, row in self._rows():
            missing = [key for key in REQUIRED if key not in row]
            if missing:
                raise ValueError(f"{where}: problem {row.get('question_id')!r} lacks {', '.join(missing)}")
            if not self._in_window(row["contest_date"]):
                continue
            try:
                tests = decode_tests(row["public_test_cases"]) + decode_tests(row["private_test_cases"])
                fn_name = json.loads(row["metadata"] or "{}").get("func_name")
            except Exception as exc:
                raise ValueError(f"{where}: problem {row['question_id']!r}: unreadable tests or metadata "
                                 f"({type(exc).__name__}: {exc})") from None
            inputs = tuple(t["input"] for t in tests)
            outputs = tuple(t["output"] for t in tests)
            budget = (timeout + 1) * len(tests) + 5.0  # the grader's own limit for the whole problem
            starter = row.get("starter_code") or ""
            tasks.append(LCBTask(row["question_id"], question_prompt(row["question_content"], starter),
                                 "\n".join(inputs[:3]), None, budget, fn_name, inputs, outputs, timeout))
        if not tasks:
            raise ValueError(f"benchmark 'livecodebench': no problem in the contest-date window "
                             f"{self.settings.start_date} .. {self.settings.end_date}")
        return tasks

    @classmethod
    def pinned_options(cls, options: dict, record: dict) -> dict:
        """A moving revision (main) is pinned to the commit the prepare job read: a scoring job on a node with
        internet would otherwise read whatever main is by then."""
        if options.get("revision") is None and record.get("commit"):
            return {**options, "revision": record["commit"]}
        return options

    def prepare(self) -> dict:
        tasks = self.tasks()
        record = {"benchmark": self.name, "n_tasks": len(tasks),
                  "source": self.data or f"{HUB_DATASET} ({self.settings.release_version})"}
        if self.data:
            record["sha256"] = hashlib.sha256(Path(self.data).read_bytes()).hexdigest()
        else:  # the cache keeps files under snapshots/<commit>/: the commit a moving revision (main) resolved to
            files = self.hub_files()
            record.update(files=[f.name for f in files], commit=files[0].parent.name,
                          revision=self._revision() or "main")
        return record
