# Functions of the rules in partial.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.
import functools
import hashlib
import os

# An unfinished sweep's figures (`snakemake figures`): drawn from the files on disk, into their own folder.
PARTIAL = layout.PARTIAL


@functools.lru_cache(maxsize=1)
def sweep_files():
    return SWEEP.aggregated_files()


def on_disk_state():
    """Path, size and time of every file of the sweep written so far: the partial aggregate reruns when one is
    written or rewritten. With no score yet there is nothing to draw: said before any job runs.
    """
    written = [
        p for paths in sweep_files().values() for p in paths if os.path.isfile(p)
    ]
    if not any(os.path.isfile(p) for p in sweep_files()["scores"]):
        raise WorkflowError(
            "figures: no round has been scored yet (no results/runs/.../score/<benchmark>.json): "
            "nothing to draw; run the workflow first"
        )
    state = [f"{p} {os.stat(p).st_size} {os.stat(p).st_mtime_ns}" for p in written]
    return hashlib.sha256("\n".join(state).encode()).hexdigest()


def partial_figure_input(wildcards):
    """Every partial figure reads the partial metrics (its note); effect and coverage draw from their own table."""
    tables = {"effect": "effects", "coverage": "coverage"}
    inputs = {
        "table": table(tables.get(wildcards.kind, "metrics"), PARTIAL),
        "metrics": table("metrics", PARTIAL),
    }
    if wildcards.kind == "spectral":
        inputs["spectra"] = table("spectra", PARTIAL)
    return inputs
