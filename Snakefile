# gatedloop: recursive self-training of a code LLM behind review gates.
#   round 0 = base model; round r: generate (round r-1 model) -> gate -> LoRA fine-tune -> round r model;
#   every round is scored; aggregate -> results/metrics.csv -> figures.
# The config is validated against workflow/schemas/config.schema.yaml (defaults filled) before any job runs.

import os
from pathlib import Path

from snakemake.exceptions import WorkflowError
from gatedloop.core.config import ConfigError, validate_config

# The embedded default, unless the user names scenario files (--configfile config/paper.yaml): those replace it
# rather than merge into it, so a scenario never inherits the default's models or gates. --config overrides apply
# either way.
# The path is the checkout's, so `--directory elsewhere` still finds it.
if not workflow.overwrite_configfiles:

    configfile: os.path.join(workflow.basedir, "config/config.yaml")


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


include: "workflow/rules/hooks.smk"
include: "workflow/rules/common.smk"
include: "workflow/rules/microtasks.smk"
include: "workflow/rules/corpus.smk"
include: "workflow/rules/tokenizer.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/fetch_model.smk"
include: "workflow/rules/human_pool.smk"
include: "workflow/rules/prompts.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/reference.smk"
include: "workflow/rules/gate.smk"
include: "workflow/rules/finetune.smk"
include: "workflow/rules/prepare_benchmark.smk"
include: "workflow/rules/score.smk"
include: "workflow/rules/audit.smk"
include: "workflow/rules/sample_checks.smk"
include: "workflow/rules/probe.smk"
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
