"""The study's findings, checked against a finished run: appears, does not appear, or cannot be resolved.

CLI: ``python -m gatedloop.tools.findings --results results [--benchmark microtasks] [--bootstrap 2000]`` prints, as
Markdown, one row per arm (pass@1 by round, the self-training effect at the last round, acceptance, audit AUROC,
lambda1/lambda2) and a verdict per finding. Every comparison is paired: by seed and task for pass@1 (the per-task
verdicts, ``gatedloop.analysis.effects``), by seed for the per-round statistics. A verdict needs a 95% interval that
excludes zero; an interval that straddles it is "unresolved at this noise", never a finding.

The findings (the-paper.md) and how each is decided, at the last round R:
1. No gate falls fastest: none's pass@1 minus each other gate's. Appears if every difference is below zero;
   does not if some gate is significantly below none; otherwise unresolved.
2. Human gates slow the fall: each rule-based gate (compile, quality, compile_quality) minus none. Appears for a
   gate whose difference is above zero, does not where it is below, unresolved otherwise.
3. Self-gate acceptance rises while correctness falls (only observable with a threshold fixed across rounds:
   ``mode: calibrated`` or ``threshold``; a per-round quantile fixes acceptance by construction): training
   acceptance at R minus at round 1 above zero, and pass@1 at R minus round 0 below zero.
4. The spectral statistic rises: lambda1/lambda2 (last layer) at R minus round 0, per arm.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from gatedloop.analysis.effects import CONTROL, compare, task_passes
from gatedloop.core.io import read_jsonl
from gatedloop.core.layout import find
from gatedloop.core.stats import paired_difference
from gatedloop.gates import GATES

(NO_GATE,) = GATES.of_kind("none")
HUMAN_GATES = GATES.of_kind("human")
SELF_GATES = GATES.of_kind("self")
SPECTRAL = "spectral_last_lambda1_over_lambda2"
BAR_SHARE = "acceptance_at_round1_bar"  # what a threshold held from round 1 would accept (gatedloop.aggregate)


def sign(low: float, high: float) -> int:
    """+1 / -1 when a 95% interval lies above / below zero, 0 when it straddles it (or is undefined)."""
    if low > 0:
        return 1
    if high < 0:
        return -1
    return 0


def seed_difference(after: dict[int, float], before: dict[int, float], reps: int, seed: int = 0):
    """(mean, low, high) of per-seed differences, seeds resampled; None without a seed defined on both sides. One
    seed gives no interval (NaN ends): its difference cannot be told from seed noise."""
    seeds = [s for s in sorted(set(after) & set(before)) if after[s] == after[s] and before[s] == before[s]]
    if not seeds:
        return None
    if len(seeds) == 1:
        return float(after[seeds[0]] - before[seeds[0]]), float("nan"), float("nan")
    return paired_difference([after[s] for s in seeds], [before[s] for s in seeds], reps, seed)


def load_passes(results: Path, benchmark: str) -> dict[tuple, dict[int, dict[str, float]]]:
    """(gate, round) -> seed -> task -> pass, regime replace; round 0 under gate 'base'. The scores written under
    ``results`` (gatedloop.core.layout lists them), each by its verdicts."""
    passes: dict[tuple, dict[int, dict[str, float]]] = {}
    for score in find(results, "score", benchmark=benchmark):
        verdicts = Path(score.sibling("verdicts").path)
        if score.regime in (None, "replace") and verdicts.exists():
            passes.setdefault((score.gate, score.round), {})[score.seed] = task_passes(read_jsonl(verdicts))
    return passes


def per_seed(table, gate: str, round_: int, column: str) -> dict[int, float]:
    rows = table[(table.gate == gate) & (table["round"] == round_)]
    return dict(zip(rows.seed, rows[column], strict=True))


def fmt(result, digits: int = 3) -> str:
    if result is None:
        return "n/a"
    mean, low, high = result[0], result[1], result[2]
    if low != low:
        return f"{mean:+.{digits}f}"
    return f"{mean:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def report(results: Path, benchmark: str = "microtasks", reps: int = 2000) -> str:
    import pandas as pd

    table = pd.read_csv(results / "metrics.csv")
    table = table[(table.benchmark == benchmark) & (table.regime == "replace")]
    passes = load_passes(results, benchmark)
    last = int(table["round"].max())
    seeds = sorted(table.seed.unique())
    gates = [g for g in table.gate.unique() if g != CONTROL]
    arms = sorted(gates) + ([CONTROL] if CONTROL in set(table.gate) else [])
    base = passes.get(("base", 0), {})

    def final(gate):
        return passes.get((gate, last), {})

    lines = [f"{len(seeds)} seeds ({', '.join(map(str, seeds))}), {last} rounds, benchmark {benchmark}; "
             "means over seeds, 95% intervals paired by seed (and task for pass@1).", "",
             f"| arm | pass@1 by round (0 -> {last}) | pass@1 change, round {last} - 0 | self-training effect "
             f"(gate - reference), round {last} | training acceptance, 1 -> {last} | audit AUROC, round {last} | "
             f"lambda1/lambda2 (last layer), 0 -> {last} |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for arm in arms:
        rows = table[table.gate == arm]
        curve = " -> ".join(f"{rows[rows['round'] == r].pass_at_1.mean():.3f}" for r in range(last + 1))
        change = compare(final(arm), base, reps, 0)
        effect = compare(final(arm), final(CONTROL), reps, 0) if arm != CONTROL else None
        acceptance = " -> ".join(f"{rows[rows['round'] == r].acceptance_rate.mean():.2f}" for r in (1, last))
        auroc = rows[rows["round"] == last]["audit_auroc"].mean() if "audit_auroc" in rows else float("nan")
        spectral = "n/a"
        if SPECTRAL in rows:
            spectral = " -> ".join(f"{rows[rows['round'] == r][SPECTRAL].mean():.2f}" for r in (0, last))
        lines.append(f"| {arm} | {curve} | {_fmt_compare(change)} | {_fmt_compare(effect) if effect else '-'} | "
                     f"{acceptance} | {'-' if auroc != auroc else f'{auroc:.2f}'} | {spectral} |")
    lines += ["", "Findings:", ""]
    lines += finding_lines(table, passes, gates, last, reps)
    return "\n".join(lines)


def _fmt_compare(result) -> str:
    return fmt(None if result is None else (result["effect"], result["low"], result["high"]))


def finding_lines(table, passes, gates, last: int, reps: int) -> list[str]:
    lines = []
    final = {g: passes.get((g, last), {}) for g in gates}
    base = passes.get(("base", 0), {})
    # 1. No gate falls fastest.
    if NO_GATE in gates:
        others = [g for g in gates if g != NO_GATE]
        diffs = {g: compare(final[NO_GATE], final[g], reps, 0) for g in others}
        signs = {g: sign(d["low"], d["high"]) for g, d in diffs.items() if d}
        if signs and all(s < 0 for s in signs.values()):
            verdict = "appears"
        elif any(s > 0 for s in signs.values()):
            verdict = "does not appear: " + ", ".join(g for g, s in signs.items() if s > 0) + " end below none"
        else:
            verdict = "unresolved at this noise"
        detail = "; ".join(f"{g} {_fmt_compare(d)}" for g, d in diffs.items())
        lines.append(f"1. No gate falls fastest: **{verdict}** (none - gate at round {last}: {detail}).")
    # 2. Human gates slow the fall.
    human = [g for g in HUMAN_GATES if g in gates]
    if human and NO_GATE in gates:
        parts = []
        for g in human:
            d = compare(final[g], final[NO_GATE], reps, 0)
            s = sign(d["low"], d["high"]) if d else 0
            parts.append(f"{g}: **{['unresolved', 'appears', 'does not appear'][s]}** ({_fmt_compare(d)})")
        lines.append(f"2. Human gates slow the fall (gate - none at round {last}): " + "; ".join(parts) + ".")
    # 3. Self-gate acceptance rises while correctness falls.
    parts = []
    for g in (g for g in SELF_GATES if g in gates):
        fall = compare(final[g], base, reps, 0)
        accepted = table[(table.gate == g) & (table["round"] > 0)].acceptance_rate
        column, label = "acceptance_rate", "acceptance"
        if accepted.nunique() == 1:  # a per-round quantile: training acceptance is constant by construction
            bar = table[(table.gate == g) & (table["round"] > 0)].get(BAR_SHARE)
            if bar is None or bar.isna().all():
                parts.append(f"{g}: **cannot be observed** (a per-round quantile keeps acceptance at "
                             f"{accepted.iloc[0]:.2f} by construction; use mode calibrated; pass@1 "
                             f"{_fmt_compare(fall)})")
                continue
            column, label = BAR_SHARE, "share of samples over round 1's bar (acceptance is a per-round quantile)"
        rise = seed_difference(per_seed(table, g, last, column), per_seed(table, g, 1, column), reps)
        rises, falls = sign(rise[1], rise[2]) if rise else 0, sign(fall["low"], fall["high"]) if fall else 0
        if rises > 0 and falls < 0:
            verdict = "appears"
        elif rises < 0 or falls > 0:
            verdict = "does not appear"
        else:
            verdict = "unresolved at this noise"
        parts.append(f"{g}: **{verdict}** ({label} {fmt(rise, 2)}, pass@1 {_fmt_compare(fall)})")
    if parts:
        lines.append(f"3. Self-gate acceptance rises (round {last} - 1) while correctness falls (round {last} - 0): "
                     + "; ".join(parts) + ".")
    # 4. The spectral statistic rises.
    if SPECTRAL in table:
        parts = []
        for g in [*gates, CONTROL]:
            d = seed_difference(per_seed(table, g, last, SPECTRAL), per_seed(table, g, 0, SPECTRAL), reps)
            if d is not None:
                s = sign(d[1], d[2])
                parts.append(f"{g} {['unresolved', 'rises', 'falls'][s]} ({fmt(d, 2)})")
        rising = sum(" rises " in p for p in parts)
        falling = sum(" falls " in p for p in parts)
        verdict = ("appears" if rising and not falling else "does not appear" if falling and not rising
                   else "mixed" if rising else "unresolved at this noise")
        lines.append(f"4. lambda1/lambda2 rises (round {last} - 0): **{verdict}** ({rising} arm(s) rise, "
                     f"{falling} fall): " + "; ".join(parts) + ".")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--benchmark", default="microtasks")
    parser.add_argument("--bootstrap", type=int, default=2000)
    args = parser.parse_args(argv)
    print(report(args.results, args.benchmark, args.bootstrap))


if __name__ == "__main__":
    main()
