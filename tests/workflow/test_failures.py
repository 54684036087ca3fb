"""A run with a failed job: with keep-going the other jobs still run, and the run ends with a summary naming the
failed job (rule, wildcards, log) and the commands that retry it; the printed command, run, retries only that job.
Real Snakemake; the job fails at run time (a benchmark file whose reference solution does not run)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import REPO

FAILING = "results/data/benchmarks/humaneval_plus.ready.json"
FINE = "results/data/microtasks/pool.jsonl"


def humaneval_file(path: Path, solution: str) -> None:
    path.write_text(json.dumps({"task_id": "HumanEval/0", "prompt": "def f(x):\n", "entry_point": "f",
                                "canonical_solution": solution, "base_input": [[1]], "plus_input": [], "atol": 0,
                                "contract": ""}) + "\n")


def run(command: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([sys.executable, "-m", "snakemake", *command], capture_output=True, text=True, env=env,
                          timeout=600)


def planned_jobs(result: subprocess.CompletedProcess) -> dict[str, int]:
    assert result.returncode == 0, result.stderr[-3000:]
    table = (result.stdout + result.stderr).split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def test_a_failed_job_is_listed_with_its_log_and_the_printed_command_retries_only_it(tmp_path):
    data = tmp_path / "humaneval.jsonl"
    humaneval_file(data, "    return x +\n")  # well-formed, so the config validates; fails when prepared
    scenario = tmp_path / "broken.yaml"
    scenario.write_text(yaml.safe_dump({"score": {"benchmarks": ["humaneval_plus"],
                                                  "data": {"humaneval_plus": str(data)}}}))
    workdir = tmp_path / "run"
    # --configfile last, as `snakemake --profile slurm --configfile config/paper.yaml` ends: it takes several values
    command = ["-s", str(REPO / "Snakefile"), "--directory", str(workdir), "--cores", "1", "--keep-going", FAILING,
               FINE, "--configfile", str(REPO / "config/integration.yaml"), str(scenario)]
    failed = run(command)
    assert failed.returncode != 0
    assert (workdir / FINE).is_file()  # keep-going: the failure (run first: priority 100) did not stop this job
    summary = failed.stderr[failed.stderr.index("gatedloop: 1 job(s) failed:"):]
    log = "results/logs/prepare_benchmark/humaneval_plus.log"
    assert f"prepare_benchmark (benchmark=humaneval_plus): log {log}" in summary
    assert "the canonical solution fails" in (workdir / log).read_text()
    same, alone = re.findall(r"^  (snakemake .*)$", summary, re.M)
    assert shlex.split(same)[1:] == command
    assert shlex.split(alone)[1] == FAILING and FINE not in shlex.split(alone)

    humaneval_file(data, "    return x\n")  # the cause, fixed
    assert planned_jobs(run([*shlex.split(same)[1:], "-n"])) == {"prepare_benchmark": 1}
    retried = run(shlex.split(alone)[1:])
    assert planned_jobs(retried) == {"prepare_benchmark": 1}
    assert (workdir / FAILING).is_file()
