"""Every figure from a small synthetic metrics table: a valid PNG, and the plotted values are the table's."""

from __future__ import annotations

import matplotlib.axes
import numpy as np
import pandas as pd
import pytest

from gatedloop import figures

PNG = b"\x89PNG\r\n\x1a\n"


def metrics_table(seeds=(0, 1)) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        for gate, slope in (("none", 0.2), ("compile", 0.05)):
            for r in range(3):
                rows.append({
                    "model": "tiny", "gate": gate, "regime": "replace", "seed": seed, "round": r,
                    "benchmark": "microtasks", "pass_at_1": 0.7 - slope * r + 0.01 * seed,
                    "acceptance_rate": None if r == 0 else 0.5 + 0.1 * r, "audit_auroc": 0.8 - 0.1 * r,
                    "audit_auroc_low": 0.7 - 0.1 * r, "audit_auroc_high": 0.9 - 0.1 * r,
                    "compile_rate": None if r == 0 else 0.9 - 0.1 * r * (gate == "none"),
                    "exec_pass_rate": None if r == 0 else 0.6 - slope * r,
                    "spectral_last_lambda1_over_lambda2": 2.0 + slope * 10 * r + seed,
                    "spectral_last_lambda1_over_lambda2_low": 1.5 + slope * 10 * r + seed,
                    "spectral_last_lambda1_over_lambda2_high": 2.5 + slope * 10 * r + seed,
                    "spectral_last_effective_rank": 20 - r, "spectral_last_topk_share": 0.3 + 0.01 * r,
                    "diversity_distinct_2": None if r == 0 else 0.5 - slope * r,
                    "diversity_base_perplexity": None if r == 0 else 3.0 + r,
                })
    return pd.DataFrame(rows)


def spectra_table() -> pd.DataFrame:
    rows = []
    for gate, round_ in (("base", 0), ("none", 2), ("compile", 2)):
        values = np.array([8.0, 4.0, 2.0, 1.0]) * (1 + round_ * (gate == "none"))
        rows += [{"model": "tiny", "gate": gate, "regime": None if round_ == 0 else "replace", "seed": 0,
                  "round": round_, "layer": "last", "index": i, "eigenvalue": v} for i, v in enumerate(values)]
    return pd.DataFrame(rows)


@pytest.fixture
def drawn(monkeypatch):
    """Every Axes.plot / semilogy call: label -> (x, y)."""
    calls = {}
    for name in ("plot", "semilogy"):
        original = getattr(matplotlib.axes.Axes, name)

        def spy(self, x, y, *args, _original=original, **kwargs):
            calls[kwargs.get("label")] = (list(x), [float(v) for v in y])
            return _original(self, x, y, *args, **kwargs)

        monkeypatch.setattr(matplotlib.axes.Axes, name, spy)
    return calls


def test_pass_at_1_lines_are_the_seed_means(tmp_path, drawn):
    out = tmp_path / "pass_at_1.png"
    figures.plot_pass_at_1(metrics_table(), out, dpi=40, reps=200)
    assert out.read_bytes()[:8] == PNG
    assert drawn["none"][0] == [0, 1, 2]
    np.testing.assert_allclose(drawn["none"][1], [0.705, 0.505, 0.305])
    np.testing.assert_allclose(drawn["compile"][1], [0.705, 0.655, 0.605])


def test_one_seed_draws_the_values_themselves(tmp_path, drawn):
    figures.plot_pass_at_1(metrics_table(seeds=(0,)), tmp_path / "p.png", dpi=40)
    np.testing.assert_allclose(drawn["none"][1], [0.7, 0.5, 0.3])


def test_heatmap_cells_are_the_table_means(tmp_path, monkeypatch):
    shown = []
    original = matplotlib.axes.Axes.imshow
    monkeypatch.setattr(matplotlib.axes.Axes, "imshow",
                        lambda self, data, *a, **k: shown.append(np.array(data)) or original(self, data, *a, **k))
    out = tmp_path / "heatmap.png"
    figures.plot_heatmap(metrics_table(), out, dpi=40)
    assert out.read_bytes()[:8] == PNG
    rows_compile_then_none = [[0.705, 0.655, 0.605], [0.705, 0.505, 0.305]]
    np.testing.assert_allclose(shown[0], rows_compile_then_none)


def test_gate_audit_draws_acceptance_and_auroc(tmp_path, drawn):
    out = tmp_path / "gate_audit.png"
    figures.plot_gate_audit(metrics_table(), out, dpi=40)
    assert out.read_bytes()[:8] == PNG
    assert drawn["acceptance (training)"] == ([1, 2], [0.6, 0.7])
    np.testing.assert_allclose(drawn["audit AUROC"][1], [0.8, 0.7, 0.6])


