"""Figures from the aggregated metrics table only (never from models), so they refresh in seconds.

CLI: ``python -m gatedloop.figures --metrics metrics.csv --out pass_at_1.png [--dpi N]``: pass@1 against
round, one panel per (model, benchmark), one line per gate (mean over seeds, with the seeds' range shaded).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from gatedloop.io import atomic_path


def plot_pass_at_1(table, out: Path, dpi: int = 120) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = sorted(table.groupby(["model", "benchmark"]).groups)
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, (model, benchmark) in zip(axes[0], panels, strict=True):
        panel = table[(table.model == model) & (table.benchmark == benchmark)]
        for gate, rows in panel.groupby("gate"):
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


def main(argv: Sequence[str] | None = None) -> None:
    import pandas as pd

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metrics", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dpi", type=int, default=120)
    args = parser.parse_args(argv)
    plot_pass_at_1(pd.read_csv(args.metrics), args.out, args.dpi)
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
