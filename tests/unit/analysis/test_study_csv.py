"""The study's results CSV (gatedloop.analysis.study_csv): its exact columns, a row per round from round 0, empty
cells where we have nothing (a benchmark not scored, a job time not recorded), the gate -> filter mapping, the
cumulative steps; and end to end through the aggregate CLI, which writes it beside an unchanged metrics.csv."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from gatedloop import aggregate
from gatedloop.analysis import study_csv
from gatedloop.analysis.study_csv import STUDY_COLUMNS
from gatedloop.core import layout

SWEEP = layout.Sweep(models=("tiny",), gates=("none", "perplexity"), regimes=("replace",), seeds=(0,), rounds=2,
                     benchmarks=("humaneval_plus", "microtasks"), audit=False, analysis=False, sample_checks=False)
FINETUNE = {"n_train": 3, "skipped": False, "trained": {"steps": 60},
            "history": [{"step": 0, "loss": 2.0}, {"step": 20, "loss": 1.5}, {"step": 59, "loss": 1.0}]}
CONTENTS = {
    "score": {"pass_at_1": 0.5, "n_tasks": 2, "n_passed": 1},
    "verdicts": [{"task_id": "t0", "passed": True}, {"task_id": "t1", "passed": False}],
    "decisions": [{"id": str(i), "accepted": i < 3} for i in range(4)],
    "finetune": FINETUNE,
    "manifest": {"config_hash": "0123456789abcdef0123"},
}


def read_rows(path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def write_sweep(root: Path, sweep: layout.Sweep = SWEEP) -> None:
    """Every file the sweep's aggregate reads, under root/results; HumanEval+ reports its base tests apart."""
    for paths in sweep.aggregated_files().values():
        for path in paths:
            file = layout.parse(path)
            body = CONTENTS[file.kind]
            if file.kind == "score" and file.benchmark == "humaneval_plus":
                body = {**body, "pass_at_1": 0.25 + 0.125 * file.round, "base_tests_pass_at_1": 0.75}
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("".join(json.dumps(r) + "\n" for r in body) if isinstance(body, list)
                              else json.dumps(body))


def write_record(root: Path, path: str, seconds: float) -> None:
    """A Snakemake benchmark record: tab-separated, wall seconds in column s."""
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"s\th:m:s\tmax_rss\n{seconds}\t0:00:01\t100.0\n")


def run_aggregate(root: Path, study: bool, sweep: layout.Sweep = SWEEP) -> Path:
    outputs = {name: root / f"results/{'study' if study else 'plain'}/{name}.csv"
               for name in ("metrics", "spectra", "effects", "coverage")}
    args = ["--sweep", sweep.to_json(), "--bootstrap", "20", "--out", str(outputs["metrics"]),
            *(arg for name in ("spectra", "effects", "coverage") for arg in (f"--{name}", str(outputs[name])))]
    aggregate.main([*args, "--study-csv", *sweep.study_csv_files()] if study else args)
    return outputs["metrics"].parent


