# gatedloop: recursive self-training of a code LLM behind review gates.
#   round 0 = base model; round r: generate (round r-1 model) -> gate -> LoRA fine-tune -> round r model;
#   every round is scored; aggregate -> results/metrics.csv -> figures.
# The config is validated against workflow/schemas/config.schema.yaml (defaults filled) before any job runs.

import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from gatedloop.config import ConfigError, validate_config

# The embedded default, unless the user names scenario files (--configfile config/paper.yaml): those replace it
# rather than merge into it, so a scenario never inherits the default's models or gates. --config overrides apply
# either way.
# The path is the checkout's, so `--directory elsewhere` still finds it.
if not workflow.overwrite_configfiles:

    configfile: os.path.join(workflow.basedir, "config/config.yaml")


envvars:
    "PATH",


# Jobs call `python -m gatedloop.<verb>`: make `python` the interpreter that runs Snakemake, so a user who runs
# .venv/bin/snakemake without activating the environment gets the same packages in every job.
os.environ["PATH"] = (
    f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
)

try:
    # Answer words are checked against tokenizers once, in the main process (not again in every cluster job).
    _validated = validate_config(
        config,
        Path(workflow.basedir) / "workflow/schemas/config.schema.yaml",
        check_tokenizers=workflow.is_main_process,
    )
except ConfigError as err:
    raise WorkflowError(str(err)) from None
config.clear()
config.update(_validated)

# A run killed with SIGKILL leaves Snakemake's directory locks behind, and the next run would refuse to start.
# Each run records its holder (onstart: host, boot, process); a real execution (not a dry run, --summary,
# --report, ...) first removes locks whose holder is provably gone on this host (gatedloop.runlock).
if workflow.is_main_process:
    from gatedloop.runlock import (
        clear_before_execution,
        holds_locks,
        orphan_note,
        record_holder,
        release,
        slurm_run_name,
    )

    clear_before_execution(workflow)


# Local runs fork every job from one process that has imported torch/transformers already (gatedloop.warm):
# ~150 jobs x ~6 s of imports was a third of the embedded run on 2 cores. Cluster jobs run cold, and so do jobs
# in per-rule software environments (--sdm conda/apptainer): they must run their environment's interpreter.
onstart:
    if holds_locks(workflow):
        _slurm_run = slurm_run_name(workflow)
        record_holder(os.getcwd(), slurm_run=_slurm_run)
        if _slurm_run:
            print(orphan_note(_slurm_run), file=sys.stderr)
    if (
        config["warm_start"]
        and workflow.local_exec
        and workflow.is_main_process
        and not workflow.deployment_settings.deployment_method
    ):
        import atexit
        from gatedloop.warm import ENV_VAR, WarmServer

        _warm = WarmServer("results/logs/warm_start.log")
        atexit.register(_warm.stop)
        # Jobs that start before the server is ready run cold.
        os.environ[ENV_VAR] = _warm.path


onsuccess:
    if holds_locks(workflow):
        release(os.getcwd())


# Last words of a failed run: which jobs failed, their logs, and the command that retries them (gatedloop.core.failures).
onerror:
    if holds_locks(workflow):
        release(os.getcwd())
    if workflow.is_main_process:
        from gatedloop.core.failures import print_summary

        print_summary(workflow)


include: "workflow/rules/common.smk"
include: "workflow/rules/microtasks.smk"
include: "workflow/rules/corpus.smk"
include: "workflow/rules/tokenizer.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/fetch_model.smk"
include: "workflow/rules/human_pool.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/reference.smk"
include: "workflow/rules/gate.smk"
include: "workflow/rules/finetune.smk"
include: "workflow/rules/prepare_benchmark.smk"
include: "workflow/rules/score.smk"
include: "workflow/rules/audit.smk"
include: "workflow/rules/sample_checks.smk"
include: "workflow/rules/analyze.smk"
include: "workflow/rules/manifest.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/partial.smk"


rule all:
    default_target: True
    input:
        "results/metrics.csv",
        # results/collapse.csv and results/figures/<kind>.png for the sections enabled (common.smk)
        figure_files("results"),