def test_spectral_figure_draws_statistics_and_spectra(tmp_path, drawn):
    out = tmp_path / "spectral.png"
    figures.plot_spectral(metrics_table(), out, dpi=40, spectra=spectra_table())
    assert out.read_bytes()[:8] == PNG
    assert drawn["none"][0] == [0, 1, 2]
    # the last statistic drawn per gate is the top-k share; the first row of panels is lambda1/lambda2
    np.testing.assert_allclose(drawn["round 0"][1], [8 / 15, 4 / 15, 2 / 15, 1 / 15])
    np.testing.assert_allclose(drawn["none, round 2"][1], [8 / 15, 4 / 15, 2 / 15, 1 / 15])
    with pytest.raises(ValueError, match="no spectral"):
        figures.plot_spectral(metrics_table().drop(columns=[c for c in metrics_table() if "spectral" in c]),
                              tmp_path / "x.png")


def test_execution_and_diversity_figures(tmp_path, drawn):
    figures.plot_execution(metrics_table(), tmp_path / "execution.png", dpi=40)
    assert (tmp_path / "execution.png").read_bytes()[:8] == PNG
    np.testing.assert_allclose(drawn["none"][1], [0.4, 0.2])  # exec_pass_rate is drawn last
    drawn.clear()
    figures.plot_diversity(metrics_table(), tmp_path / "diversity.png", dpi=40)
    assert (tmp_path / "diversity.png").read_bytes()[:8] == PNG
    np.testing.assert_allclose(drawn["compile"][1], [4.0, 5.0])  # perplexity is drawn last


def test_collapse_table():
    table = figures.collapse_table(metrics_table(seeds=(0,)), fraction=0.9)
    none = table[table.gate == "none"].iloc[0]
    assert none["baseline"] == pytest.approx(0.7) and none["final"] == pytest.approx(0.3)
    assert none["drop"] == pytest.approx(0.4) and none["relative_drop"] == pytest.approx(4 / 7)
    assert none["first_round_below_0.9x"] == 1
    compile_gate = table[table.gate == "compile"].iloc[0]
    assert compile_gate["first_round_below_0.9x"] == 2  # 0.6 < 0.63; 0.65 is not


def test_seed_band_and_selection():
    assert figures.seed_band([0.5]) == (0.5, 0.5, 0.5)
    mean, low, high = figures.seed_band([0.2, 0.4, 0.6, 0.8])
    assert mean == pytest.approx(0.5) and low <= mean <= high and low < high
    with pytest.raises(ValueError, match="nothing to plot"):
        figures.select(metrics_table(), benchmarks=["humaneval"])


def test_the_cli_filters_gates_and_writes_the_collapse_csv(tmp_path, drawn):
    metrics = tmp_path / "metrics.csv"
    metrics_table().to_csv(metrics, index=False)
    figures.main(["--metrics", str(metrics), "--out", str(tmp_path / "p.png"), "--kind", "pass_at_1",
                  "--gates", "compile", "--dpi", "40"])
    assert "none" not in drawn and "compile" in drawn
    figures.main(["--metrics", str(metrics), "--out", str(tmp_path / "c.csv"), "--kind", "collapse"])
    assert set(pd.read_csv(tmp_path / "c.csv")["gate"]) == {"none", "compile"}


def effects_table() -> pd.DataFrame:
    rows = []
    for gate, comparison, slope in (("none", "vs_reference", -0.1), ("none", "vs_round0", -0.05),
                                    ("reference", "vs_round0", 0.05)):
        for r in range(3):
            rows.append({"model": "tiny", "gate": gate, "regime": "replace", "round": r, "benchmark": "microtasks",
                         "comparison": comparison, "effect": slope * r, "low": slope * r - 0.02,
                         "high": slope * r + 0.02, "seed_sd": 0.01, "n_seeds": 4, "n_tasks": 10})
    return pd.DataFrame(rows)


def test_effect_figure_draws_the_gate_minus_control_and_the_control_drift(tmp_path, drawn):
    out = tmp_path / "effect.png"
    figures.plot_effect(effects_table(), out, dpi=40)
    assert out.read_bytes()[:8] == PNG
    np.testing.assert_allclose(drawn["none"][1], [0.0, -0.1, -0.2])
    np.testing.assert_allclose(drawn["reference: drift from round 0"][1], [0.0, 0.05, 0.1])


def test_coverage_heatmap_is_families_by_rounds_of_the_mean_pass(tmp_path, monkeypatch):
    rows = [{"model": "tiny", "gate": "none", "regime": "replace", "seed": seed, "round": r, "benchmark": "microtasks",
             "family": family, "n_tasks": 5, "pass_at_1": base - 0.1 * r + 0.1 * seed,
             "n_accepted": None if r == 0 else 3}
            for seed in (0, 1) for r in range(3) for family, base in (("add", 0.9), ("mul", 0.5))]
    shown = []
    original = matplotlib.axes.Axes.imshow
    monkeypatch.setattr(matplotlib.axes.Axes, "imshow",
                        lambda self, data, *a, **k: shown.append(np.array(data)) or original(self, data, *a, **k))
    out = tmp_path / "coverage.png"
    figures.plot_coverage(pd.DataFrame(rows), out, dpi=40)
    assert out.read_bytes()[:8] == PNG
    np.testing.assert_allclose(shown[0], [[0.95, 0.85, 0.75], [0.55, 0.45, 0.35]])


