import pandas as pd

from gatedloop import figures


def test_pass_at_1_figure_is_a_png_drawn_from_the_table(tmp_path, monkeypatch):
    table = pd.DataFrame({
        "model": ["tiny"] * 6, "benchmark": ["microtasks"] * 6, "seed": [0] * 6,
        "gate": ["none"] * 3 + ["compile"] * 3, "round": [0, 1, 2] * 2,
        "pass_at_1": [0.7, 0.5, 0.3, 0.7, 0.6, 0.55],
    })
    drawn = {}
    import matplotlib.axes

    original = matplotlib.axes.Axes.plot

    def spy(self, x, y, *args, **kwargs):
        drawn[kwargs.get("label")] = (list(x), list(y))
        return original(self, x, y, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "plot", spy)
    out = tmp_path / "pass_at_1.png"
    figures.plot_pass_at_1(table, out, dpi=50)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert drawn == {"none": ([0, 1, 2], [0.7, 0.5, 0.3]), "compile": ([0, 1, 2], [0.7, 0.6, 0.55])}


def test_gate_audit_figure_has_one_panel_per_gate(tmp_path):
    rows = []
    for gate in ("none", "perplexity"):
        for r in range(3):
            rows.append({"model": "tiny", "benchmark": "microtasks", "seed": 0, "gate": gate, "round": r,
                         "pass_at_1": 0.7 - 0.1 * r, "acceptance_rate": None if r == 0 else 0.25 + 0.1 * r,
                         "audit_auroc": 0.9 - 0.2 * r, "audit_auroc_low": 0.8 - 0.2 * r,
                         "audit_auroc_high": 1.0 - 0.2 * r})
    out = tmp_path / "gate_audit.png"
    figures.main(["--metrics", str(_csv(tmp_path, rows)), "--out", str(out), "--kind", "gate_audit", "--dpi", "50"])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    width, _ = Image.open(out).size
    assert width > 2 * 4.6 * 50  # two panels side by side


def _csv(tmp_path, rows):
    path = tmp_path / "metrics.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path
