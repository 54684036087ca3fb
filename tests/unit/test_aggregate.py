import json
from dataclasses import replace

import pandas as pd
import pytest

from gatedloop import aggregate
from gatedloop.core import layout


def round_files(root):
    """Every per-round file under root but the scores: what the aggregate is given to join to them."""
    return sorted(p for p in root.rglob("*") if p.is_file() and layout.parse(p).kind != "score")


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
    table = aggregate.collect(paths, ["none", "compile"], round_files=round_files(tmp_path))
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
        aggregate.collect([tmp_path / "x.json"], ["none"])
    with pytest.raises(ValueError, match="a decisions file, not score"):
        aggregate.collect([tmp_path / "runs/tiny/none/replace/seed0/round1/decisions.jsonl"], ["none"])


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
    table = aggregate.collect(paths, ["none"], round_files=round_files(tmp_path))
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
    common = ["--scores", *map(str, scores), "--gates", "none", "compile", "--round-files", *map(str, siblings)]
    aggregate.main([*common, "--out", str(full)])
    aggregate.main([*common, "--partial", "--out", str(partial)])
    assert pd.read_csv(full).n_generated.notna().sum() == 4  # the given decisions were read
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
    decisions = [cell / f"round{r}/decisions.jsonl" for r in (1, 2, 3)]
    given = aggregate.Given(decisions)
    shares = [aggregate.round_counts(layout.parse(path), given)["acceptance_at_round1_bar"] for path in decisions]
    rates = [aggregate.round_counts(layout.parse(path), given)["acceptance_rate"] for path in decisions]
    assert rates == [0.25, 0.25, 0.25]
    assert shares == [0.25, 3 / 8, 5 / 8]  # the bar is 6.0: scores 6, 7 / 6.5, 7.5, 8.5 / 6, 7, ... 10


SWEEP = layout.Sweep(models=("tiny",), gates=("none", "compile"), regimes=("replace",), seeds=(0,), rounds=2,
                     benchmarks=("microtasks",), audit=True, analysis=True, sample_checks=True)
# A plausible body for each kind of file the sweep's aggregate reads.
CONTENTS = {
    "score": {"pass_at_1": 0.5, "n_tasks": 2, "n_passed": 1},
    "verdicts": [{"task_id": "t0", "passed": True}, {"task_id": "t1", "passed": False}],
    "decisions": [{"id": str(i), "accepted": i < 3} for i in range(4)],
    "finetune": {"n_train": 3, "skipped": False},
    "sample_checks": {"compile_rate": 0.75, "exec_pass_rate": 0.5},
    "manifest": {"config_hash": "0123456789abcdef0123"},
    "audit": {"auroc": 0.6, "self_confirming": False},
    "analysis": {"spectral": {}, "diversity": {"distinct_2": 0.4}},
    "spectrum": {"layers": {"last": [2.0, 1.0]}},
}


def write_sweep(root, sweep=SWEEP):
    """Every file the sweep's aggregate reads, under root/results (the sweep's paths are relative to it)."""
    for paths in sweep.aggregated_files().values():
        for path in paths:
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            body = CONTENTS[layout.parse(path).kind]
            target.write_text("".join(json.dumps(r) + "\n" for r in body) if isinstance(body, list)
                              else json.dumps(body))


def run_sweep_aggregate(root, sweep=SWEEP):
    """The aggregate as the workflow's rule runs it (from the sweep's JSON), with every output it writes."""
    outputs = {name: root / f"results/{name}.csv" for name in ("metrics", "spectra", "effects", "coverage")}
    aggregate.main(["--sweep", sweep.to_json(), "--bootstrap", "50",
                    *(arg for name, path in outputs.items() for arg in (f"--{name}" if name != "metrics" else "--out",
                                                                         str(path)))])
    return outputs


def test_the_full_aggregate_reads_every_file_of_its_sweep(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_sweep(tmp_path)
    outputs = run_sweep_aggregate(tmp_path)
    table = pd.read_csv(outputs["metrics"])
    later = table[table["round"] > 0]
    assert len(table) == 2 * 3 and (later.n_generated == 4).all() and (later.n_train == 3).all()
    assert (later.compile_rate == 0.75).all() and (table.audit_auroc == 0.6).all()
    assert (table.config_hash == "0123456789abcdef").all() and (table.diversity_distinct_2 == 0.4).all()
    assert len(pd.read_csv(outputs["spectra"])) == 2 * 5  # two eigenvalues of each round's analysis
    assert len(pd.read_csv(outputs["effects"])) > 0  # the verdicts were read


@pytest.mark.parametrize("kind", ["decisions", "finetune", "sample_checks", "manifest", "verdicts", "spectrum",
                                  "audit", "analysis", "score"])
def test_the_full_aggregate_fails_naming_a_missing_file_and_writes_nothing(tmp_path, monkeypatch, kind):
    monkeypatch.chdir(tmp_path)
    write_sweep(tmp_path)
    files = [p for paths in SWEEP.aggregated_files().values() for p in paths]
    missing = next(p for p in files if layout.parse(p).kind == kind and layout.parse(p).round == 1)
    (tmp_path / missing).unlink()
    with pytest.raises(SystemExit, match=f"1 of the {len(files)} files it reads are missing: {missing}\\."):
        run_sweep_aggregate(tmp_path)
    assert not any((tmp_path / "results").glob("*.csv"))


def test_many_missing_files_are_named_up_to_a_few_and_counted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_sweep(tmp_path)
    missing = SWEEP.decision_files() + SWEEP.finetune_stats_files()  # in the order the aggregate lists them
    for path in missing:
        (tmp_path / path).unlink()
    with pytest.raises(SystemExit) as failure:
        run_sweep_aggregate(tmp_path)
    message = str(failure.value)
    named = missing[:aggregate.MISSING_NAMED]
    assert f"{len(missing)} of the" in message and ", ".join(named) in message
    assert f"and {len(missing) - len(named)} more" in message and missing[-1] not in message


def test_the_full_aggregate_reads_no_file_it_is_not_given(tmp_path, monkeypatch):
    """Sample checks off: a stray sample_checks.json beside a score (an earlier run's) is not the sweep's."""
    monkeypatch.chdir(tmp_path)
    sweep = replace(SWEEP, sample_checks=False)
    write_sweep(tmp_path, sweep)
    stray = layout.round_file("sample_checks", "tiny", "none", "replace", 0, 1)
    (tmp_path / stray).write_text(json.dumps(CONTENTS["sample_checks"]))
    table = pd.read_csv(run_sweep_aggregate(tmp_path, sweep)["metrics"])
    assert "compile_rate" in table and table.compile_rate.isna().all()
    assert table[table["round"] > 0].n_generated.notna().all()


def test_a_waves_rounds_generation_stats_not_yet_written_are_named_missing(tmp_path):
    """A sweep with selection in waves: partial figures of an unfinished round name its generation.json."""
    table = aggregate.collect(make_tree(tmp_path), ["none"])
    missing = aggregate.missing_column(table, ["runs/tiny/none/replace/seed0/round1/generation.json"])
    waiting = (table["gate"] == "none") & (table["round"] == 1)
    assert (missing[waiting] == "generation").all() and (missing[~waiting] == "").all()
