"""Stop strings per benchmark: each benchmark's own list ends a completion after a correct answer in the shape that
benchmark expects (not inside it), the config's list for one benchmark reaches only that benchmark's score jobs, and
the score summary records the list used."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from workflow_runs import CONFIG, planned_jobs, score_commands, snakemake

from gatedloop.backends.base import DEFAULT_STOP, truncate_at_stop
from gatedloop.benchmarks import BENCHMARKS
from gatedloop.core.options import to_cli_args
from gatedloop.models.prompt_formats import solution_from_answer
from gatedloop.sandbox import Limits, run_programs
from gatedloop.score import task_limits

CRAFTED = {"humaneval_plus": REPO / "resources/evalplus/HumanEvalPlus-crafted.jsonl",
           "mbpp_plus": REPO / "resources/evalplus/MbppPlus-crafted.jsonl",
           "livecodebench": REPO / "resources/livecodebench/crafted.jsonl"}
STDIN_MAIN = ("import sys\n\n\ndef main():\n    # the first number is the count\n    data = sys.stdin.read().split()\n"
              "    print(sum(map(int, data[1:])))\n\n\nif __name__ == \"__main__\":\n    main()\n")
# (benchmark, task, a correct completion in the benchmark's shape, what a model writes after it, whether the one
# shared HumanEval list cut the answer itself: the reproduced cases)
CASES = [
    ("humaneval_plus", "HumanEval/13",
     "    # Euclid: the remainder shrinks every step\n    def step(x, y):\n        return y, x % y\n\n"
     "    while b:\n        a, b = step(a, b)\n    return a\n",
     "\n\ndef test():\n    assert greatest_common_divisor(3, 5) == 1\n", False),
    ("mbpp_plus", "Mbpp/2",
     "import math\n\n# the shared elements, as a set intersection\ndef similar_elements(test_tup1, test_tup2):\n"
     "    return tuple(set(test_tup1) & set(test_tup2))\n",
     "\nassert similar_elements((3, 4), (4, 5)) == (4,)\n", True),
    ("livecodebench", "lc-crafted-1", STDIN_MAIN, "```\n\nThis reads the numbers and prints their sum.", True),
    ("livecodebench", "lc-crafted-1", "input()\nprint(sum(map(int, input().split())))\n", "```\n", True),
]


@pytest.fixture
def evalplus_cache(tmp_path, monkeypatch):
    import evalplus.data.utils

    monkeypatch.setattr(evalplus.data.utils, "CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(("name", "task_id", "answer", "after", "shared_list_cut_it"), CASES)
def test_the_default_stop_ends_after_a_correct_answer_not_inside_it(name, task_id, answer, after,
                                                                   shared_list_cut_it, evalplus_cache):
    tasks = {t.task_id: t for t in BENCHMARKS.get(name)(str(CRAFTED[name])).tasks()}
    task = tasks[task_id]
    kept = truncate_at_stop(answer + after, BENCHMARKS.get(name).default_stop("raw"))
    assert kept.rstrip("\n") == answer.rstrip("\n")
    old = truncate_at_stop(answer + after, DEFAULT_STOP)  # the one list every benchmark got before
    assert (old.rstrip("\n") != answer.rstrip("\n")) == shared_list_cut_it
    limits = task_limits(task, Limits(timeout_s=10))
    verdicts = run_programs([task.program(kept), task.program(old)], [limits, limits])
    assert verdicts[0].passed, verdicts[0]
    assert verdicts[1].passed != shared_list_cut_it, verdicts[1]


def test_microtasks_and_humaneval_keep_their_lists():
    for name in ("microtasks", "humaneval"):
        assert BENCHMARKS.get(name).default_stop("raw") == DEFAULT_STOP
        assert BENCHMARKS.get(name).default_stop("chat") == []


def test_the_plus_benchmarks_use_evalplus_lists_for_base_and_chat_models():
    humaneval, mbpp = BENCHMARKS.get("humaneval_plus"), BENCHMARKS.get("mbpp_plus")
    assert {"\ndef ", "\nimport ", "\nif __name__", "\nprint("} <= set(humaneval.default_stop("raw"))
    # MBPP's model writes the whole module after a docstring: nothing that starts one may stop it
    assert {'\n"""', "\nassert"} <= set(mbpp.default_stop("raw"))
    assert not {"\ndef ", "\nimport ", "\nfrom ", "\n#", "\nclass "} & set(mbpp.default_stop("raw"))
    assert "\n```\n" in mbpp.default_stop("chat") and "\nassert" not in mbpp.default_stop("chat")
    assert BENCHMARKS.get("livecodebench").default_stop("chat") == ["```"]


def test_a_chat_stdin_program_keeps_its_top_level_calls():
    bench = BENCHMARKS.get("livecodebench")(str(CRAFTED["livecodebench"]))
    task = next(t for t in bench.tasks() if t.task_id == "lc-crafted-1")
    answer = STDIN_MAIN + "```\n\nThis reads the numbers."
    ours, sanitized = bench.chat_solution(task, answer), solution_from_answer(answer, None)
    verdicts = run_programs([task.check_program(ours), task.check_program(sanitized)])
    assert verdicts[0].passed and "main()" in ours.splitlines()[-1]
    assert not verdicts[1].passed  # evalplus's sanitizer keeps definitions only: main() is never called


