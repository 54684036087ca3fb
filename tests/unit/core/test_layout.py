"""The files a sweep writes (gatedloop.core.layout), and the study's sweep at scale: every job's shell command fits
the one argument Linux passes it (128 KiB); the aggregates once took their file lists on the command line, 206 KiB
for the partial aggregate of the study's sweep, and would have failed with "Argument list too long"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SCHEMA

from gatedloop.core.config import validate_config
from gatedloop.core.layout import Sweep

MAX_ARG_STRLEN = 128 * 1024  # Linux: the longest single argument (bash -c's command) a process may be given


def test_a_sweep_survives_its_json_and_lists_each_rounds_files_once():
    config = validate_config(yaml.safe_load((REPO / "config/integration.yaml").read_text()), SCHEMA)
    sweep = Sweep.from_config(config)
    assert Sweep.from_json(sweep.to_json()) == sweep and len(sweep.to_json()) < 1000
    arms = len(config["gates"])  # the control arm included
    cells = arms * config["rounds"]
    assert len(sweep.score_files()) == (1 + cells) * len(config["score"]["benchmarks"])
    assert len(sweep.audit_files()) == (arms - 1) * (1 + config["rounds"])  # the control arm judges nothing
    files = sweep.aggregated_files()
    assert sum(len(v) for v in files.values()) == len({p for v in files.values() for p in v})


@pytest.mark.parametrize("target", ["results/metrics.csv", "figures"])
def test_every_command_of_the_study_sweep_at_ten_rounds_and_three_seeds_fits_one_argument(tmp_path, target):
    score = tmp_path / "results/runs/santacoder/base/seed0/round0/score/humaneval_plus.json"
    score.parent.mkdir(parents=True)  # `figures` draws what is written: one score is enough to plan it
    score.write_text(json.dumps({"pass_at_1": 0.1, "n_tasks": 1, "n_passed": 0}))
    larger = tmp_path / "larger.yaml"  # merged over paper.yaml, as Snakemake merges config files
    larger.write_text(yaml.safe_dump({"rounds": 10, "seeds": [0, 1, 2]}))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
                             str(tmp_path), "--configfile", str(REPO / "config/paper.yaml"), str(larger), "--cores",
                             "1", "-n", "-p", "--nolock", "--", target],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    commands = [line for line in (result.stdout + result.stderr).splitlines() if "python -m gatedloop." in line]
    assert any("gatedloop.aggregate" in c for c in commands)
    assert max(len(c.encode()) for c in commands) < MAX_ARG_STRLEN
