"""LiveCodeBench: our sandboxed grader gives LiveCodeBench's own verdict (``codegen_metrics``, nvidia-livecodebench)
sample for sample on crafted stdin and call-based problems, and bad or missing data fails with a clear message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gatedloop.benchmarks import BENCHMARKS
from gatedloop.benchmarks.lcb import release_files
from gatedloop.sandbox import Limits, run_programs
from gatedloop.score import task_limits

ROOT = Path(__file__).resolve().parents[2]
CRAFTED = ROOT / "resources/livecodebench/crafted.jsonl"
TIMEOUT = 2  # seconds per test, in both graders (LiveCodeBench's default is 6)

SUM = "total = sum(map(int, input().split()))\n"
STDIN = {
    "lc-crafted-1": {
        "input": "n = int(input())\n" + SUM + "print(total)\n",
        "readline": "import sys\nn = int(sys.stdin.readline())\nprint(sum(map(int, sys.stdin.readline().split())))\n",
        "read": "import sys\ndata = sys.stdin.read().split()\nprint(sum(map(int, data[1:])))\n",
        "open0": "print(sum(map(int, open(0).read().split()[1:])))\n",
        "main_guard": "def main():\n    input()\n    print(sum(map(int, input().split())))\n\n"
                      "if __name__ == '__main__':\n    main()\n",
        "buffer": "import sys\ndata = sys.stdin.buffer.read().split()\nprint(sum(map(int, data[1:])))\n",
        "trailing_space": "input()\n" + SUM + "print(str(total) + '   ')\n",
        "blank_line_after": "input()\n" + SUM + "print(total)\nprint()\n",
        "off_by_one": "input()\n" + SUM + "print(total + 1)\n",
        "exit_before": "import sys\ninput()\n" + SUM + "sys.exit(0)\nprint(total)\n",
        "exit_after": "import sys\ninput()\n" + SUM + "print(total)\nexit()\n",
        "raises": "input()\nraise ValueError('no')\n",
        "loops": "input()\nwhile True:\n    pass\n",
        "uses_getcwd": "import os\nos.getcwd()\ninput()\n" + SUM + "print(total)\n",
        "solution_class": "class Solution:\n    pass\ninput()\n" + SUM + "print(total)\n",
        "syntax_error": "print(\n",
        "helper_uses_global": "n = int(input())\nnums = list(map(int, input().split()))\n"
                              "def total():\n    return sum(nums)\nprint(total())\n",
    },
    "lc-crafted-2": {
        "two_decimals": "n = int(input())\nxs = [int(input()) for _ in range(n)]\nprint(f'{sum(xs) / n:.2f}')\n",
        "three_decimals": "n = int(input())\nxs = [int(input()) for _ in range(n)]\nprint(f'{sum(xs) / n:.3f}')\n",
        "plain_float": "n = int(input())\nxs = [int(input()) for _ in range(n)]\nprint(round(sum(xs) / n, 2))\n",
        "truncated": "n = int(input())\nxs = [int(input()) for _ in range(n)]\nprint(int(sum(xs) / n))\n",
    },
    "lc-crafted-3": {
        "sorted": "n = int(input())\nprint('\\n'.join(sorted(input() for _ in range(n))))\n",
        "one_line": "n = int(input())\nprint(' '.join(sorted(input() for _ in range(n))))\n",
        "reversed": "n = int(input())\nprint('\\n'.join(sorted((input() for _ in range(n)), reverse=True)))\n",
    },
}
CALL = {
    "lc-crafted-4": {
        "correct": "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n"
                   "        for i in range(len(nums)):\n            for j in range(i + 1, len(nums)):\n"
                   "                if nums[i] + nums[j] == target:\n                    return [i, j]\n",
        "tuple": "class Solution:\n    def twoSum(self, nums, target):\n        for i in range(len(nums)):\n"
                 "            for j in range(i + 1, len(nums)):\n                if nums[i] + nums[j] == target:\n"
                 "                    return (i, j)\n",
        "last_pair": "class Solution:\n    def twoSum(self, nums, target):\n        found = None\n"
                     "        for i in range(len(nums)):\n            for j in range(i + 1, len(nums)):\n"
                     "                if nums[i] + nums[j] == target:\n                    found = [i, j]\n"
                     "        return found\n",
        "loops": "class Solution:\n    def twoSum(self, nums, target):\n        while True:\n            pass\n",
    },
    "lc-crafted-5": {
        "correct": "class Solution:\n    def longestRun(self, s):\n        best = run = 0\n        prev = ''\n"
                   "        for c in s:\n            run = run + 1 if c == prev else 1\n            prev = c\n"
                   "            best = max(best, run)\n        return best\n",
        "module_function": "def longestRun(s):\n    import itertools\n"
                           "    return max(len(list(g)) for _, g in itertools.groupby(s))\n",
        "raises": "class Solution:\n    def longestRun(self, s):\n        raise RuntimeError\n",
        "none": "class Solution:\n    def longestRun(self, s):\n        return None\n",
        "wrong_name": "class Solution:\n    def longest_run(self, s):\n        return 1\n",
    },
    "lc-crafted-6": {
        "correct": "class Solution:\n    def squares(self, n):\n        return [[i, i * i] for i in range(n)]\n",
        "tuples_inside": "class Solution:\n    def squares(self, n):\n        return [(i, i * i) for i in range(n)]\n",
        "exits": "class Solution:\n    def squares(self, n):\n        raise SystemExit(0)\n",
    },
}


def reference_verdicts(row: dict, solutions: list[str]) -> list[bool]:
    from livecodebench.benchmarks.code_generation import CodeGenerationProblem
    from livecodebench.evaluation.compute_code_generation_metrics import evaluate_generations

    # what codegen_metrics does per generation, and how compute_metrics_from_results counts one as correct
    sample = CodeGenerationProblem(**row).get_evaluation_sample()
    results, _ = evaluate_generations([sample] * len(solutions), [[s] for s in solutions], num_process_evaluate=2,
                                      timeout=TIMEOUT)
    return [bool(np.all(np.array(results[i][0]) > 0)) for i in range(len(solutions))]


def test_verdicts_equal_livecodebench_grader():
    rows = {json.loads(line)["question_id"]: json.loads(line) for line in CRAFTED.read_text().splitlines()}
    tasks = {t.task_id: t for t in BENCHMARKS.get("livecodebench")(str(CRAFTED), timeout_s=TIMEOUT).tasks()}
    mismatches, theirs_all = [], []
    for problem_id, solutions in {**STDIN, **CALL}.items():
        kinds, codes = list(solutions), list(solutions.values())
        theirs = reference_verdicts(rows[problem_id], codes)
        task = tasks[problem_id]
        ours = run_programs([task.check_program(c) for c in codes], task_limits(task, Limits()), workers=2)
        mismatches += [(problem_id, kind, v.detail, ref) for kind, v, ref in zip(kinds, ours, theirs, strict=True)
                       if v.passed != ref]
        theirs_all += list(zip(kinds, theirs, strict=True))
    assert not mismatches
    passed = {kind for kind, ref in theirs_all if ref}
    assert {"input", "readline", "read", "main_guard", "correct", "tuple", "three_decimals"} <= passed
    assert {"off_by_one", "loops", "raises", "exit_before", "syntax_error", "truncated", "none"}.isdisjoint(passed)


def test_tasks_follow_the_date_window_and_decode_hub_encoded_tests():
    bench = BENCHMARKS.get("livecodebench")
    all_tasks = bench(str(CRAFTED)).tasks()
    assert len(all_tasks) == 6
    assert all(len(t.inputs) == 8 for t in all_tasks)  # 2 public + 6 private, the hub-encoded ones included
    window = bench(str(CRAFTED), start_date="2024-02-01", end_date="2024-03-31").tasks()
    assert sorted(t.task_id for t in window) == ["lc-crafted-2", "lc-crafted-3"]
    with pytest.raises(ValueError, match="no problem in the contest-date window"):
        bench(str(CRAFTED), start_date="2030-01-01").tasks()
    with pytest.raises(ValueError, match="unknown option 'release'"):
        bench(str(CRAFTED), release="v9")


def test_a_completion_ends_at_the_closing_backticks():
    task = next(t for t in BENCHMARKS.get("livecodebench")(str(CRAFTED)).tasks() if t.task_id == "lc-crafted-6")
    assert task.prompt.endswith("```python\n") and "class Solution" in task.prompt
    completion = CALL["lc-crafted-6"]["correct"] + "```\n\nThis returns the pairs."
    assert run_programs([task.program(completion)])[0].passed


def _score(args, tmp_path):
    env = dict(os.environ, HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    return subprocess.run([sys.executable, "-m", "gatedloop.score", *args], capture_output=True, text=True,
                          env=env, timeout=180)


def test_missing_problems_say_how_to_provide_them(tmp_path):
    samples = tmp_path / "s.jsonl"
    samples.write_text('{"task_id": "x", "solution": "pass"}\n')
    result = _score(["--benchmark", "livecodebench", "--samples", str(samples), "--out", str(tmp_path / "v")],
                    tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert ("could not load test.jsonl of livecodebench/code_generation_lite at revision main (release_v1): "
            "HF_HUB_OFFLINE is set and the file is not in the Hugging Face cache") in result.stderr
    assert "huggingface-cli download livecodebench/code_generation_lite test.jsonl" in result.stderr
    assert "score.data.livecodebench" in result.stderr and "--data PATH" in result.stderr


HUB_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def hub_cache(home: Path) -> Path:
    """A Hugging Face cache (HF_HOME) as huggingface_hub leaves it after downloading two release files of the
    dataset: refs/main names the commit, snapshots/<commit>/ holds test.jsonl (problems 1-3), test2.jsonl (4-6)."""
    repo = home / "hub" / "datasets--livecodebench--code_generation_lite"
    snapshot = repo / "snapshots" / HUB_COMMIT
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(HUB_COMMIT)
    lines = CRAFTED.read_text().splitlines(keepends=True)
    (snapshot / "test.jsonl").write_text("".join(lines[:3]))
    (snapshot / "test2.jsonl").write_text("".join(lines[3:]))
    return home


def _prepare(home: Path, out: Path, *options: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(home))
    flags = [f"--option=livecodebench.{option}" for option in options]
    return subprocess.run([sys.executable, "-m", "gatedloop.prepare_benchmark", "--benchmark", "livecodebench",
                           *flags, "--out", str(out)], capture_output=True, text=True, env=env, timeout=180)


@pytest.mark.parametrize(("options", "ids"), [
    ((), ["lc-crafted-1", "lc-crafted-2", "lc-crafted-3"]),
    (("release_version=release_v2",), [f"lc-crafted-{i}" for i in range(1, 7)]),
    (("release_version=v2",), ["lc-crafted-4", "lc-crafted-5", "lc-crafted-6"]),
    (("release_version=v1_v2", f"revision={HUB_COMMIT}"), [f"lc-crafted-{i}" for i in range(1, 7)]),
])
def test_the_hub_release_files_load_from_the_cache(tmp_path, options, ids):
    """The same code path as a download: huggingface_hub resolves the files in its cache (offline here)."""
    result = _prepare(hub_cache(tmp_path / "hf"), tmp_path / "ready.json", *options)
    assert result.returncode == 0, result.stderr
    ready = json.loads((tmp_path / "ready.json").read_text())
    assert ready["n_tasks"] == len(ids) and ready["commit"] == HUB_COMMIT
    assert ready["files"] == release_files(ready["options"]["release_version"])


def test_scoring_reads_the_hub_release(tmp_path):
    home = hub_cache(tmp_path / "hf")
    samples = tmp_path / "s.jsonl"
    samples.write_text("".join(json.dumps({"task_id": t, "solution": s}) + "\n" for t, s in [
        ("lc-crafted-1", STDIN["lc-crafted-1"]["input"]), ("lc-crafted-5", CALL["lc-crafted-5"]["correct"])]))
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(home))
    result = subprocess.run([sys.executable, "-m", "gatedloop.score", "--benchmark", "livecodebench", "--samples",
                             str(samples), "--out", str(tmp_path / "v.jsonl"),
                             "--option=livecodebench.release_version=release_v2"],
                            capture_output=True, text=True, env=env, timeout=180)
    assert result.returncode == 0, result.stderr
    verdicts = [json.loads(line) for line in (tmp_path / "v.jsonl").read_text().splitlines()]
    assert [v["passed"] for v in verdicts] == [True, True]


@pytest.mark.parametrize(("options", "message"), [
    (("release_version=release_v3",), "could not load test3.jsonl of livecodebench/code_generation_lite at "
                                      "revision main (release_v3): HF_HUB_OFFLINE is set and the file is not in"),
    (("revision=feedface",), "at revision feedface (release_v1): HF_HUB_OFFLINE is set"),
    (("release_version=v3_v2",), "config key 'score.livecodebench.release_version': 'v3_v2' is not a release tag"),
    (("release_version=release_latest",), "release_latest needs the file list of"),
])
def test_a_release_the_cache_lacks_names_what_failed(tmp_path, options, message):
    result = _prepare(hub_cache(tmp_path / "hf"), tmp_path / "ready.json", *options)
    assert result.returncode != 0 and message in result.stderr and "Traceback" not in result.stderr


def test_release_tags_map_to_files_as_the_loading_script_does():
    assert release_files("release_v1") == ["test.jsonl"]
    assert release_files("release_v3") == ["test.jsonl", "test2.jsonl", "test3.jsonl"]
    assert release_files("v1") == ["test.jsonl"] and release_files("v6") == ["test6.jsonl"]
    assert release_files("v2_v4") == ["test2.jsonl", "test3.jsonl", "test4.jsonl"]
    for bad in ("release_v0", "v4_v4", "latest", "release_v"):
        with pytest.raises(ValueError, match="not a release tag"):
            release_files(bad)


def test_hub_answers_are_told_apart_from_a_missing_connection():
    import httpx2
    from huggingface_hub import errors

    bench = BENCHMARKS.get("livecodebench")(release_version="release_v7")
    response = httpx2.Response(404, request=httpx2.Request("GET", "https://huggingface.co/x/test7.jsonl"))
    missing_file = bench._download_error("test7.jsonl", None, errors.RemoteEntryNotFoundError("404", response=response))
    missing_revision = bench._download_error("test.jsonl", "v9", errors.RevisionNotFoundError("404", response=response))
    assert "has no file test7.jsonl at this revision, which release 'release_v7' needs" in missing_file
    assert "has no revision 'v9' (config key score.livecodebench.revision)" in missing_revision
    for message in (missing_file, missing_revision):
        assert "offline" not in message.lower() and "could not be reached" not in message


def test_a_broken_problem_line_is_named(tmp_path):
    data = tmp_path / "lcb.jsonl"
    lines = CRAFTED.read_text().splitlines()
    data.write_text(lines[0] + "\n" + "{broken\n")
    samples = tmp_path / "s.jsonl"
    samples.write_text('{"task_id": "lc-crafted-1", "solution": "pass"}\n')
    result = _score(["--benchmark", "livecodebench", "--data", str(data), "--samples", str(samples), "--out",
                     str(tmp_path / "v")], tmp_path)
    assert result.returncode != 0 and f"{data}:2: not valid JSON" in result.stderr


@pytest.mark.parametrize("attack", [
    "import sys\nframe = sys._getframe()\nwhile frame is not None:\n"
    "    for name in [n for n in frame.f_globals if n.startswith('_gl')]:\n"
    "        frame.f_globals[name] = lambda *a, **k: (lambda *a, **k: None)\n"
    "    frame = frame.f_back\n",
    "import builtins\nbuiltins.len = lambda x: 0\nbuiltins.zip = lambda *a, **k: []\nbuiltins.bool = lambda x: True\n",
    "print('All tests passed')\n",
])
def test_a_wrong_program_that_attacks_the_check_still_fails(attack):
    tasks = {t.task_id: t for t in BENCHMARKS.get("livecodebench")(str(CRAFTED), timeout_s=TIMEOUT).tasks()}
    stdin_wrong = attack + "input()\nprint(-1)\n"
    call_wrong = attack + "class Solution:\n    def squares(self, n):\n        return [[0, 1]]\n"
    verdicts = run_programs([tasks["lc-crafted-1"].check_program(stdin_wrong),
                             tasks["lc-crafted-6"].check_program(call_wrong)])
    assert not any(v.passed for v in verdicts), verdicts


def test_scoring_reads_the_commit_the_prepare_job_read_when_main_has_moved_since(tmp_path):
    """main moves on the hub after the prepare job read it: scoring jobs, given the prepare record, read its commit."""
    home = hub_cache(tmp_path / "hf")
    assert _prepare(home, tmp_path / "ready.json").returncode == 0
    repo = home / "hub" / "datasets--livecodebench--code_generation_lite"
    newer = "f" * 40  # main now names a commit whose test.jsonl lost problem 2
    (repo / "snapshots" / newer).mkdir()
    lines = CRAFTED.read_text().splitlines(keepends=True)
    (repo / "snapshots" / newer / "test.jsonl").write_text(lines[0] + lines[2])
    (repo / "refs" / "main").write_text(newer)
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": "lc-crafted-2", "solution": "print(1)\n"}) + "\n")
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(home))

    def score(*extra):
        return subprocess.run([sys.executable, "-m", "gatedloop.score", "--benchmark", "livecodebench", "--samples",
                               str(samples), "--out", str(tmp_path / "v.jsonl"), *extra],
                              capture_output=True, text=True, env=env, timeout=180)

    assert "'lc-crafted-2' is not in livecodebench" in score().stderr  # main, as it is now
    pinned = score("--prepared", str(tmp_path / "ready.json"))
    assert pinned.returncode == 0, pinned.stderr  # the prepared commit, which has problem 2