def test_coverage_without_families_says_so(tmp_path, monkeypatch):
    texts = []
    original = matplotlib.axes.Axes.text
    monkeypatch.setattr(matplotlib.axes.Axes, "text",
                        lambda self, x, y, s, *a, **k: texts.append(s) or original(self, x, y, s, *a, **k))
    out = tmp_path / "coverage.png"
    figures.main(["--table", str(_empty_coverage(tmp_path)), "--out", str(out), "--kind", "coverage"])
    assert out.read_bytes()[:8] == PNG
    assert any("no scored benchmark has task families" in t for t in texts)


def _empty_coverage(tmp_path):
    from gatedloop.analysis.coverage import COVERAGE_COLUMNS

    path = tmp_path / "coverage.csv"
    pd.DataFrame(columns=COVERAGE_COLUMNS).to_csv(path, index=False)
    return path


def partial_table() -> pd.DataFrame:
    """metrics_table of one seed with compile's round 2 not scored yet and none's round 2 audit not written."""
    table = metrics_table(seeds=(0,)).assign(missing="")
    compile2 = (table.gate == "compile") & (table["round"] == 2)
    table.loc[compile2, ["pass_at_1", "audit_auroc"]] = None
    table.loc[compile2, "missing"] = "score audit"
    table.loc[(table.gate == "none") & (table["round"] == 2), "missing"] = "audit"
    return table


def test_the_partial_note_counts_the_finished_cells_and_names_the_others():
    note = figures.partial_note(partial_table())
    assert note == ("partial: 4 of 6 cells finished; not yet: tiny/compile/replace/seed0/round2 (score, audit); "
                    "tiny/none/replace/seed0/round2 (audit)")
    assert figures.partial_note(partial_table(), shown=1).endswith(
        "(score, audit); and 1 more (the missing column of the partial metrics.csv)")
    finished = metrics_table(seeds=(0,)).assign(missing="")
    assert figures.partial_note(finished) == "partial: 6 of 6 cells finished"


def test_a_partial_figure_draws_the_scored_rounds_and_the_collapse_table_lists_the_missing(tmp_path, drawn):
    metrics = tmp_path / "metrics.csv"
    partial_table().to_csv(metrics, index=False)
    out = tmp_path / "pass.png"
    figures.main(["--metrics", str(metrics), "--partial", str(metrics), "--out", str(out), "--dpi", "40"])
    assert out.read_bytes()[:8] == PNG
    assert drawn["compile"][0] == [0, 1] and drawn["none"][0] == [0, 1, 2]
    figures.main(["--metrics", str(metrics), "--partial", str(metrics), "--out", str(tmp_path / "c.csv"),
                  "--kind", "collapse"])
    collapse = pd.read_csv(tmp_path / "c.csv").set_index("gate")
    assert collapse.loc["compile", "missing"] == "round2/seed0" and pd.isna(collapse.loc["none", "missing"])
    assert collapse.loc["compile", "rounds"] == 1 and collapse.loc["compile", "final"] == pytest.approx(0.65)
    assert collapse.loc["none", "final"] == pytest.approx(0.3)


def test_a_partial_figure_with_nothing_finished_yet_says_so(tmp_path, capsys):
    metrics = tmp_path / "metrics.csv"
    partial_table().drop(columns=[c for c in metrics_table() if c.startswith("diversity_")]).to_csv(metrics,
                                                                                                    index=False)
    out = tmp_path / "diversity.png"
    figures.main(["--metrics", str(metrics), "--partial", str(metrics), "--out", str(out), "--kind", "diversity",
                  "--dpi", "40"])
    assert out.read_bytes()[:8] == PNG
    printed = capsys.readouterr().out
    assert "partial: 4 of 6 cells finished" in printed and "nothing to draw yet: the metrics table has no" in printed


def test_figures_of_a_sweep_scoring_only_some_rounds_draw_those_points(tmp_path, drawn):
    table = metrics_table()
    table = table[table["round"].isin([0, 2])]  # evaluation_rounds [0, 2]: round 1 trained, not scored
    figures.plot_pass_at_1(table, tmp_path / "p.png", dpi=40, reps=50)
    assert drawn["none"][0] == [0, 2]
    figures.plot_heatmap(table, tmp_path / "h.png", dpi=40)
    collapse = figures.collapse_table(table, fraction=0.9)
    assert set(collapse["first_round_below_0.9x"]) == {2} and set(collapse["rounds"]) == {2}
    for kind in ("gate_audit", "execution", "diversity"):
        figures.PLOTS[kind](table, tmp_path / f"{kind}.png", dpi=40)
