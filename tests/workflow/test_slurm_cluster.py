"""The SLURM profile against a real SLURM: a single-node slurmctld + slurmd + munge started for these tests
(tests/slurm_cluster.py). Every job of a small run goes through sbatch; its metrics must equal a local run's; a job
that fails must be reported as failed. `.ci/run` installs Debian's packages and sets GATEDLOOP_REQUIRE_SLURM=1, so
there a missing SLURM is a failure, not a skip. On a laptop without SLURM these tests are skipped."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from slurm_cluster import LocalSlurm, clashes_with_a_real_cluster, installed
from test_slurm_profile import GPU_RULES

pytestmark = pytest.mark.integration

if not installed():
    if os.environ.get("GATEDLOOP_REQUIRE_SLURM") == "1":
        raise RuntimeError("GATEDLOOP_REQUIRE_SLURM=1 but slurmctld/slurmd/munged/sbatch are not installed "
                           "(make slurm-packages)")
    pytest.skip("SLURM is not installed (make slurm-packages installs Debian's)", allow_module_level=True)
if os.geteuid() != 0:
    pytest.skip("starting slurmd and munged needs root", allow_module_level=True)
if clashes_with_a_real_cluster():
    pytest.skip("this machine has its own SLURM configuration; the test cluster would replace it",
                allow_module_level=True)

SMALL_RUN = {"gates": ["compile"], "rounds": 1}  # on top of config/integration.yaml: ~20 jobs
TARGET = "results/metrics.csv"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with LocalSlurm(tmp_path_factory.mktemp("slurm")) as running:
        yield running


def cluster_profile(directory: Path) -> Path:
    """profiles/slurm as a cluster admin would adapt it to this one small node: memory asks that fit it, no
    accounting, quick first status check. Executor, partitions, GPU asks and status command stay as shipped."""
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    for settings in profile["set-resources"].values():
        settings["mem_mb"] = 1000
    profile["default-resources"]["mem_mb"] = 1000
    profile.pop("set-threads")  # the workflow's own (1-2 threads), as in the local run it is compared with
    profile["slurm-no-account"] = True
    profile["slurm-init-seconds-before-status-checks"] = 5
    profile["latency-wait"] = 5
    directory.mkdir(parents=True)
    (directory / "config.yaml").write_text(yaml.safe_dump(profile))
    return directory


def snakemake(workdir: Path, configs: list[Path], *args: str, env: dict | None = None):
    env = {**(env or os.environ), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", *map(str, configs), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)


def test_every_job_runs_through_sbatch_and_results_equal_a_local_run(cluster, tmp_path):
    small = tmp_path / "small.yaml"
    small.write_text(yaml.safe_dump(SMALL_RUN))
    configs = [REPO / "config/integration.yaml", small]
    profile = cluster_profile(tmp_path / "profile")

    on_slurm = snakemake(tmp_path / "slurm", configs, "--profile", str(profile), TARGET, env=cluster.env)
    assert on_slurm.returncode == 0, on_slurm.stderr[-6000:] + cluster.logs()
    local = snakemake(tmp_path / "local", configs, "--cores", "2", TARGET)
    assert local.returncode == 0, local.stderr[-6000:]

    # Every job that is not a local rule was an sbatch job: one SLURM log per job, and the controller saw them.
    planned = snakemake(tmp_path / "plan", configs, "--cores", "2", "-n", TARGET)
    table = planned.stdout.split("Job stats:")[1].split("total")[0]
    jobs = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}
    local_rules = {"microtasks", "generate_round1", "reference_samples", "manifest", "manifest_base", "aggregate"}
    expected = sum(n for rule, n in jobs.items() if rule not in local_rules)
    ours = [job for job in cluster.finished_jobs() if job["WorkDir"] == str(tmp_path / "slurm")]
    assert len(ours) == expected and all(job["JobState"] == "COMPLETED" for job in ours), ours
    # GPU rules went to the gpu partition asking one GPU; CPU rules to the cpu partition asking none.
    asked = {job["JobId"]: job for job in cluster.recent_jobs()}
    # The run said its jobs' name, and the scancel that cancels them if the driver is killed (orphans).
    named = re.search(r"this run's SLURM jobs are named (\S+)\. .*`scancel --name=\1`", on_slurm.stderr)
    assert named and all(asked[job["JobId"]]["JobName"] == named[1] for job in ours), on_slurm.stderr[-3000:]
    on_gpus = [asked[job["JobId"]] for job in ours if job["Partition"] == "gpu"]
    assert len(on_gpus) == sum(n for rule, n in jobs.items() if rule in GPU_RULES)
    assert all("gpu:1" in job.get("TresPerJob", "") for job in on_gpus)
    assert not any("gpu" in asked[job["JobId"]].get("TresPerJob", "") for job in ours if job["Partition"] == "cpu")

    slurm_metrics = (tmp_path / "slurm" / TARGET).read_bytes()
    assert slurm_metrics == (tmp_path / "local" / TARGET).read_bytes()


def test_a_failing_job_is_reported_as_failed(cluster, tmp_path):
    broken = tmp_path / "probe.jsonl"
    # A file (so the config validates) whose line has no text: the probe job, a cluster job, fails when it runs.
    broken.write_text(json.dumps({"name": "f"}) + "\n")
    config = tmp_path / "broken.yaml"
    config.write_text(yaml.safe_dump({"analysis": {"probe": {"source": "file", "path": str(broken)}}}))
    profile = cluster_profile(tmp_path / "profile")
    result = snakemake(tmp_path / "run", [REPO / "config/integration.yaml", config], "--profile", str(profile),
                       "--retries", "0", "results/data/probe.jsonl", env=cluster.env)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Error in rule probe" in output
    job_log = (tmp_path / "run/results/logs/probe/probe.log").read_text()
    # The job's own error, written on the node:
    assert "probe.jsonl:1: a probe line needs a non-empty 'text'" in job_log, job_log[-3000:]
    assert not (tmp_path / "run/results/data/probe.jsonl").exists()
    (failed,) = [job for job in cluster.finished_jobs() if job["WorkDir"] == str(tmp_path / "run")]
    assert failed["JobState"] == "FAILED" and failed["ExitCode"] != "0:0"
