"""Gate audit: does the gate still separate right from wrong? (the rubber-stamp detector)

Every round, the round's model writes code for an audit set that is never generated-for-training nor trained on
(the held-out microtasks in the embedded default). Each sample is executed in the sandbox (truth) and judged by
the gate (a self-gate judges with the round's own model). Recorded per (model, gate, seed, round):

- ``acceptance_rate``: share of audit samples the gate accepts;
- ``precision``: P(correct | accepted); ``recall``: P(accepted | correct);
- ``auroc``: AUROC of the gate's score against truth (0.5 = the score carries no information about correctness);
- ``precision_gain``: ``P(correct | accepted) - P(correct)``; its absolute value ``tv`` is the total-variation
  distance between the correctness distribution of accepted samples and of all samples (0 = training on the
  gated data is training on ungated data);
- percentile-bootstrap intervals for ``auroc`` and ``precision_gain``, and ``self_confirming``: both intervals
  hold their no-filtering value (0.5 and 0), the study's "self-confirming acceptance" condition, measured on
  held-out samples, never on training samples.

CLI: ``python -m gatedloop.audit --model DIR --tasks heldout.jsonl --gate NAME [--gate-model DIR]
[--options JSON] --out audit.json --samples-out audit_samples.jsonl [sampling options] [--threads N]``.
Round 0's samples are the same for every gate (one base model, one seed), so the workflow generates them once
(``--generate-only OUT``) and each gate's round-0 audit judges them (``--generations OUT``).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gatedloop.backends import SamplingParams, open_backend
from gatedloop.core.io import read_jsonl, write_json, write_jsonl
from gatedloop.core.options import add_dataclass_args, dataclass_from_args
from gatedloop.core.provenance import environment
from gatedloop.core.runtime import DTYPES, device_for, set_threads
from gatedloop.core.stats import percentile_interval, resample_indices
from gatedloop.engine.warm import run_cli
from gatedloop.gates import GATES, Sample
from gatedloop.sandbox import Limits, run_programs, with_tests


def auroc(scores: Sequence[float], truth: Sequence[bool]) -> float:
    """Probability that a random correct sample outscores a random incorrect one (ties count half);
    NaN when only one class is present. Mann-Whitney U with average ranks."""
    scores = np.asarray(scores, dtype=float)
    truth = np.asarray(truth, dtype=bool)
    n_pos, n_neg = truth.sum(), (~truth).sum()
    if n_pos == 0 or n_neg == 0:
        return math.nan
    finite = np.where(np.isfinite(scores), scores, np.where(scores > 0, np.finfo(float).max, -np.finfo(float).max))
    # average ranks over ties: the distinct values in order, each spanning ranks first .. first + count - 1
    _, position, counts = np.unique(finite, return_inverse=True, return_counts=True)
    first = np.cumsum(counts) - counts + 1
    ranks = (first + (counts - 1) / 2)[position]
    u = ranks[truth].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def precision_gain(accepted: Sequence[bool], truth: Sequence[bool]) -> float:
    """P(correct | accepted) - P(correct): what the gate adds to the correctness of training data (NaN if it
    accepted nothing). Its absolute value is the TV distance between the gated and ungated distributions of
    correctness (two outcomes: TV = |p - q|)."""
    accepted = np.asarray(accepted, dtype=bool)
    truth = np.asarray(truth, dtype=bool)
    if not accepted.any():
        return math.nan
    return float(truth[accepted].mean() - truth.mean())


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


def point_stats(scores, accepted, truth) -> dict:
    accepted = np.asarray(accepted, dtype=bool)
    truth = np.asarray(truth, dtype=bool)
    gain = precision_gain(accepted, truth)
    return {
        "n": int(len(truth)),
        "correct_rate": float(truth.mean()) if len(truth) else math.nan,
        "acceptance_rate": float(accepted.mean()) if len(truth) else math.nan,
        "precision": _ratio(int((accepted & truth).sum()), int(accepted.sum())),
        "recall": _ratio(int((accepted & truth).sum()), int(truth.sum())),
        "auroc": auroc(scores, truth),
        "precision_gain": gain,
        "tv": abs(gain),
    }


def _interval_ends(level: float) -> tuple[float, float]:
    """The quantiles at the ends of a ``level`` interval, computed in percent as the audit always has: for 0.95 the
    lower end is 0.025000000000000022, a hair above CI95's 0.025, and kept so that audits reproduce bit for bit."""
    tail = (1 - level) / 2 * 100
    low, high = np.array([tail, 100 - tail]) / 100
    return float(low), float(high)


