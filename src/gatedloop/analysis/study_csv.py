"""Our results in the study's own format: one CSV per (model, gate, regime, seed), a row per round (round 0
included), the columns of the study's v1 results files in their order (``STUDY_COLUMNS``), so the study's
aggregation and anyone's comparison scripts read them as they are.

What each column holds, and where our runs differ from the study's:

* ``filter``: our gate's name in the study's spelling (``STUDY_FILTERS``); a gate the study has not keeps ours.
* ``humaneval_pass1`` ... ``livecodebench_pass1``: pass@1 as a fraction (our scores' unit). HumanEval+ and MBPP+
  report the original tests' verdict besides the plus tests' (``base_tests_pass_at_1``, as evalplus does): it
  fills ``humaneval_pass1`` / ``mbpp_pass1`` where the plain benchmark is not scored itself (a plain score, where
  there is one, wins). A benchmark not scored leaves its column empty.
* ``steps_total``: optimizer steps fine-tuned up to and including the round (0 for round 0 and for rounds the gate
  accepted nothing in; pretraining of a scratch model not counted); empty from a round whose stats are missing on.
* ``train_loss``: the mean of the round's logged training losses (finetune.json's history: every ``log_every``-th
  step and the last), our nearest to HF Trainer's ``train_loss``, the mean over all of a run's steps. Empty for
  round 0 and a round that trained nothing.
* ``num_generated``, ``num_after_filter``, ``filter_pass_rate``: the round's decisions (empty for round 0). A
  round that selected in waves (``budget.selection: waves``) takes them from its generation stats
  (``generation.json``): candidates generated, samples selected for training (the study's "after filter": its
  loop trained on exactly N), and the gate's pass rate over every candidate (passed / generated, the study's).
* ``*_time_sec``: wall seconds of the round's jobs from Snakemake's benchmark records (``gatedloop.core.layout``'s
  ``job_record``): generation, fine-tuning, and the sum of the round's scores. Round 1's generation is shared by
  every gate and regime of a (model, seed): its time is that shared job's, when exactly one was recorded (of
  several sample counts, which is the cell's is the workflow's config, not known here: empty). A round that selected
  in waves has its own generation (round 1 included): its time is the generation stats' seconds. The control arm
  (``reference``) generates nothing: its generation time is empty. A record
  not there (a job run without Snakemake, or cleaned away) leaves the cell empty; no time is ever estimated. The
  records are the one thing read here that is not an input of the aggregate: Snakemake writes them, no rule does.
* ``timestamp``: when the round's manifest was written (its file's modification time, UTC, ISO 8601), so a rerun of
  the aggregate alone changes nothing; empty where the manifest is not given.
"""

from __future__ import annotations

import csv
import math
import numbers
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from gatedloop.analysis.effects import CONTROL
from gatedloop.core.io import atomic_path, read_json
from gatedloop.core.layout import BASE_GATE, job_record, parse, parse_study_csv, shared_generation_records

STUDY_COLUMNS = ["model", "filter", "round", "steps_total", "humaneval_pass1", "humaneval_plus_pass1", "mbpp_pass1",
                 "mbpp_plus_pass1", "livecodebench_pass1", "train_loss", "num_generated", "num_after_filter",
                 "filter_pass_rate", "generation_time_sec", "training_time_sec", "eval_time_sec", "timestamp"]
# Our gate -> the study's filter name, for the filters the study has (its v1/v2 suites); any other gate keeps its
# own name. Only perplexity is spelled differently.
STUDY_FILTERS = {"none": "none", "compile": "compile", "quality": "quality", "perplexity": "ppl", "binary": "binary"}
# Our benchmark -> the study's column of its pass@1.
PASS_COLUMNS = {"humaneval": "humaneval_pass1", "humaneval_plus": "humaneval_plus_pass1",
                "mbpp_plus": "mbpp_plus_pass1", "livecodebench": "livecodebench_pass1"}
# A plus benchmark's original tests alone -> the study's column of the plain benchmark.
BASE_TESTS_COLUMNS = {"humaneval_plus": "humaneval_pass1", "mbpp_plus": "mbpp_pass1"}


def study_filter(gate: str) -> str:
    return STUDY_FILTERS.get(gate, gate)


def pass_columns(benchmark_rows: Sequence[dict]) -> dict:
    """The round's pass@1 columns from its metrics rows (one per benchmark); a plain score wins over a plus
    benchmark's base tests."""
    columns, from_base_tests = {}, {}
    for row in benchmark_rows:
        if row["benchmark"] in PASS_COLUMNS:
            columns[PASS_COLUMNS[row["benchmark"]]] = row["pass_at_1"]
        base_tests = row.get("base_tests_pass_at_1")
        if row["benchmark"] in BASE_TESTS_COLUMNS and not _empty(base_tests):
            from_base_tests[BASE_TESTS_COLUMNS[row["benchmark"]]] = base_tests
    return {**from_base_tests, **{k: v for k, v in columns.items() if not _empty(v)}}


def train_loss(stats: dict | None) -> float | None:
    """The mean of the round's logged losses; None where it trained nothing."""
    history = [entry["loss"] for entry in (stats or {}).get("history", [])]
    return sum(history) / len(history) if history else None


def steps_trained(stats: dict | None) -> int | None:
    """The round's optimizer steps: 0 when skipped (nothing accepted), None when its stats are not given."""
    if stats is None:
        return None
    return 0 if stats.get("skipped") else stats["trained"]["steps"]


