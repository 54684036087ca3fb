"""Figures from the aggregated metrics table only (never from models), so they refresh in seconds.

CLI: ``python -m gatedloop.figures --metrics metrics.csv --out FIG.png [--kind KIND] [--dpi N]``. Kinds:
- ``pass_at_1``: pass@1 against round, one panel per (model, benchmark), one line per gate (mean over seeds,
  with the seeds' range shaded);
- ``gate_audit``: one panel per (model, gate): pass@1, the gate's training acceptance rate, and its held-out
  audit AUROC with the bootstrap interval (the study's Figure 7 plus the audit; the rubber stamp shows as
  acceptance rising while AUROC falls to 0.5).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from gatedloop.io import atomic_path
from gatedloop.warm import run_cli


def arm_labels(table):
    """Line labels: the gate, or gate/regime when the table holds more than one data regime."""
    if "regime" in table and table["regime"].nunique() > 1:
        return table["gate"] + "/" + table["regime"]
    return table["gate"]


def plot_pass_at_1(table, out: Path, dpi: int = 120) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = sorted(table.groupby(["model", "benchmark"]).groups)
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, (model, benchmark) in zip(axes[0], panels, strict=True):
        panel = table[(table.model == model) & (table.benchmark == benchmark)]
        for gate, rows in panel.groupby(arm_labels(panel)):
            by_round = rows.groupby("round")["pass_at_1"]
            mean = by_round.mean()
            (line,) = ax.plot(mean.index, mean.values, marker="o", label=gate)
            if rows.seed.nunique() > 1:
                ax.fill_between(mean.index, by_round.min(), by_round.max(), color=line.get_color(), alpha=0.15)
        ax.set(title=f"{model} · {benchmark}", xlabel="round", ylabel="pass@1", ylim=(0, 1))
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend(title="gate", fontsize=8)
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)


def plot_gate_audit(table, out: Path, dpi: int = 120) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = table.assign(arm=arm_labels(table))
    panels = sorted(table.groupby(["model", "arm"]).groups)
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    for ax, (model, gate) in zip(axes.flat, panels, strict=False):
        cell = table[(table.model == model) & (table.arm == gate)]
        for benchmark, rows_b in cell.groupby("benchmark"):
            mean = rows_b.groupby("round")["pass_at_1"].mean()
            ax.plot(mean.index, mean.values, marker="o", label=f"pass@1 ({benchmark})")
        per_round = cell.drop_duplicates(["seed", "round"]).groupby("round")
        accepted = per_round["acceptance_rate"].mean().dropna()
        ax.plot(accepted.index, accepted.values, marker="s", label="acceptance (training)")
        if "audit_auroc" in cell and cell["audit_auroc"].notna().any():
            auroc = per_round["audit_auroc"].mean()
            (line,) = ax.plot(auroc.index, auroc.values, marker="^", label="audit AUROC")
            ax.fill_between(auroc.index, per_round["audit_auroc_low"].mean(), per_round["audit_auroc_high"].mean(),
                            color=line.get_color(), alpha=0.15)
        ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
        ax.set(title=f"{model} · {gate}", xlabel="round", ylim=(0, 1.02))
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)


PLOTS = {"pass_at_1": plot_pass_at_1, "gate_audit": plot_gate_audit}


def main(argv: Sequence[str] | None = None) -> None:
    import pandas as pd

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metrics", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--kind", choices=sorted(PLOTS), default="pass_at_1")
    parser.add_argument("--dpi", type=int, default=120)
    args = parser.parse_args(argv)
    PLOTS[args.kind](pd.read_csv(args.metrics), args.out, args.dpi)
    print(f"-> {args.out}")


if __name__ == "__main__":
    run_cli(main)
