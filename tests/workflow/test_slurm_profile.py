"""The SLURM profile: model rules ask one GPU on the GPU partition, CPU rules ask none, and `make slurm-profile`
installs it as a user profile. The run against a real slurmctld is tests/workflow/test_slurm_cluster.py."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml
from conftest import REPO

GPU_RULES = {"generate", "generate_shared", "generate_waves", "gate", "finetune", "score", "score_base", "audit",
             "audit_base", "audit_generations_base", "analyze", "analyze_base"}


@pytest.mark.parametrize("scenario", ["integration.yaml", "study.yaml"])  # study: selection in waves, prompts stage
def test_a_dry_run_with_the_profile_puts_model_jobs_on_gpus(tmp_path, scenario):
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
                             str(tmp_path), "--profile", str(REPO / "profiles/slurm"), "--configfile",
                             str(REPO / "config" / scenario), "-n"], capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    resources = {}
    for block in re.split(r"\n(?=rule \w+:)", result.stdout + result.stderr):
        name = re.match(r"rule (\w+):", block.strip())
        found = re.search(r"resources: (.*)", block)
        if name and found:
            resources.setdefault(name[1], set()).add(found[1])
    assert GPU_RULES & set(resources) == {r for r in resources if any("gpu=1" in x for x in resources[r])}
    for rule in set(resources) - GPU_RULES:
        assert all("gpu=" not in x and "slurm_partition=cpu" in x for x in resources[rule]), rule
    assert any("mem_mb=64000" in x and "runtime=720" in x for x in resources["finetune"])
    if scenario == "study.yaml":
        assert {"generate_waves", "prompts"} <= set(resources)


def test_profile_slurm_typed_at_the_checkouts_root_finds_the_profile(tmp_path):
    """`snakemake --profile slurm` looks for ./slurm, not profiles/slurm: the checkout's root has a link to it.
    (--directory keeps this test's run state out of the checkout; the profile is found before it applies.)"""
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}"}
    literal = [sys.executable, "-m", "snakemake", "--profile", "slurm"]
    result = subprocess.run([*literal, "-n", "--directory", str(tmp_path), "--configfile",
                             str(REPO / "config/integration.yaml")], cwd=REPO, capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert os.path.samefile(REPO / "slurm/config.yaml", REPO / "profiles/slurm/config.yaml")
    plan = result.stdout + result.stderr
    finetune = r"rule finetune:[^\n]*\n(?:    .*\n)*?    resources: .*slurm_partition=gpu.*gpu=1"
    assert re.search(finetune, plan), plan[-3000:]


def test_make_installs_the_profile_for_plain_profile_slurm(tmp_path):
    result = subprocess.run(["make", "-s", "slurm-profile", f"SNAKEMAKE_PROFILES={tmp_path}"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "slurm/config.yaml").read_text() == (REPO / "profiles/slurm/config.yaml").read_text()


def slurm_dry_run(workdir, configfile, *extra):
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
                           str(workdir), "--profile", str(REPO / "profiles/slurm"), "--configfile", str(configfile),
                           "-n", *extra], capture_output=True, text=True, env=env, timeout=300)


def jobs_by_rule(result) -> dict[str, list[str]]:
    blocks = re.split(r"\n(?=rule \w+:)", result.stdout + result.stderr)
    jobs: dict[str, list[str]] = {}
    for block in blocks:
        name = re.match(r"rule (\w+):", block.strip())
        if name:
            jobs.setdefault(name[1], []).append(block)
    return jobs


def test_only_gates_that_score_with_a_model_ask_a_gpu(tmp_path):
    result = slurm_dry_run(tmp_path, REPO / "config/integration.yaml")  # gates none, compile, perplexity
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = jobs_by_rule(result)
    model_gates = {re.search(r"gate=(\w+)", b)[1] for b in jobs["gate"]}
    human_gates = {re.search(r"gate=(\w+)", b)[1] for b in jobs["gate_human"]}
    assert model_gates == {"perplexity"} and human_gates == {"none", "compile", "reference"}
    assert all("gpu=1" in b and "slurm_partition=gpu" in b for b in jobs["gate"])
    assert not any("gpu=" in b or "slurm_partition=gpu" in b for b in jobs["gate_human"])
    # and the CPU gates keep the time the execution gate needs for a round's programs (not the 30-minute default)
    assert all(re.search(r"\bruntime=240\b", b) for b in jobs["gate_human"])


