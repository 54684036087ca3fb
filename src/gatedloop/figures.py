"""The study's figures and the collapse table, from the aggregated tables only (never from models), so they refresh
in seconds.

CLI: ``python -m gatedloop.figures --metrics metrics.csv --out FIG.png --kind KIND [--spectra spectra.csv]
[--benchmarks B ...] [--gates G ...] [--style STYLE] [--dpi N] [--bootstrap N]``, and
``python -m gatedloop.figures --metrics metrics.csv --out collapse.csv --kind collapse [--fraction 0.9]``. Kinds:
- ``pass_at_1``: pass@1 against round, one panel per (model, benchmark), one line per gate, the model's round-0
  baseline dashed (the study's Figure 2);
- ``heatmap``: rows model x gate, columns rounds, cells pass@1, one panel per benchmark (Figure 4);
- ``gate_audit``: per (model, gate): pass@1, the gate's training acceptance and its held-out audit AUROC
  (Figure 7 plus the audit: the rubber stamp is acceptance rising while AUROC falls to 0.5);
- ``spectral``: lambda1/lambda2, effective rank and top-k share against round per gate (the bootstrap interval of
  the estimate shaded), and the eigen-spectra of round 0 and the last round;
- ``execution``: compile and execution-pass rates of the generated samples against round (Figure 12);
- ``diversity``: distinct-n, compression ratio, AST node entropy, identifiers, imports and perplexity under the
  round-0 model against round;
- ``effect`` (reads effects.csv): the self-training effect, gate minus control paired by seed, against round,
  with its interval, and the control's drift from round 0;
- ``coverage`` (reads coverage.csv): per arm a families x rounds heatmap of held-out pass@1, with the accepted
  training samples of each family written in;
- ``collapse`` (a CSV): per model x gate x benchmark: baseline, final, absolute and relative drop, the first round
  below ``fraction`` x baseline.
With several seeds every line is the mean over seeds with a bootstrap 95% band (seeds resampled).

An unfinished sweep (``--partial results/partial/metrics.csv``, the partial aggregate with its ``missing`` column):
every figure draws what is written (a round not scored yet has no pass@1 point) and says at its top how many of the
cells are finished and which are not; a figure with nothing written yet says so instead of failing; the collapse
table takes the last scored round as final and lists the unscored rounds per row.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence
from pathlib import Path

from gatedloop.core.io import atomic_path
from gatedloop.engine.warm import run_cli
from gatedloop.gates import GATES

SPECTRAL_STATS = [("lambda1_over_lambda2", "λ1/λ2"), ("effective_rank", "effective rank"),
                  ("topk_share", "top-k eigenvalue share")]
DIVERSITY = [("diversity_distinct_2", "distinct-2"), ("diversity_distinct_4", "distinct-4"),
             ("diversity_compression_ratio", "compression ratio"), ("diversity_ast_node_entropy", "AST node entropy"),
             ("diversity_unique_identifiers", "unique identifiers"), ("diversity_unique_imports", "imported modules"),
             ("diversity_base_perplexity", "perplexity under round 0")]


# ---------------------------------------------------------------- shared helpers

def arm_labels(table):
    """Line labels: the gate, or gate/regime when the table holds more than one data regime."""
    if "regime" in table and table["regime"].nunique() > 1:
        return table["gate"] + "/" + table["regime"]
    return table["gate"]


def seed_band(values, reps: int = 1000, seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high): the mean over seeds and a bootstrap 95% interval of it (low = high = mean for one seed)."""
    from gatedloop.core.stats import bootstrap_mean

    values = [float(v) for v in values if v == v]  # drop NaN
    if not values:
        return float("nan"), float("nan"), float("nan")
    if len(values) == 1:
        return values[0], values[0], values[0]
    return bootstrap_mean(values, reps, seed)


def curve(rows, column: str, reps: int = 1000):
    """(rounds, means, lows, highs) of ``column`` against round, one value per seed and round."""
    per_round = rows.dropna(subset=[column]).drop_duplicates(["seed", "round"]).groupby("round")[column]
    rounds, stats = [], []
    for round_, values in per_round:
        rounds.append(int(round_))
        stats.append(seed_band(values.tolist(), reps))
    return rounds, [s[0] for s in stats], [s[1] for s in stats], [s[2] for s in stats]


