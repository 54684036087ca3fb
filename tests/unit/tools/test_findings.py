"""The findings' verdicts on crafted results: appears, does not, unresolved, cannot be observed."""

from __future__ import annotations

import pandas as pd

from gatedloop.tools.findings import finding_lines, sign

TASKS = [f"t{i}" for i in range(40)]
SEEDS = (0, 1, 2, 3)


def passes_with(rate: float, seed: int) -> dict[str, float]:
    """A task -> pass map passing the first round(rate * 40) tasks, shifted by seed so seeds differ a little."""
    n = round(rate * len(TASKS))
    return {t: float((i + seed) % len(TASKS) < n) for i, t in enumerate(TASKS)}


def crafted(final_rates: dict[str, float], acceptance: dict[str, tuple[float, float]]):
    passes = {("base", 0): {s: passes_with(0.6, 0) for s in SEEDS}}
    rows = []
    for gate, rate in final_rates.items():
        passes[(gate, 2)] = {s: passes_with(rate, s) for s in SEEDS}
        for s in SEEDS:
            for r in (0, 1, 2):
                rows.append({"gate": gate, "seed": s, "round": r, "pass_at_1": rate,
                             "acceptance_rate": None if r == 0 else acceptance.get(gate, (1.0, 1.0))[r - 1] + 0.01 * s,
                             "spectral_last_lambda1_over_lambda2": 2.0 + (0.5 + 0.05 * s) * r * (gate == "none")})
    return pd.DataFrame(rows), passes


def test_sign_needs_an_interval_that_excludes_zero():
    assert (sign(0.1, 0.3), sign(-0.3, -0.1), sign(-0.1, 0.2), sign(float("nan"), float("nan"))) == (1, -1, 0, 0)


def test_none_falling_fastest_and_a_human_gate_slowing_it_appear():
    table, passes = crafted({"none": 0.2, "compile": 0.5, "perplexity": 0.45}, {})
    lines = finding_lines(table, passes, ["none", "compile", "perplexity"], 2, reps=500)
    assert "No gate falls fastest: **appears**" in lines[0]
    assert "compile: **appears**" in lines[1]
    assert "none rises" in lines[-1] and "compile unresolved" in lines[-1]
    assert "lambda1/lambda2 rises (round 2 - 0): **appears**" in lines[-1]


def test_a_gate_below_none_refutes_the_first_finding():
    table, passes = crafted({"none": 0.5, "compile": 0.2, "perplexity": 0.5}, {})
    lines = finding_lines(table, passes, ["none", "compile", "perplexity"], 2, reps=500)
    assert "does not appear: compile end below none" in lines[0]
    assert "compile: **does not appear**" in lines[1]


def test_equal_arms_are_unresolved():
    table, passes = crafted({"none": 0.5, "compile": 0.5}, {})
    lines = finding_lines(table, passes, ["none", "compile"], 2, reps=500)
    assert "**unresolved at this noise**" in lines[0]


def test_self_gate_acceptance_rising_while_pass_falls_and_the_quantile_case():
    table, passes = crafted({"none": 0.4, "perplexity": 0.3, "binary": 0.3},
                            {"perplexity": (0.25, 0.40)})
    table.loc[table.gate == "binary", "acceptance_rate"] = table.loc[table.gate == "binary", "acceptance_rate"].where(
        table["round"] == 0, 0.25)
    line = next(x for x in finding_lines(table, passes, ["none", "perplexity", "binary"], 2, reps=500)
                if x.startswith("3."))
    assert "perplexity: **appears**" in line
    assert "binary: **cannot be observed**" in line


def test_under_a_per_round_quantile_the_share_over_round_ones_bar_carries_the_finding():
    table, passes = crafted({"none": 0.4, "binary": 0.3}, {})
    later = table["round"] > 0
    table.loc[later, "acceptance_rate"] = 0.25  # the study's selection: constant by construction
    table["acceptance_at_round1_bar"] = None
    table.loc[later, "acceptance_at_round1_bar"] = 0.25 + 0.2 * (table["round"] - 1) + 0.01 * table.seed
    line = next(x for x in finding_lines(table, passes, ["none", "binary"], 2, reps=500) if x.startswith("3."))
    assert "binary: **appears** (share of samples over round 1's bar" in line