def test_the_aggregate_writes_the_study_csv_per_cell_and_its_tables_unchanged(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_sweep(tmp_path)
    write_record(tmp_path, layout.job_record("finetune", "tiny", "none", "replace", 0, 1), 12.5)
    write_record(tmp_path, layout.job_record("generate", "tiny", "none", "replace", 0, 2), 30.0)
    write_record(tmp_path, "results/benchmarks/generate/tiny/base/seed0/round1.pool.tsv", 40.0)
    for benchmark in SWEEP.benchmarks:  # round 0's scores recorded; round 1's only in part
        write_record(tmp_path, layout.job_record("score", "tiny", "base", None, 0, 0, benchmark), 2.0)
    write_record(tmp_path, layout.job_record("score", "tiny", "none", "replace", 0, 1, "microtasks"), 3.0)
    plain, study = run_aggregate(tmp_path, study=False), run_aggregate(tmp_path, study=True)
    for name in ("metrics", "spectra", "effects", "coverage"):  # the other tables: byte for byte the same
        assert (study / f"{name}.csv").read_bytes() == (plain / f"{name}.csv").read_bytes()

    columns, rows = read_rows(tmp_path / layout.study_csv("tiny", "none", "replace", 0))
    assert columns == STUDY_COLUMNS
    assert [r["round"] for r in rows] == ["0", "1", "2"] and {r["filter"] for r in rows} == {"none"}
    assert [r["steps_total"] for r in rows] == ["0", "60", "120"]
    assert [r["humaneval_plus_pass1"] for r in rows] == ["0.25", "0.375", "0.5"]
    assert {r["humaneval_pass1"] for r in rows} == {"0.75"}  # HumanEval+'s base tests
    assert {r[c] for r in rows for c in ("mbpp_pass1", "mbpp_plus_pass1", "livecodebench_pass1")} == {""}
    assert [r["train_loss"] for r in rows] == ["", "1.5", "1.5"]
    assert [(r["num_generated"], r["num_after_filter"], r["filter_pass_rate"]) for r in rows] == [
        ("", "", ""), ("4", "3", "0.75"), ("4", "3", "0.75")]
    assert [r["generation_time_sec"] for r in rows] == ["", "40", "30"]  # round 1: the shared generation
    assert [r["training_time_sec"] for r in rows] == ["", "12.5", ""]  # round 2 not recorded: empty
    assert [r["eval_time_sec"] for r in rows] == ["4", "", ""]  # round 1's HumanEval+ score not recorded
    assert all(r["timestamp"].endswith("+00:00") and r["timestamp"][:4].isdigit() for r in rows)

    _, ppl_rows = read_rows(tmp_path / layout.study_csv("tiny", "perplexity", "replace", 0))
    assert {r["filter"] for r in ppl_rows} == {"ppl"} and ppl_rows[0]["humaneval_plus_pass1"] == "0.25"


def metrics_row(round_: int, benchmark: str, **values) -> dict:
    return {"model": "m", "gate": "compile", "regime": "replace", "seed": 0, "round": round_,
            "benchmark": benchmark, "pass_at_1": 0.5, **values}


def test_a_plain_score_wins_over_a_plus_benchmarks_base_tests_and_a_missing_benchmark_is_empty():
    rows = [metrics_row(0, "humaneval", pass_at_1=0.4), metrics_row(0, "humaneval_plus", base_tests_pass_at_1=0.6),
            metrics_row(0, "mbpp_plus", pass_at_1=0.3, base_tests_pass_at_1=0.35)]
    assert study_csv.pass_columns(rows) == {"humaneval_pass1": 0.4, "humaneval_plus_pass1": 0.5,
                                            "mbpp_pass1": 0.35, "mbpp_plus_pass1": 0.3}
    unscored = study_csv.pass_columns([metrics_row(0, "livecodebench", pass_at_1=float("nan"))])
    assert unscored == {}  # a score not written yet (a partial aggregate's NaN) leaves its column empty


def test_the_study_rows_are_one_per_round_in_order_round_zero_first(tmp_path):
    rows = study_csv.study_rows([metrics_row(2, "microtasks"), metrics_row(0, "microtasks"),
                                 metrics_row(1, "microtasks"), metrics_row(1, "livecodebench"),
                                 {**metrics_row(1, "microtasks"), "gate": "none"}], "m", "compile", "replace", 0,
                                root=str(tmp_path))
    assert [r["round"] for r in rows] == [0, 1, 2]
    assert rows[1]["livecodebench_pass1"] == 0.5 and "livecodebench_pass1" not in rows[0]
    assert all(r["steps_total"] is None for r in rows[1:])  # no fine-tuning stats given: unknown, not 0


@pytest.mark.parametrize(("gate", "expected"), [("none", "none"), ("compile", "compile"), ("quality", "quality"),
                                                ("perplexity", "ppl"), ("binary", "binary"), ("lint", "lint"),
                                                ("compile_quality", "compile_quality")])
def test_our_gates_are_named_as_the_studys_filters_where_it_has_them(gate, expected):
    assert study_csv.study_filter(gate) == expected


def test_steps_total_adds_up_the_rounds_and_is_unknown_after_a_round_without_stats():
    assert study_csv.cumulative_steps({1: 60, 2: 0, 3: 60}, [0, 1, 2, 3]) == {0: 0, 1: 60, 2: 60, 3: 120}
    assert study_csv.cumulative_steps({1: 60, 3: 60}, [3, 0, 1, 2]) == {0: 0, 1: 60, 2: None, 3: None}
    assert study_csv.steps_trained({"skipped": True}) == 0 and study_csv.steps_trained(None) is None
    assert study_csv.steps_trained(FINETUNE) == 60


def test_the_train_loss_is_the_mean_of_the_logged_losses_and_empty_when_nothing_trained():
    assert study_csv.train_loss(FINETUNE) == pytest.approx(1.5)
    assert study_csv.train_loss({"skipped": True}) is None and study_csv.train_loss(None) is None


def test_a_job_time_is_read_from_its_record_or_left_empty(tmp_path):
    record = tmp_path / "job.tsv"
    record.write_text("s\th:m:s\n10.0\t0:00:10\n20.0\t0:00:20\n")  # a repeated benchmark: the mean
    assert study_csv.wall_seconds(record) == 15.0
    assert study_csv.wall_seconds(tmp_path / "absent.tsv") is None
    assert study_csv.job_times("m", "none", "replace", 0, 2, ["microtasks"], str(tmp_path)) == {
        "generation_time_sec": None, "training_time_sec": None, "eval_time_sec": None}


def test_the_control_arm_generates_nothing_so_has_no_generation_time(tmp_path):
    write_record(tmp_path, "benchmarks/generate/m/base/seed0/round1.pool.tsv", 40.0)
    shared = study_csv.job_times("m", "none", "replace", 0, 1, [], str(tmp_path))
    control = study_csv.job_times("m", study_csv.CONTROL, "replace", 0, 1, [], str(tmp_path))
    assert shared["generation_time_sec"] == 40.0 and control["generation_time_sec"] is None
    write_record(tmp_path, "benchmarks/generate/m/base/seed0/round1.100.tsv", 20.0)  # two sizes: which is unknown
    assert study_csv.job_times("m", "none", "replace", 0, 1, [], str(tmp_path))["generation_time_sec"] is None


WAVES_SWEEP = layout.Sweep(models=("tiny",), gates=("compile", "perplexity"), regimes=("replace",), seeds=(0,),
                           rounds=2, benchmarks=("microtasks",), audit=False, analysis=False, sample_checks=False,
                           wave_gates=("compile",))
GENERATION = {"selection": "waves", "generated": 4, "waves": 1, "passed": 3, "selected": 2, "overflow": 1,
              "pass_rate": 0.75, "seconds": 7.5}


def test_rounds_that_selected_in_waves_take_their_counts_from_the_generation_stats(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    contents = {**CONTENTS, "generation": GENERATION, "finetune": {**FINETUNE, "n_train": 2, "n_train_generated": 2}}
    files = WAVES_SWEEP.aggregated_files()
    assert sorted(p for p in files["round_files"] if layout.parse(p).kind == "generation") == [
        layout.round_file("generation", "tiny", "compile", "replace", 0, r) for r in (1, 2)]
    for path in (p for paths in files.values() for p in paths):
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        body = contents[layout.parse(path).kind]
        target.write_text("".join(json.dumps(r) + "\n" for r in body) if isinstance(body, list) else json.dumps(body))
    out = tmp_path / "results/metrics.csv"
    aggregate.main(["--sweep", WAVES_SWEEP.to_json(), "--bootstrap", "20", "--out", str(out), "--study-csv",
                    *WAVES_SWEEP.study_csv_files()])
    columns, rows = read_rows(out)
    assert {"n_selected", "generation_waves"} <= set(columns)
    later = {(r["gate"], r["round"]): r for r in rows if r["round"] != "0"}
    assert (later["compile", "1"]["n_generated"], later["compile", "1"]["n_accepted"]) == ("4", "3")
    assert (later["compile", "1"]["n_selected"], later["compile", "1"]["generation_waves"]) == ("2", "1")
    assert later["perplexity", "1"]["n_selected"] == "2" and later["perplexity", "1"]["generation_waves"] == ""
    _, compile_rows = read_rows(tmp_path / layout.study_csv("tiny", "compile", "replace", 0))
    assert [(r["num_generated"], r["num_after_filter"], r["filter_pass_rate"], r["generation_time_sec"])
            for r in compile_rows] == [("", "", "", ""), ("4", "2", "0.75", "7.5"), ("4", "2", "0.75", "7.5")]
    _, quantile_rows = read_rows(tmp_path / layout.study_csv("tiny", "perplexity", "replace", 0))
    assert [(r["num_generated"], r["num_after_filter"]) for r in quantile_rows[1:]] == [("4", "3"), ("4", "3")]


def test_without_waves_the_sweep_json_and_metrics_columns_are_as_before(tmp_path, monkeypatch):
    assert "wave_gates" not in SWEEP.to_json() and layout.Sweep.from_json(SWEEP.to_json()) == SWEEP
    assert layout.Sweep.from_json(WAVES_SWEEP.to_json()) == WAVES_SWEEP
    monkeypatch.chdir(tmp_path)
    write_sweep(tmp_path)
    columns, _ = read_rows(run_aggregate(tmp_path, study=False) / "metrics.csv")
    assert not {"n_selected", "generation_waves", "n_train_generated"} & set(columns)


def test_only_the_evaluated_rounds_get_rows_and_steps_count_every_round_trained(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sweep = layout.Sweep(**{**SWEEP.__dict__, "gates": ("none",), "rounds": 3, "evaluation_rounds": (0, 3)})
    write_sweep(tmp_path, sweep)
    metrics = run_aggregate(tmp_path, study=True, sweep=sweep) / "metrics.csv"
    _, metric_rows = read_rows(metrics)
    assert {r["round"] for r in metric_rows} == {"0", "3"}
    _, rows = read_rows(tmp_path / layout.study_csv("tiny", "none", "replace", 0))
    assert [r["round"] for r in rows] == ["0", "3"]
    assert [r["steps_total"] for r in rows] == ["0", "180"]  # rounds 1 and 2 trained, unscored


def test_steps_total_of_rounds_listed_out_of_order_or_with_gaps():
    assert study_csv.cumulative_steps({1: 60, 2: 60, 3: 60}, [3, 0]) == {3: 180, 0: 0}
    assert study_csv.cumulative_steps({1: 60, 3: 60}, [0, 3]) == {0: 0, 3: None}  # round 2's stats missing