def select(table, benchmarks: Sequence[str] = (), gates: Sequence[str] = ()):
    if benchmarks:
        table = table[table["benchmark"].isin(benchmarks)]
    if gates:
        table = table[table["gate"].isin(gates)]
    if table.empty:
        raise ValueError(f"nothing to plot: no rows for benchmarks {list(benchmarks) or 'all'} and gates "
                         f"{list(gates) or 'all'}")
    return table


def _pyplot(style: str = "default"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.style.use(style)
    return plt


def _grid(plt, n: int, width: float = 4.6, height: float = 3.4, cols: int = 3):
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return fig, list(axes.flat)[:n]


def _save(plt, fig, out: Path, dpi: int, note: str = "") -> None:
    if note:  # above the panels, in the space tight_layout leaves for it
        width, height = fig.get_size_inches()
        text = textwrap.fill(note, width=max(40, int(width * 15)))
        fig.suptitle(text, color="firebrick", fontsize=8, y=0.995, va="top")
        fig.tight_layout(rect=(0, 0, 1, 1 - min(0.5, (text.count("\n") + 1) * 0.16 / height)))
    else:
        fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)


def _line(ax, rows, column: str, label: str, reps: int, **style):
    rounds, means, lows, highs = curve(rows, column, reps)
    if not rounds:
        return None
    (line,) = ax.plot(rounds, means, marker=style.pop("marker", "o"), label=label, **style)
    if any(lo != hi for lo, hi in zip(lows, highs, strict=True)):
        ax.fill_between(rounds, lows, highs, color=line.get_color(), alpha=0.15, linewidth=0)
    return line


def _rounds_axis(ax, title: str, ylabel: str = "", ylim=None):
    ax.set(title=title, xlabel="round", ylabel=ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)


# ---------------------------------------------------------------- figures

def plot_pass_at_1(table, out: Path, dpi: int = 120, reps: int = 1000, style: str = "default", note: str = "") -> None:
    plt = _pyplot(style)
    panels = sorted(table.groupby(["model", "benchmark"]).groups)
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, (model, benchmark) in zip(axes[0], panels, strict=True):
        panel = table[(table.model == model) & (table.benchmark == benchmark)]
        baseline = panel[panel["round"] == 0].drop_duplicates("seed")["pass_at_1"].mean()
        ax.axhline(baseline, color="black", linestyle="--", linewidth=1, label=f"{model} baseline")
        for gate, rows in panel.groupby(arm_labels(panel)):
            _line(ax, rows, "pass_at_1", gate, reps)
        _rounds_axis(ax, f"{model} · {benchmark}", "pass@1", (0, 1))
        ax.legend(title="gate", fontsize=8)
    _save(plt, fig, out, dpi, note)


def plot_heatmap(table, out: Path, dpi: int = 120, reps: int = 1000, style: str = "default", note: str = "") -> None:
    plt = _pyplot(style)
    table = table.assign(arm=arm_labels(table))
    benchmarks = sorted(table["benchmark"].unique())
    fig, axes = _grid(plt, len(benchmarks), width=1.2 + 0.9 * table["round"].nunique(),
                      height=1.0 + 0.45 * table.groupby(["model", "arm"]).ngroups, cols=2)
    for ax, benchmark in zip(axes, benchmarks, strict=True):
        cells = (table[table.benchmark == benchmark].groupby(["model", "arm", "round"])["pass_at_1"].mean()
                 .unstack("round"))
        image = ax.imshow(cells.values, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_xticks(range(cells.shape[1]), [str(c) for c in cells.columns])
        ax.set_yticks(range(cells.shape[0]), [f"{m} · {a}" for m, a in cells.index])
        for (i, j), value in _enumerate_cells(cells.values):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if value < 0.5 else "black")
        ax.set(title=f"pass@1 · {benchmark}", xlabel="round")
        fig.colorbar(image, ax=ax, fraction=0.04)
    _save(plt, fig, out, dpi, note)


def _enumerate_cells(values):
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if value == value:
                yield (i, j), value


