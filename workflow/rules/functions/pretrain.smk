# Functions of the rules in pretrain.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.


SCRATCH_MODELS = models_from("scratch")
