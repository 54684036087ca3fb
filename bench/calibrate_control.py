"""Calibrate the fine-tuning recipe on the control arm: how far does training on human code move the model?

    python bench/calibrate_control.py [--workdir DIR] [--seeds 0 1 2 3] [--rounds 3]
        [--recipe steps=60,lr=0.005 --recipe steps=60,lr=0.001 ...] [--pool-in-pretraining true|false]

Runs the embedded default with only the reference arm (audit, analysis and sample checks off), once per recipe
(``finetune`` keys), in one working directory so the base model is built once, and prints per recipe and round
the control's change from round 0 (paired by seed and task, 95% interval: ``gatedloop.analysis.effects``) and the
seed-to-seed spread of its pass@1. A recipe is calibrated when every round's interval holds zero, i.e. the
control stays within seed noise of round 0. The table in docs/results.md ("Recipe calibration") came from this script.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from gatedloop.aggregate import effects_and_coverage
from gatedloop.core.layout import find

REPO = Path(__file__).resolve().parents[1]


def parse_recipe(text: str) -> dict:
    recipe = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        recipe[key.strip()] = yaml.safe_load(value)
    return recipe


def control_config(recipe: dict, seeds: list[int], rounds: int, pool_in_pretraining: bool) -> dict:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.update(gates=["reference"], seeds=seeds, rounds=rounds, audit={"enabled": False},
                  analysis={"enabled": False}, sample_checks={"enabled": False})
    config["finetune"].update(recipe)
    config["microtasks"]["pool_in_pretraining"] = pool_in_pretraining
    return config


def run(workdir: Path, config: dict) -> float:
    configfile = workdir / "calibration.yaml"
    configfile.write_text(yaml.safe_dump(config))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
                    "--configfile", str(configfile), "--cores", "2", "--quiet", "rules", "results/metrics.csv"],
                   check=True, env=env)
    return time.perf_counter() - start


def drift(workdir: Path) -> list[dict]:
    scores = find(workdir / "results", "score", benchmark="microtasks")
    # the aggregate reads only the files it is given: each score's verdicts, the per-task passes
    effects, _, _ = effects_and_coverage([s.path for s in scores], ["reference"], ["replace"], None, 2000,
                                         round_files=[s.sibling("verdicts").path for s in scores])
    return effects[effects.comparison == "vs_round0"].sort_values("round").to_dict("records")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--recipe", action="append", default=None, help="finetune keys, e.g. steps=60,lr=0.005")
    parser.add_argument("--pool-in-pretraining", type=yaml.safe_load, default=True)
    args = parser.parse_args()
    recipes = args.recipe or ["steps=60,lr=0.005,lora_r=8"]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gatedloop-calibration-"))
    print(f"working directory: {workdir}")
    print("| recipe | round | control - round 0 [95%] | seed sd of the difference | calibrated |")
    print("| --- | --- | --- | --- | --- |")
    for text in recipes:
        seconds = run(workdir, control_config(parse_recipe(text), args.seeds, args.rounds, args.pool_in_pretraining))
        rows = drift(workdir)
        calibrated = all(r["low"] <= 0 <= r["high"] for r in rows)
        for r in rows:
            if r["round"] > 0:
                print(f"| {text} | {r['round']} | {r['effect']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}] | "
                      f"{r['seed_sd']:.3f} | {'yes' if calibrated else 'no'} |")
        print(f"<!-- {text}: {seconds:.0f} s -->")


if __name__ == "__main__":
    main()
