# Functions of the rules in analyze.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.
from gatedloop.analyze import AnalysisSettings


def analyze_batch_args(model):
    batch = model_batch(model, "analyze")
    return "" if batch is None else f"--batch-size {batch}"