def cumulative_steps(steps_by_round: dict[int, int | None], rounds: Sequence[int]) -> dict[int, int | None]:
    """Steps up to and including each of ``rounds`` (round 0: none), counting every round before it, those not
    listed too (a sweep scoring only some rounds, evaluation_rounds, trains in all); None from the first round not
    known on."""
    totals, total = {}, 0
    for round_ in range(max(rounds, default=0) + 1):
        if round_ > 0:
            steps = steps_by_round.get(round_)
            total = None if total is None or steps is None else total + steps
        totals[round_] = total
    return {round_: totals[round_] for round_ in rounds}


def wall_seconds(record: str | Path) -> float | None:
    """A Snakemake benchmark record's wall seconds (column ``s``; the mean of its rows if the job was repeated);
    None where there is no record."""
    try:
        with open(record, newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
    except FileNotFoundError:
        return None
    seconds = [float(row["s"]) for row in rows if row.get("s") not in (None, "", "NA")]
    return sum(seconds) / len(seconds) if seconds else None


def job_times(model: str, gate: str, regime: str, seed: int, round_: int, benchmarks: Sequence[str],
              root: str) -> dict:
    """The round's generation, training and evaluation wall seconds (None where not recorded)."""
    if round_ == 0:
        generation = training = None
    else:
        if gate == CONTROL:  # the control arm's samples are human solutions: it generates nothing
            generation = None
        elif round_ == 1:
            shared = shared_generation_records(model, seed, root)
            generation = wall_seconds(shared[0]) if len(shared) == 1 else None
        else:
            generation = wall_seconds(job_record("generate", model, gate, regime, seed, round_, root=root))
        training = wall_seconds(job_record("finetune", model, gate, regime, seed, round_, root=root))
    scoring = [wall_seconds(job_record("score", model, gate, regime, seed, round_, b, root=root)) for b in benchmarks]
    evaluation = sum(scoring) if scoring and None not in scoring else None
    return {"generation_time_sec": generation, "training_time_sec": training, "eval_time_sec": evaluation}


def written_at(manifest: str | Path | None) -> str | None:
    if manifest is None or not Path(manifest).is_file():
        return None
    return datetime.fromtimestamp(Path(manifest).stat().st_mtime, timezone.utc).isoformat(timespec="seconds")


def study_rows(metrics_rows: Sequence[dict], model: str, gate: str, regime: str, seed: int,
               round_files: Sequence[str | Path] = (), root: str = "results") -> list[dict]:
    """The study's rows of one (model, gate, regime, seed), one per round in order, from our metrics rows of that
    cell (``gatedloop.aggregate.collect``'s table, round 0 included) and the round files given (fine-tuning stats,
    manifests); ``root``: the results folder the jobs' benchmark records lie in."""
    files = {parse(path): path for path in round_files}
    by_round: dict[int, list[dict]] = {}
    for row in metrics_rows:
        if (row["model"], row["gate"], row["regime"], int(row["seed"])) == (model, gate, regime, seed):
            by_round.setdefault(int(row["round"]), []).append(row)
    stats, generation = {}, {}
    for file, path in files.items():
        if (file.model, file.gate, file.regime, file.seed) != (model, gate, regime, seed):
            continue
        if file.kind == "finetune":
            stats[file.round] = read_json(path)
        elif file.kind == "generation":
            generation[file.round] = read_json(path)
    steps = cumulative_steps({r: steps_trained(s) for r, s in stats.items()}, list(by_round))
    rows = []
    for round_, benchmark_rows in sorted(by_round.items()):
        first = benchmark_rows[0]
        manifest_keys = (model, BASE_GATE, None) if round_ == 0 else (model, gate, regime)
        manifest = next((p for f, p in files.items() if f.kind == "manifest" and f.round == round_
                         and (f.model, f.gate, f.regime) == manifest_keys and f.seed == seed), None)
        rows.append({"model": model, "filter": study_filter(gate), "round": round_, "steps_total": steps[round_],
                     **pass_columns(benchmark_rows), "train_loss": train_loss(stats.get(round_)),
                     "num_generated": first.get("n_generated"), "num_after_filter": first.get("n_accepted"),
                     "filter_pass_rate": first.get("acceptance_rate"),
                     **job_times(model, gate, regime, seed, round_, [r["benchmark"] for r in benchmark_rows], root),
                     "timestamp": written_at(manifest)})
        if round_ in generation:
            rows[-1].update(generation_columns(generation[round_]))
    return rows


def generation_columns(generation: dict) -> dict:
    """The study's generation columns from a round's generation stats (selection in waves)."""
    return {"num_generated": generation["generated"], "num_after_filter": generation["selected"],
            "filter_pass_rate": generation["pass_rate"], "generation_time_sec": generation["seconds"]}


def write_study_csvs(metrics_rows: Sequence[dict], outputs: Sequence[str | Path],
                     round_files: Sequence[str | Path] = ()) -> None:
    """Each output (a ``gatedloop.core.layout.study_csv`` path: its keys say which cell it holds, its root which
    results folder the jobs' benchmark records lie in)."""
    for out in outputs:
        keys = parse_study_csv(out)
        rows = study_rows(metrics_rows, keys["model"], keys["gate"], keys["regime"], keys["seed"], round_files,
                          keys["root"])
        with atomic_path(out) as tmp, open(tmp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(STUDY_COLUMNS)
            writer.writerows([[_cell(row.get(column)) for column in STUDY_COLUMNS] for row in rows])


def _empty(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _cell(value) -> str:
    """Empty for a missing value; integers as integers (pandas gives counts as floats beside NaN); other numbers
    as the metrics table writes them (%.6g)."""
    if _empty(value):
        return ""
    if isinstance(value, (bool, str)):
        return str(value)
    if isinstance(value, numbers.Integral) or (float(value).is_integer() and abs(value) < 1e15):
        return str(int(value))
    return f"{float(value):.6g}"