def plot_gate_audit(table, out: Path, dpi: int = 120, reps: int = 1000, style: str = "default", note: str = "") -> None:
    plt = _pyplot(style)
    table = table.assign(arm=arm_labels(table))
    panels = sorted(table.groupby(["model", "arm"]).groups)
    fig, axes = _grid(plt, len(panels))
    for ax, (model, gate) in zip(axes, panels, strict=True):
        cell = table[(table.model == model) & (table.arm == gate)]
        for benchmark, rows_b in cell.groupby("benchmark"):
            _line(ax, rows_b, "pass_at_1", f"pass@1 ({benchmark})", reps)
        _line(ax, cell, "acceptance_rate", "acceptance (training)", reps, marker="s")
        if "audit_auroc" in cell and cell["audit_auroc"].notna().any():
            rounds, means, _, _ = curve(cell, "audit_auroc", reps)
            (line,) = ax.plot(rounds, means, marker="^", label="audit AUROC")
            per_round = cell.drop_duplicates(["seed", "round"]).groupby("round")
            ax.fill_between(rounds, per_round["audit_auroc_low"].mean().loc[rounds],
                            per_round["audit_auroc_high"].mean().loc[rounds], color=line.get_color(), alpha=0.15)
        ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
        _rounds_axis(ax, f"{model} · {gate}", ylim=(0, 1.02))
        ax.legend(fontsize=7)
    _save(plt, fig, out, dpi, note)


def spectral_layers(table) -> list[str]:
    suffix = "_lambda1_over_lambda2"
    return sorted(c.removeprefix("spectral_").removesuffix(suffix) for c in table.columns
                  if c.startswith("spectral_") and c.endswith(suffix))


def plot_spectral(table, out: Path, dpi: int = 120, reps: int = 1000, style: str = "default", spectra=None,
                  note: str = "") -> None:
    """Rows: (model, layer); columns: the three statistics, then the eigen-spectra of round 0 and the last round."""
    plt = _pyplot(style)
    layers = spectral_layers(table)
    if not layers:
        raise ValueError("the metrics table has no spectral_* columns (is analysis.enabled off?)")
    table = table.assign(arm=arm_labels(table)).drop_duplicates(["model", "arm", "seed", "round"])
    panels = [(model, layer) for model in sorted(table["model"].unique()) for layer in layers]
    n_cols = len(SPECTRAL_STATS) + (spectra is not None)
    fig, axes = plt.subplots(len(panels), n_cols, figsize=(4.4 * n_cols, 3.3 * len(panels)), squeeze=False)
    for row_axes, (model, layer) in zip(axes, panels, strict=True):
        rows = table[table.model == model]
        for ax, (stat, label) in zip(row_axes, SPECTRAL_STATS, strict=False):
            column = f"spectral_{layer}_{stat}"
            for arm, arm_rows in rows.groupby("arm"):
                line = _line(ax, arm_rows, column, arm, reps)
                if line is not None and arm_rows["seed"].nunique() == 1 and f"{column}_low" in arm_rows:
                    ordered = arm_rows.dropna(subset=[column]).sort_values("round")
                    ax.fill_between(ordered["round"], ordered[f"{column}_low"], ordered[f"{column}_high"],
                                    color=line.get_color(), alpha=0.12, linewidth=0)
            _rounds_axis(ax, f"{model} · {layer} · {label}", label)
        row_axes[0].legend(title="gate", fontsize=7)
        if spectra is not None:
            _plot_spectra(row_axes[-1], spectra, model, layer)
    _save(plt, fig, out, dpi, note)


def _plot_spectra(ax, spectra, model: str, layer: str) -> None:
    """Normalised eigen-spectra: round 0 (black, dashed) and each gate's last round, seed 0 or the first seed."""
    rows = spectra[(spectra.model == model) & (spectra.layer == layer)]
    rows = rows[rows.seed == rows.seed.min()]
    last = rows["round"].max()
    for (gate, round_), spectrum in rows[rows["round"].isin([0, last])].groupby(["gate", "round"]):
        values = spectrum.sort_values("index")["eigenvalue"].clip(lower=1e-12)
        values = values / values.sum()
        style = {"color": "black", "linestyle": "--", "label": "round 0"} if round_ == 0 else {
            "label": f"{gate}, round {round_}"}
        ax.semilogy(range(1, len(values) + 1), values.values, **style)
    bottom, top = ax.get_ylim()
    ax.set_ylim(max(bottom, 1e-8), top)  # a layer norm leaves one direction with no variance: round-off below
    ax.set(title=f"{model} · {layer} · spectrum", xlabel="eigenvalue rank", ylabel="share of variance")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def plot_execution(table, out: Path, dpi: int = 120, reps: int = 1000, style: str = "default", note: str = "") -> None:
    plt = _pyplot(style)
    present = [c for c in ("compile_rate", "exec_pass_rate") if c in table and table[c].notna().any()]
    if not present:
        raise ValueError("the metrics table has no compile_rate / exec_pass_rate (is sample_checks.enabled off?)")
    table = table.assign(arm=arm_labels(table)).drop_duplicates(["model", "arm", "seed", "round"])
    panels = [(model, column) for model in sorted(table["model"].unique()) for column in present]
    fig, axes = _grid(plt, len(panels), cols=2)
    for ax, (model, column) in zip(axes, panels, strict=True):
        for arm, rows in table[table.model == model].groupby("arm"):
            _line(ax, rows, column, arm, reps)
        label = {"compile_rate": "compile rate", "exec_pass_rate": "execution-pass rate"}[column]
        _rounds_axis(ax, f"{model} · {label} of generated samples", label, (0, 1.02))
        ax.legend(title="gate", fontsize=7)
    _save(plt, fig, out, dpi, note)


