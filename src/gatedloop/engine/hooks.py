"""The workflow's hooks, behind one entry point (``workflow/rules/hooks.smk`` calls these and nothing else).

* ``before_jobs``: jobs call ``python -m gatedloop.<stage>``; put the interpreter that runs Snakemake first on
  PATH, so a user who runs ``.venv/bin/snakemake`` without activating the environment gets the same packages in
  every job. In the main process of a real execution, remove Snakemake locks whose holder is provably gone
  (``gatedloop.engine.runlock``).
* ``on_start``: record this run as the locks' holder; start the warm-start server for local runs
  (``gatedloop.engine.warm``).
* ``on_success`` / ``on_error``: release the holder record; after a failure, print which jobs failed, their logs
  and the command that retries them (``gatedloop.engine.failures``).
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path


def before_jobs(workflow) -> None:
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    if workflow.is_main_process:
        from gatedloop.engine.runlock import clear_before_execution

        clear_before_execution(workflow)


def on_start(workflow, warm_start: bool) -> None:
    from gatedloop.engine.runlock import holds_locks, orphan_note, record_holder, slurm_run_name

    if holds_locks(workflow):
        slurm_run = slurm_run_name(workflow)
        record_holder(os.getcwd(), slurm_run=slurm_run)
        if slurm_run:
            print(orphan_note(slurm_run), file=sys.stderr)
    # Local runs fork every job from one process that has imported torch/transformers already: ~150 jobs x ~6 s
    # of imports was a third of the embedded run on 2 cores. Cluster jobs run cold, and so do jobs in per-rule
    # software environments (--sdm conda/apptainer): they must run their environment's interpreter.
    if (warm_start and workflow.local_exec and workflow.is_main_process
            and not workflow.deployment_settings.deployment_method):
        from gatedloop.engine.warm import ENV_VAR, WarmServer

        server = WarmServer("results/logs/warm_start.log")
        atexit.register(server.stop)
        os.environ[ENV_VAR] = server.path  # jobs that start before the server is ready run cold


def on_success(workflow) -> None:
    from gatedloop.engine.runlock import holds_locks, release

    if holds_locks(workflow):
        release(os.getcwd())


def on_error(workflow) -> None:
    on_success(workflow)
    if workflow.is_main_process:
        from gatedloop.engine.failures import print_summary

        print_summary(workflow)
