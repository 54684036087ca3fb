# Functions of the rules in pretrain.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.
from gatedloop.models.scratch import ModelShape
from gatedloop.pretrain import PretrainConfig

SCRATCH_MODELS = models_from("scratch")


def model_settings(model, section, stage_dataclass):
    """A scratch model's shape or pre-training settings (models.<name>.shape / .pretrain) as flags."""
    settings = config["models"][model][section]
    return cli_for(f"models.{model}.{section}", settings, stage_dataclass)