def plot_diversity(table, out: Path, dpi: int = 120, reps: int = 1000, style: str = "default", note: str = "") -> None:
    plt = _pyplot(style)
    present = [(c, label) for c, label in DIVERSITY if c in table and table[c].notna().any()]
    if not present:
        raise ValueError("the metrics table has no diversity_* columns (is analysis.enabled off?)")
    table = table.assign(arm=arm_labels(table)).drop_duplicates(["model", "arm", "seed", "round"])
    panels = [(model, c, label) for model in sorted(table["model"].unique()) for c, label in present]
    fig, axes = _grid(plt, len(panels), cols=4, width=4.0, height=3.1)
    for ax, (model, column, label) in zip(axes, panels, strict=True):
        for arm, rows in table[table.model == model].groupby("arm"):
            _line(ax, rows, column, arm, reps)
        _rounds_axis(ax, f"{model} · {label}", label)
    axes[0].legend(title="gate", fontsize=7)
    _save(plt, fig, out, dpi, note)


def plot_effect(effects, out: Path, dpi: int = 120, reps: int = 1000, style: str = "default", note: str = "") -> None:
    """The self-training effect (gate minus control, paired by seed) against round, one panel per (model,
    benchmark), the 95% interval shaded; the control's own drift from round 0 in black."""
    plt = _pyplot(style)
    effects = effects.assign(arm=arm_labels(effects))
    panels = sorted(effects.groupby(["model", "benchmark"]).groups)
    fig, axes = _grid(plt, len(panels), width=5.2, height=3.8, cols=2)
    for ax, (model, benchmark) in zip(axes, panels, strict=True):
        panel = effects[(effects.model == model) & (effects.benchmark == benchmark)]
        gates = panel[panel.comparison == "vs_reference"]
        for arm, rows in gates.groupby("arm"):
            rows = rows.sort_values("round")
            (line,) = ax.plot(rows["round"], rows["effect"], marker="o", label=arm)
            ax.fill_between(rows["round"], rows["low"], rows["high"], color=line.get_color(), alpha=0.12,
                            linewidth=0)
        drift = panel[(panel.comparison == "vs_round0") & (panel.gate == GATES.control_name())]
        for arm, rows in drift.groupby("arm"):
            rows = rows.sort_values("round")
            ax.plot(rows["round"], rows["effect"], color="black", linestyle="--", marker="s",
                    label=f"{arm}: drift from round 0")
            ax.fill_between(rows["round"], rows["low"], rows["high"], color="black", alpha=0.08, linewidth=0)
        ax.axhline(0, color="grey", linewidth=1)
        seeds = int(panel["n_seeds"].max()) if len(panel) else 0
        _rounds_axis(ax, f"{model} · {benchmark} · {seeds} seed(s)", "pass@1 minus control")
        ax.legend(title="gate", fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    if not panels:
        raise ValueError("the effects table is empty: is the control arm (control.enabled) off?")
    _save(plt, fig, out, dpi, note)


def plot_coverage(coverage, out: Path, dpi: int = 120, reps: int = 1000, style: str = "default",
                  note: str = "") -> None:
    """Per (model, benchmark, arm): families x rounds, colour the family's held-out pass@1 (mean over seeds),
    text the accepted training samples of that family (mean over seeds; round 0 trains on nothing)."""
    plt = _pyplot(style)
    if coverage.empty:
        fig, ax = plt.subplots(figsize=(6, 1.6))
        ax.axis("off")
        ax.text(0.5, 0.5, "no scored benchmark has task families\n(the microtasks do; HumanEval, MBPP+ and "
                "LiveCodeBench do not)", ha="center", va="center")
        _save(plt, fig, out, dpi, note)
        return
    coverage = coverage.assign(arm=arm_labels(coverage))
    panels = sorted(coverage.groupby(["model", "benchmark", "arm"]).groups)
    n_families = coverage["family"].nunique()
    fig, axes = _grid(plt, len(panels), width=1.8 + 0.6 * coverage["round"].nunique(),
                      height=0.8 + 0.24 * n_families, cols=4)
    for ax, (model, benchmark, arm) in zip(axes, panels, strict=True):
        cell = coverage[(coverage.model == model) & (coverage.benchmark == benchmark) & (coverage.arm == arm)]
        passed = cell.groupby(["family", "round"])["pass_at_1"].mean().unstack("round")
        accepted = cell.groupby(["family", "round"])["n_accepted"].mean().unstack("round").reindex_like(passed)
        image = ax.imshow(passed.values, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_xticks(range(passed.shape[1]), [str(c) for c in passed.columns])
        ax.set_yticks(range(passed.shape[0]), list(passed.index), fontsize=6)
        for (i, j), value in _enumerate_cells(accepted.values):
            ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=5,
                    color="white" if passed.values[i, j] < 0.5 else "black")
        ax.set_title(f"{model} · {benchmark} · {arm}", fontsize=8)
        ax.set_xlabel("round")
    fig.colorbar(image, ax=axes[-1], fraction=0.05, label="held-out pass@1 (numbers: accepted samples)")
    _save(plt, fig, out, dpi, note)


def collapse_table(table, fraction: float = 0.9):
    """Per model x gate (x regime) x benchmark, means over seeds: baseline (round 0), final (last round), absolute
    and relative drop, and the first round whose pass@1 is below ``fraction`` x baseline (empty if none). A partial
    table (its ``missing`` column): final is the last scored round, and ``missing`` lists the unscored ones."""
    import pandas as pd

    partial = "missing" in table
    table = table.assign(arm=arm_labels(table), unscored=unscored(table))
    rows = []
    for (model, arm, benchmark), cell in table.groupby(["model", "arm", "benchmark"]):
        by_round = cell[~cell.unscored].groupby("round")["pass_at_1"].mean().sort_index()
        baseline, final = (by_round.iloc[0], by_round.iloc[-1]) if len(by_round) else (float("nan"),) * 2
        below = by_round[(by_round.index > 0) & (by_round < fraction * baseline)]
        row = {"model": model, "gate": arm, "benchmark": benchmark, "n_seeds": cell["seed"].nunique(),
               "rounds": int(by_round.index.max()) if len(by_round) else None, "baseline": baseline, "final": final,
               "drop": baseline - final, "relative_drop": (baseline - final) / baseline if baseline else None,
               f"first_round_below_{fraction:g}x": int(below.index[0]) if len(below) else None}
        if partial:
            gaps = cell[cell.unscored].sort_values(["round", "seed"])
            row["missing"] = " ".join(f"round{r}/seed{s}" for r, s in zip(gaps["round"], gaps["seed"], strict=True))
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- an unfinished sweep

def unscored(table):
    """Rows of a partial table whose score is not written yet (all False for a finished table)."""
    if "missing" not in table:
        return table["round"] != table["round"]
    return table["missing"].fillna("").str.split().apply(lambda names: "score" in names)


def partial_note(partial, shown: int = 4) -> str:
    """'partial: N of M cells finished; not yet: <cell> (<files>); ...', a cell being one round of one arm, from
    the partial aggregate's ``missing`` column; the first ``shown`` unfinished cells are named."""
    keys = ["model", "gate", "regime", "seed", "round"]
    partial = partial.assign(missing=partial["missing"].fillna(""))
    unfinished = []
    for key, cell in partial.groupby(keys, sort=True):
        missing = cell[cell.missing != ""]
        if missing.empty:
            continue
        names = [n for n in dict.fromkeys(" ".join(missing.missing).split()) if n != "score"]
        scoreless = sorted(missing[unscored(missing)].benchmark)
        if scoreless:
            every = len(scoreless) == cell.benchmark.nunique()
            names.insert(0, "score" if every else f"score ({', '.join(scoreless)})")
        model, gate, regime, seed, round_ = key
        unfinished.append(f"{model}/{gate}/{regime}/seed{seed}/round{round_} ({', '.join(names)})")
    total = partial.groupby(keys).ngroups
    note = f"partial: {total - len(unfinished)} of {total} cells finished"
    if unfinished:
        more = len(unfinished) - shown
        note += "; not yet: " + "; ".join(unfinished[:shown])
        note += f"; and {more} more (the missing column of the partial metrics.csv)" if more > 0 else ""
    return note


def _placeholder(out: Path, dpi: int, style: str, reason: str, note: str) -> None:
    """A figure that says it has nothing to draw yet, for a partial sweep."""
    print(f"nothing to draw yet: {reason}")
    plt = _pyplot(style)
    fig, ax = plt.subplots(figsize=(7, 2.2))
    ax.axis("off")
    ax.text(0.5, 0.5, textwrap.fill(f"nothing to draw yet: {reason}", 80), ha="center", va="center")
    _save(plt, fig, out, dpi, note)


def _read(path: Path):
    import pandas as pd

    table = pd.read_csv(path)
    if "missing" in table:
        table["missing"] = table["missing"].fillna("")
    return table


PLOTS = {"pass_at_1": plot_pass_at_1, "heatmap": plot_heatmap, "gate_audit": plot_gate_audit,
         "spectral": plot_spectral, "execution": plot_execution, "diversity": plot_diversity,
         "effect": plot_effect, "coverage": plot_coverage}


def main(argv: Sequence[str] | None = None) -> None:
    import pandas as pd

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metrics", "--table", dest="metrics", type=Path, required=True,
                        help="the aggregated table: metrics.csv; effects.csv (kind effect); coverage.csv (coverage)")
    parser.add_argument("--spectra", type=Path, default=None, help="eigen-spectra table (kind spectral)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--kind", choices=[*sorted(PLOTS), "collapse"], default="pass_at_1")
    parser.add_argument("--benchmarks", nargs="*", default=[], help="only these benchmarks (default: all)")
    parser.add_argument("--gates", nargs="*", default=[], help="only these gates (default: all)")
    parser.add_argument("--style", default="default", help="a matplotlib style name")
    parser.add_argument("--dpi", type=int, default=120)
    parser.add_argument("--bootstrap", type=int, default=1000, help="resamples for the seed bands")
    parser.add_argument("--fraction", type=float, default=0.9, help="collapse: 'below fraction x baseline'")
    parser.add_argument("--partial", type=Path, default=None,
                        help="an unfinished sweep: the partial metrics.csv (its missing column): draw what is "
                             "finished and say what is not")
    args = parser.parse_args(argv)
    if args.partial is None:
        draw(args, pd.read_csv(args.metrics))
    else:
        draw_partial(args)
    print(f"-> {args.out}")