def _score_cli(model, heldout, tmp_path, *stop):
    summary = tmp_path / "s.json"
    result = subprocess.run([sys.executable, "-m", "gatedloop.score", "--model", str(model), "--benchmark",
                             "microtasks", "--data", str(heldout), "--out", str(tmp_path / "v.jsonl"), "--summary",
                             str(summary), "--temperature", "0", "--max-new-tokens", "12", "--device", "cpu", *stop],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in (tmp_path / "v.jsonl").read_text().splitlines()]
    return json.loads(summary.read_text()), rows


def test_the_summary_records_the_stop_list_used(tiny_model_dir, tmp_path):
    heldout = tmp_path / "heldout.jsonl"
    heldout.write_text("".join(json.dumps({"task_id": f"t{i}", "prompt": f"def f{i}(x):\n", "tests": ["assert 1"],
                                           "family": "toy"}) + "\n" for i in range(4)))
    summary, _ = _score_cli(tiny_model_dir, heldout, tmp_path)
    assert summary["stop"] == DEFAULT_STOP == summary["sampling"]["stop"]
    _, free = _score_cli(tiny_model_dir, heldout, tmp_path, "--stop")  # no stop at all
    written = Counter("".join(r["completion"] for r in free))
    assert written, "the model wrote nothing to stop"
    common = written.most_common(1)[0][0]
    summary, rows = _score_cli(tiny_model_dir, heldout, tmp_path, *to_cli_args({"stop": [common, "\n\n"]}))
    assert summary["stop"] == [common, "\n\n"]
    assert not any(common in r["completion"] or "\n\n" in r["completion"] for r in rows)


# The workflow: a dry run's commands, and what a changed list re-plans in a run marked complete.
BENCHMARK_DATA = {name: str(path) for name, path in CRAFTED.items() if name != "humaneval_plus"}


def _config(tmp_path: Path, name: str, stop: dict | None = None) -> Path:
    config = yaml.safe_load(CONFIG.read_text())
    config["score"]["benchmarks"] = ["microtasks", *BENCHMARK_DATA]
    config["score"]["data"] = BENCHMARK_DATA
    if stop is not None:
        config["score"]["stop"] = stop
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return path




def _contains(words: list[str], part: list[str]) -> bool:
    return any(words[i:i + len(part)] == part and (i + len(part) == len(words) or words[i + len(part)][:2] == "--")
               for i in range(len(words)))


@pytest.mark.integration
def test_a_configured_stop_list_reaches_only_its_benchmarks_commands(tmp_path):
    override = ["\nassert", "\n```"]
    result = snakemake(tmp_path, "-n", "--printshellcmds",
                       configfile=_config(tmp_path, "c.yaml", {"mbpp_plus": override}))
    commands = score_commands(result)
    assert set(commands) == {"microtasks", "mbpp_plus", "livecodebench"}
    expected = {"microtasks": DEFAULT_STOP, "mbpp_plus": override, "livecodebench": ["```"]}
    for name, stop in expected.items():
        assert all(_contains(words, to_cli_args({"stop": stop})) for words in commands[name]), name


def _mark_complete(workdir: Path, configfile: Path) -> None:
    """Every planned output in place and recorded as made by its rule (Snakemake's --touch writes the same job
    metadata, params included, that a real run writes); then nothing is left to do."""
    listing = snakemake(workdir, "--summary", configfile=configfile)
    assert listing.returncode == 0, listing.stderr[-3000:]
    for line in listing.stdout.splitlines()[1:]:
        path = workdir / line.split("\t")[0]
        if path.name in {"model", "tokenizer", "adapter"}:  # the directory outputs
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
    touched = snakemake(workdir, "--touch", configfile=configfile)
    assert touched.returncode == 0, touched.stderr[-3000:]
    assert planned_jobs(snakemake(workdir, "-n", configfile=configfile)) == {}


@pytest.mark.integration
def test_a_changed_stop_list_replans_only_that_benchmarks_score_jobs(tmp_path):
    workdir = tmp_path / "run"
    workdir.mkdir()
    _mark_complete(workdir, _config(tmp_path, "base.yaml"))
    # the default made explicit is the same command: no score job to redo (the manifests record the config)
    same = _config(tmp_path, "same.yaml", {"microtasks": DEFAULT_STOP, "livecodebench": ["```"]})
    assert not {"score", "score_base"} & set(planned_jobs(snakemake(workdir, "-n", configfile=same)))
    changed = snakemake(workdir, "-n", "--printshellcmds",
                        configfile=_config(tmp_path, "changed.yaml", {"livecodebench": ["```", "\n###"]}))
    jobs = planned_jobs(changed)
    assert jobs["score"] == 8 and jobs["score_base"] == 1  # (3 gates + control) x 2 rounds, and round 0 once
    assert not {"generate", "finetune", "pretrain", "audit", "prepare_benchmark"} & set(jobs)
    assert set(score_commands(changed)) == {"livecodebench"}