def audit_stats(scores, accepted, truth, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """Point statistics, percentile-bootstrap intervals for AUROC and the precision gain, and the
    self-confirming flag: both intervals hold their no-filtering value (AUROC 0.5, gain 0)."""
    scores, accepted, truth = np.asarray(scores, float), np.asarray(accepted, bool), np.asarray(truth, bool)
    stats = point_stats(scores, accepted, truth)
    rng = np.random.default_rng(seed)
    boot_auroc, boot_gain = [], []
    for idx in resample_indices(rng, len(truth), n_boot):
        boot_auroc.append(auroc(scores[idx], truth[idx]))
        boot_gain.append(precision_gain(accepted[idx], truth[idx]))
    ends = _interval_ends(level)
    stats["auroc_low"], stats["auroc_high"] = percentile_interval(boot_auroc, ends)
    stats["precision_gain_low"], stats["precision_gain_high"] = percentile_interval(boot_gain, ends)
    stats["self_confirming"] = bool(
        stats["auroc_low"] <= 0.5 <= stats["auroc_high"]
        and stats["precision_gain_low"] <= 0.0 <= stats["precision_gain_high"]
    )
    return stats


def audit_generations(model: str, tasks: list[dict], params: SamplingParams, samples_per_task: int, seed: int,
                      threads: int, timeout_s: float, backend: str = "transformers",
                      device: str = "cpu", dtype: str = "auto") -> list[dict]:
    """The round model's audit samples with their truth (each run in the sandbox with its task's tests)."""
    generator = open_backend(backend, model, device=device, dtype=dtype)
    expanded = [(task, k) for task in tasks for k in range(samples_per_task)]
    completions = generator.generate([task["prompt"] for task, _ in expanded], params, seed=seed)
    del generator  # free the model before a self-gate loads its own copy
    programs = [with_tests(t["prompt"] + c, t["tests"]) for (t, _), c in zip(expanded, completions, strict=True)]
    truth = [v.passed for v in run_programs(programs, Limits(timeout_s=timeout_s), workers=threads)]
    return [{"id": f"{t['task_id']}#{k}", "prompt_id": t["task_id"], "prompt": t["prompt"], "completion": c,
             "tests": list(t["tests"]), "correct": ok}
            for (t, k), c, ok in zip(expanded, completions, truth, strict=True)]


def judge(generations: list[dict], gate_name: str, gate_model: str | None, options: dict, threads: int,
          n_boot: int, seed: int) -> tuple[list[dict], dict]:
    """The gate's decisions on the audit samples, and how well they separate right from wrong. The clean gate's:
    decision noise (option ``noise``) is applied by the gate job only (gatedloop.gates.noise), never by ``decide``."""
    samples = [Sample(g["id"], g["prompt_id"], g["prompt"], g["completion"], tuple(g["tests"])) for g in generations]
    truth = [bool(g["correct"]) for g in generations]
    decisions = GATES.get(gate_name)(options, model=gate_model, threads=threads).decide(samples)
    rows = [{**d.to_json(), "completion": s.completion, "correct": ok}
            for s, d, ok in zip(samples, decisions, truth, strict=True)]
    stats = audit_stats([d.score for d in decisions], [d.accepted for d in decisions], truth, n_boot=n_boot,
                        seed=seed)
    return rows, stats


def run_audit(model: str, tasks: list[dict], gate_name: str, gate_model: str | None, options: dict,
              params: SamplingParams, samples_per_task: int, seed: int, threads: int, timeout_s: float,
              backend: str = "transformers", device: str = "cpu", n_boot: int = 1000,
              generations: list[dict] | None = None, dtype: str = "auto") -> tuple[list[dict], dict]:
    """Generate (unless ``generations`` are given: round 0's are shared by every gate) and judge."""
    if generations is None:
        generations = audit_generations(model, tasks, params, samples_per_task, seed, threads, timeout_s, backend,
                                        device, dtype)
    rows, stats = judge(generations, gate_name, gate_model, options, threads, n_boot, seed)
    return rows, {**stats, "gate": gate_name, "model": model, "gate_model": gate_model, "seed": seed,
                  "samples_per_task": samples_per_task, "provenance": environment()}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the round's model: it writes the audit samples")
    parser.add_argument("--tasks", type=Path, required=True, help="audit tasks with tests (JSONL)")
    parser.add_argument("--gate", help="the gate to audit (not with --generate-only)")
    parser.add_argument("--gate-model", default=None, help="the model the gate scores with, if any")
    parser.add_argument("--options", default="{}")
    parser.add_argument("--out", type=Path, help="audit statistics (JSON)")
    parser.add_argument("--samples-out", type=Path, help="every audit sample with its decision and truth (JSONL)")
    parser.add_argument("--generations", type=Path, default=None,
                        help="judge these audit samples (from --generate-only) instead of generating")
    parser.add_argument("--generate-only", type=Path, default=None, metavar="OUT",
                        help="only generate the audit samples and their truth, into OUT (JSONL)")
    parser.add_argument("--samples-per-task", type=int, default=1)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--timeout-s", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default="transformers")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto", choices=DTYPES,
                        help="model precision: auto = bfloat16 on CUDA, float32 on CPU")
    parser.add_argument("--threads", type=int, default=1)
    add_dataclass_args(parser, SamplingParams)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    tasks = read_jsonl(args.tasks)
    untested = [t["task_id"] for t in tasks if not t.get("tests")]
    if untested:
        parser.error(f"{args.tasks}: audit tasks need tests; none for {', '.join(untested[:5])}")
    params = dataclass_from_args(SamplingParams, args)
    if args.generate_only is not None:
        generations = audit_generations(args.model, tasks, params, args.samples_per_task, args.seed, args.threads,
                                        args.timeout_s, args.backend, device_for(args.device), args.dtype)
        write_jsonl(args.generate_only, generations)
        print(f"{len(generations)} audit samples ({sum(g['correct'] for g in generations)} correct) "
              f"-> {args.generate_only}")
        return
    for flag in ("gate", "out", "samples_out"):
        if getattr(args, flag) is None:
            parser.error(f"--{flag.replace('_', '-')} is required (unless --generate-only)")
    generations = None
    if args.generations is not None:
        generations = read_jsonl(args.generations)
        unknown = sorted({g["prompt_id"] for g in generations} - {t["task_id"] for t in tasks})
        if unknown:
            parser.error(f"{args.generations}: samples for tasks not in {args.tasks}: {', '.join(unknown[:5])}")
    rows, stats = run_audit(args.model, tasks, args.gate, args.gate_model, json.loads(args.options), params,
                            args.samples_per_task, args.seed, args.threads, args.timeout_s, args.backend,
                            device_for(args.device), args.bootstrap, generations, args.dtype)
    write_jsonl(args.samples_out, rows)
    write_json(args.out, stats)
    print(f"audit {args.gate}: acceptance {stats['acceptance_rate']:.3f}, precision {stats['precision']:.3f}, "
          f"AUROC {stats['auroc']:.3f} [{stats['auroc_low']:.3f}, {stats['auroc_high']:.3f}], TV {stats['tv']:.3f}, "
          f"self-confirming {stats['self_confirming']}")


if __name__ == "__main__":
    run_cli(main)
