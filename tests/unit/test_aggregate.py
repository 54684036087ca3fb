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


def test_a_partial_aggregate_reads_only_the_files_it_is_given_and_names_the_missing_ones(tmp_path):
    scores = make_tree(tmp_path)
    compile2, none2 = (tmp_path / f"runs/tiny/{gate}/replace/seed0/round2" for gate in ("compile", "none"))
    (compile2 / "score/microtasks.json").unlink()  # decisions and fine-tuning done, scoring not yet
    (none2 / "finetune.json").unlink()
    siblings = [p for p in tmp_path.rglob("*") if p.name in ("decisions.jsonl", "finetune.json")]
    listed = [*siblings, none2 / "finetune.json", compile2 / "score/microtasks.verdicts.jsonl"]
    listed.remove(compile2 / "decisions.jsonl")  # on disk, but not listed: never read
    audit0 = tmp_path / "runs/tiny/compile/seed0/round0/audit.json"  # listed, not written yet
    out = tmp_path / "partial.csv"
    aggregate.main(["--partial", "--scores", *map(str, scores), "--round-files", *map(str, listed),
                    "--audits", str(audit0), "--gates", "none", "compile", "--out", str(out)])
    table = pd.read_csv(out).fillna({"missing": ""})
    assert len(table) == 6 and list(table.columns) == [*aggregate.COLUMNS, "missing"]
    marked = {(r.gate, r.round): r.missing for r in table.itertuples() if r.missing}
    assert marked == {("compile", 2): "score", ("none", 2): "finetune", ("compile", 0): "audit"}
    row = table[(table.gate == "compile") & (table["round"] == 2)].iloc[0]
    assert pd.isna(row.pass_at_1) and pd.isna(row.n_generated)  # its decisions are on disk but not listed
    assert table[(table.gate == "compile") & (table["round"] == 1)].iloc[0].n_generated == 8
    none_row = table[(table.gate == "none") & (table["round"] == 2)].iloc[0]
    assert none_row.pass_at_1 == pytest.approx(0.5) and none_row.n_accepted == 8 and pd.isna(none_row.n_train)


def test_a_partial_aggregate_with_no_score_written_says_so(tmp_path):
    with pytest.raises(SystemExit, match="no score is written yet"):
        aggregate.main(["--partial", "--scores", str(tmp_path / "runs/tiny/base/seed0/round0/score/m.json"),
                        "--gates", "none", "--out", str(tmp_path / "partial.csv")])


def test_a_partial_aggregate_of_a_finished_tree_is_the_full_one_with_nothing_missing(tmp_path):
    scores = make_tree(tmp_path)
    siblings = [p for p in tmp_path.rglob("*") if p.name in ("decisions.jsonl", "finetune.json")]
    full, partial = tmp_path / "full.csv", tmp_path / "partial.csv"
    common = ["--scores", *map(str, scores), "--gates", "none", "compile"]
    aggregate.main([*common, "--out", str(full)])
    aggregate.main([*common, "--partial", "--round-files", *map(str, siblings), "--out", str(partial)])
    partial_table = pd.read_csv(partial)
    assert partial_table["missing"].isna().all()
    pd.testing.assert_frame_equal(partial_table.drop(columns="missing"), pd.read_csv(full))


def test_missing_files_outside_the_layout_are_rejected(tmp_path):
    table = aggregate.collect(make_tree(tmp_path), ["none"])
    with pytest.raises(ValueError, match="not a file the aggregate reads"):
        aggregate.missing_column(table, ["runs/tiny/none/replace/seed0/round1/samples.jsonl"])


def test_the_share_over_round_ones_bar_shows_a_drift_a_per_round_quantile_hides(tmp_path):
    """A quantile gate keeps 2 of 8 every round (acceptance 0.25 by construction); if the gate's scores of the
    model's samples drift up, more of them reach the lowest score round 1 accepted."""
    cell = tmp_path / "runs/tiny/perplexity/replace/seed0"
    for r, shift in ((1, 0.0), (2, 1.5), (3, 3.0)):
        (cell / f"round{r}").mkdir(parents=True)
        scores = [i + shift for i in range(8)]
        keep = sorted(scores)[-2:]
        (cell / f"round{r}/decisions.jsonl").write_text("".join(
            json.dumps({"id": str(i), "score": s, "accepted": s in keep}) + "\n" for i, s in enumerate(scores)))
    shares = [aggregate.round_counts(cell / f"round{r}")["acceptance_at_round1_bar"] for r in (1, 2, 3)]
    rates = [aggregate.round_counts(cell / f"round{r}")["acceptance_rate"] for r in (1, 2, 3)]
    assert rates == [0.25, 0.25, 0.25]
    assert shares == [0.25, 3 / 8, 5 / 8]  # the bar is 6.0: scores 6, 7 / 6.5, 7.5, 8.5 / 6, 7, ... 10