def test_contamination_checks_get_memory_for_the_benchmarks_they_load(tmp_path):
    result = slurm_dry_run(tmp_path, REPO / "config/paper.yaml", "--config", "rounds=1")
    assert result.returncode == 0, result.stderr[-3000:]
    from gatedloop.benchmarks import BENCHMARKS

    needed = 1000 + sum(BENCHMARKS.get(b).memory_mb for b in ("humaneval_plus", "mbpp_plus", "livecodebench"))
    assert needed > 16000  # LiveCodeBench's tests alone
    assert all(f"mem_mb={needed}," in b for b in jobs_by_rule(result)["sample_checks"])


LOCAL_RULES_SCRIPT = """
import sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

repo, configfile, workdir = map(Path, sys.argv[1:4])
with SnakemakeApi(OutputSettings(quiet=None)) as api:
    workflow_api = api.workflow(resource_settings=ResourceSettings(cores=1), snakefile=repo / "Snakefile",
                                config_settings=ConfigSettings(configfiles=[configfile]), workdir=workdir)
    workflow_api.dag()
    print(" ".join(sorted(workflow_api._workflow._localrules)))
"""


def test_downloads_and_cheap_tables_and_figures_run_on_the_submit_host(tmp_path):
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([sys.executable, "-c", LOCAL_RULES_SCRIPT, str(REPO), str(REPO / "config/paper.yaml"),
                             str(tmp_path)], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    local = set(result.stdout.split())
    # compute nodes often have no internet: the downloads run where snakemake runs
    assert {"fetch_model", "prepare_benchmark"} <= local
    # figure rules declared by `use rule` do not inherit localrule: each says it
    assert {"aggregate", "collapse_table", "figure_pass_at_1", "figure_heatmap", "figure_gate_audit",
            "figure_spectral", "figure_execution", "figure_diversity", "figure_effect", "figure_coverage"} <= local
    assert not local & GPU_RULES


PARSE_SCRIPT = """
import sys
from snakemake.cli import parse_args
_, args = parse_args(sys.argv[1:])
print(args.cores)
"""


def test_remote_jobs_threads_are_not_capped_at_the_submit_hosts_cores(tmp_path):
    """The workflow profile (profiles/default) is loaded after --profile and wins; --cores caps every job's threads,
    remote ones too (snakemake/rules.py). So no profile may set cores, and a SLURM run gets none."""
    result = subprocess.run([sys.executable, "-c", PARSE_SCRIPT, "-s", str(REPO / "Snakefile"), "--profile",
                             str(REPO / "profiles/slurm")], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "workflow specific profile" in result.stderr  # profiles/default was loaded
    assert result.stdout.strip() == "None"
    # given enough cores, a dry run shows the threads the SLURM profile asks
    planned = slurm_dry_run(tmp_path, REPO / "config/integration.yaml", "--cores", "8")
    assert all("threads: 8" in b for b in jobs_by_rule(planned)["finetune"])


def planned_runtimes(workdir, attempt: int) -> dict[str, set[int]]:
    """Rule -> the runtimes (minutes) its jobs ask in a dry run with the profile, as on retry `attempt`."""
    result = slurm_dry_run(workdir, REPO / "config/integration.yaml", "--attempt", str(attempt))
    assert result.returncode == 0, result.stderr[-3000:]
    runtimes: dict[str, set[int]] = {}
    for rule, blocks in jobs_by_rule(result).items():
        for block in blocks:
            found = re.search(r"resources: .*\bruntime=(\d+)", block)
            if found:
                runtimes.setdefault(rule, set()).add(int(found[1]))
    return runtimes

def test_no_retry_asks_past_a_day_and_one_failed_job_does_not_stop_the_rest(tmp_path):
    """Retries escalate the time limit, but never past 24 h (a common partition limit: a job asking more is
    refused at submission, or pends forever); fine-tuning, the longest, gets 12 h then 24 h."""
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    assert profile["keep-going"] is True
    last_attempt = profile["retries"] + 1
    by_attempt = {attempt: planned_runtimes(tmp_path, attempt) for attempt in range(1, last_attempt + 1)}
    assert by_attempt[1]["finetune"] == {720} and by_attempt[2]["finetune"] == {1440}
    for attempt, runtimes in by_attempt.items():
        too_long = {rule: asked for rule, asked in runtimes.items() if max(asked) > 24 * 60}
        assert not too_long, (attempt, too_long)
