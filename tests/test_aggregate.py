import json

import pandas as pd
import pytest

from gatedloop import aggregate


def make_tree(root, gates=("none", "compile"), rounds=2):
    """A synthetic results tree with known numbers."""
    paths = []

    def cell(gate, r, passed, accepted=None):
        d = root / (f"runs/tiny/{gate}/seed0/round{r}" if r == 0 else f"runs/tiny/{gate}/replace/seed0/round{r}")
        (d / "score").mkdir(parents=True)
        (d / "score/microtasks.json").write_text(json.dumps({"pass_at_1": passed / 10, "n_tasks": 10,
                                                             "n_passed": passed}))
        if accepted is not None:
            (d / "decisions.jsonl").write_text("".join(
                json.dumps({"id": str(i), "accepted": i < accepted}) + "\n" for i in range(8)))
            (d / "finetune.json").write_text(json.dumps({"n_train": accepted, "skipped": accepted == 0}))
        paths.append(d / "score/microtasks.json")

    cell("base", 0, 7)
    for g, gate in enumerate(gates):
        for r in range(1, rounds + 1):
            cell(gate, r, 7 - r - g, accepted=8 - 2 * g * r)
    return paths


def test_one_row_per_cell_with_round_zero_under_every_gate(tmp_path):
    paths = make_tree(tmp_path)
    table = aggregate.collect(paths, ["none", "compile"])
    assert list(table.columns) == aggregate.COLUMNS
    assert len(table) == 2 * 3
    base = table[table["round"] == 0]
    assert sorted(base.gate) == ["compile", "none"] and (base.pass_at_1 == 0.7).all()
    row = table[(table.gate == "compile") & (table["round"] == 2)].iloc[0]
    assert row.pass_at_1 == pytest.approx(0.4)
    assert (row.n_generated, row.n_accepted, row.n_train) == (8, 4, 4)
    assert row.acceptance_rate == pytest.approx(0.5)


def test_cli_writes_csv(tmp_path):
    paths = make_tree(tmp_path, gates=("none",), rounds=1)
    out = tmp_path / "metrics.csv"
    aggregate.main(["--scores", *map(str, paths), "--gates", "none", "--out", str(out)])
    table = pd.read_csv(out)
    assert table[["gate", "round", "pass_at_1"]].values.tolist() == [["none", 0, 0.7], ["none", 1, 0.6]]


def test_a_path_without_keys_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="not a path like runs/<model>"):
        aggregate.parse_score_path(tmp_path / "x.json")


def test_audit_columns_join_by_key_and_the_first_self_confirming_round_is_reported(tmp_path):
    paths = make_tree(tmp_path, gates=("none",), rounds=2)
    audits = []
    for r, confirming in [(0, False), (1, True), (2, True)]:
        path = tmp_path / (f"runs/tiny/none/seed0/round{r}" if r == 0 else f"runs/tiny/none/replace/seed0/round{r}")
        path = path / "audit.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"auroc": 0.9 - 0.2 * r, "acceptance_rate": 0.5 + 0.1 * r,
                                    "self_confirming": confirming}))
        audits.append(path)
    table = aggregate.collect(paths, ["none"], audits)
    assert table.audit_auroc.tolist() == pytest.approx([0.9, 0.7, 0.5])
    assert table.audit_acceptance_rate.tolist() == pytest.approx([0.5, 0.6, 0.7])
    assert (table.first_self_confirming_round == 1).all()


def test_round_zero_is_repeated_under_every_gate_and_regime(tmp_path):
    paths = make_tree(tmp_path, gates=("none",), rounds=1)
    d = tmp_path / "runs/tiny/none/mix/seed0/round1/score"
    d.mkdir(parents=True)
    (d / "microtasks.json").write_text(json.dumps({"pass_at_1": 0.5, "n_tasks": 10, "n_passed": 5}))
    table = aggregate.collect([*paths, d / "microtasks.json"], ["none"], regimes=["replace", "mix"])
    assert table[["regime", "round", "pass_at_1"]].values.tolist() == [["mix", 0, 0.7], ["mix", 1, 0.5],
                                                                      ["replace", 0, 0.7], ["replace", 1, 0.6]]


def test_pass_at_k_sample_checks_and_contamination_join_their_rows(tmp_path):
    paths = make_tree(tmp_path, gates=("none",), rounds=1)
    round1 = tmp_path / "runs/tiny/none/replace/seed0/round1"
    summary = json.loads((round1 / "score/microtasks.json").read_text())
    (round1 / "score/microtasks.json").write_text(json.dumps({**summary, "pass_at_k": {"1": 0.6, "10": 0.9}}))
    (round1 / "sample_checks.json").write_text(json.dumps({
        "compile_rate": 0.95, "exec_pass_rate": 0.5, "contamination_microtasks_prompt": 0.25, "n_checked": 8}))
    table = aggregate.collect(paths, ["none"])
    row = table[table["round"] == 1].iloc[0]
    assert (row.pass_at_10, row.compile_rate, row.exec_pass_rate) == (0.9, 0.95, 0.5)
    assert row.contamination_microtasks_prompt == 0.25
    assert list(table.columns).index("pass_at_10") == list(table.columns).index("pass_at_1") + 1
    assert pd.isna(table[table["round"] == 0].iloc[0].compile_rate)  # round 0 generated nothing