def draw(args, table, note: str = "") -> None:
    import pandas as pd

    if not (args.kind == "coverage" and table.empty):
        table = select(table, args.benchmarks, args.gates)
    if args.kind == "collapse":
        with atomic_path(args.out) as tmp:
            collapse_table(table, args.fraction).to_csv(tmp, index=False, float_format="%.4g")
        return
    extra = {"note": note} if note else {}
    if args.kind == "spectral" and args.spectra is not None:
        spectra = pd.read_csv(args.spectra)
        extra["spectra"] = spectra[spectra["gate"].isin([*table["gate"].unique(), "base"])]
    PLOTS[args.kind](table, args.out, args.dpi, args.bootstrap, args.style, **extra)


def draw_partial(args) -> None:
    """What is written so far, the note on top; a figure with nothing of it written yet says so."""
    partial = _read(args.partial)
    shown = partial
    if args.benchmarks:
        shown = shown[shown["benchmark"].isin(args.benchmarks)]
    if args.gates:
        shown = shown[shown["gate"].isin(args.gates)]
    note = partial_note(shown if len(shown) else partial)
    print(note)
    # Rows not scored yet stay: their pass@1 is empty (no point drawn), the rest of their round may be there.
    table = _read(args.metrics)
    try:
        draw(args, table, note)
    except ValueError as err:  # e.g. no control arm round, no analysis yet: nothing of this figure is finished
        if args.kind == "collapse":
            raise
        _placeholder(args.out, args.dpi, args.style, str(err), note)


if __name__ == "__main__":
    run_cli(main)
