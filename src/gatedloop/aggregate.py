"""Collect every cell's small result files into one table, ``results/metrics.csv``.

CLI: ``python -m gatedloop.aggregate --sweep JSON --out metrics.csv`` (the workflow's rule), or
``--scores S1.json S2.json ... --gates G ... [--audits ...] [--analyses ...] [--round-files ...]``. It reads exactly
the files it is given (the sweep's: ``gatedloop.core.layout.Sweep.aggregated_files``) and no other: the layout
parses each path into its keys (``runs/{model}/{gate}/{regime}/seed{seed}/round{round}/score/{benchmark}.json``),
and a round's decisions, fine-tuning stats, sample checks, manifest and a score's verdicts are joined to its rows by
those keys, from the files given, never looked for beside a score. One of them missing fails the aggregate, naming
it, before anything is written. Round 0 (``runs/{model}/base/seed{seed}/round0``) is computed once per (model, seed)
and shown under every gate and regime, so each curve starts at the same baseline; the round-0 audit is computed once
per (model, gate, seed) and shown under every regime.

Partial mode (``--partial``, the workflow's ``figures`` target): the sweep is unfinished. The files given are the
ones the finished sweep will have; the aggregate reads those of them that are written (each result is renamed into
place whole: a file there is finished). A score not written yet still gets its row, with empty values; the
``missing`` column of every row names the files of its round not written yet (empty: finished).

``--study-csv``: also write our results in the study's own format, one CSV per (model, gate, regime, seed)
(``gatedloop.analysis.study_csv``), from the same table and round files; its job times come from Snakemake's
benchmark records, the one thing read that is not given (Snakemake writes them, no rule: not an input), and a time
not recorded is left empty.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from gatedloop.analysis.coverage import (
    COVERAGE_COLUMNS,
    accepted_by_family,
    coverage_rows,
    family_entropy,
    pass_by_family,
    prompt_families,
)
from gatedloop.analysis.effects import CONTROL, EFFECT_COLUMNS, effect_rows, task_passes
from gatedloop.analysis.study_csv import write_study_csvs
from gatedloop.core.io import atomic_path, read_json, read_jsonl
from gatedloop.core.layout import BASE_GATE, RoundFile, Sweep, parse
from gatedloop.engine.warm import run_cli

AUDIT_FIELDS = ["correct_rate", "acceptance_rate", "precision", "recall", "auroc", "auroc_low", "auroc_high",
                "precision_gain", "precision_gain_low", "precision_gain_high", "tv", "self_confirming"]
# The names the `missing` column uses (the layout's kinds), in this order; rows are per benchmark, and so are scores.
ROUND_FILE_LABELS = ["score", "decisions", "finetune", "audit", "sample_checks", "analysis", "manifest", "generation"]
# Written first by the job of a score (its verdicts) or an analysis (its spectrum): never missing on their own.
COMPANIONS = ("verdicts", "spectrum")
MISSING_NAMED = 5  # a full aggregate's error names this many of the missing files, then counts the rest
COLUMNS = ["model", "gate", "regime", "seed", "round", "benchmark", "pass_at_1", "n_tasks", "n_passed", "n_generated",
           "n_accepted", "acceptance_rate", "acceptance_at_round1_bar", "n_train", "finetune_skipped", "compile_rate",
           "exec_pass_rate",
           *(f"audit_{name}" for name in AUDIT_FIELDS), "first_self_confirming_round"]


class Given:
    """The per-round files the aggregate was given, by their keys (``gatedloop.core.layout`` parses each path). A
    round's decisions or a score's verdicts are looked up here by key, never on disk beside the score: a file not
    given is not read."""

    def __init__(self, paths: Sequence[str | Path] = ()):
        self.paths = {parse(path): path for path in paths}

    def get(self, file: RoundFile) -> str | Path | None:
        return self.paths.get(file)


def require_written(paths: Sequence[str | Path]) -> None:
    """A full aggregate reads every file it is given: one missing fails it before it writes anything, naming it."""
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        named = ", ".join(missing[:MISSING_NAMED])
        rest = f" and {len(missing) - MISSING_NAMED} more" if len(missing) > MISSING_NAMED else ""
        raise SystemExit(f"aggregate: {len(missing)} of the {len(paths)} files it reads are missing: {named}{rest}. "
                         "Their jobs have not written them (`snakemake figures` draws an unfinished sweep).")


def audit_columns(audit_paths: Sequence[str | Path]) -> dict[tuple, dict]:
    """(model, gate, regime, seed, round) -> audit_* columns; round 0's regime is None (shared)."""
    audits = {}
    for path in audit_paths:
        stats = read_json(path)
        audits[parse(path, "audit").cell] = {f"audit_{name}": stats.get(name) for name in AUDIT_FIELDS}
    return audits


def analysis_columns(analysis_paths: Sequence[str | Path], given: Given | None = None
                     ) -> tuple[dict[tuple, dict], list[dict]]:
    """(model, gate, regime, seed, round) -> spectral_* and diversity_* columns; and the eigen-spectra (of the given
    spectrum files) as long rows. Round 0 has gate 'base' and no regime: shared by every arm."""
    given = Given() if given is None else given
    columns, spectra = {}, []
    for path in analysis_paths:
        analysis_file = parse(path, "analysis")
        keys = analysis_file.keys()
        analysis = read_json(path)
        row = {}
        for layer, stats in analysis["spectral"].items():
            for name, value in stats.items():
                if isinstance(value, dict):
                    row[f"spectral_{layer}_{name}"] = value["value"]
                    row[f"spectral_{layer}_{name}_low"] = value["low"]
                    row[f"spectral_{layer}_{name}_high"] = value["high"]
        row.update({f"diversity_{name}": value for name, value in analysis.get("diversity", {}).items()
                    if name != "n_samples"})
        columns[analysis_file.cell] = row
        spectrum_path = given.get(analysis_file.sibling("spectrum"))
        if spectrum_path is not None:
            for layer, values in read_json(spectrum_path)["layers"].items():
                spectra += [{"model": keys["model"], "gate": keys["gate"], "regime": keys["regime"],
                             "seed": keys["seed"], "round": keys["round"], "layer": layer, "index": i,
                             "eigenvalue": v} for i, v in enumerate(values)]
    return columns, spectra


def manifest_columns(round_file: RoundFile, given: Given) -> dict:
    """The key to the round's provenance manifest: its settings hash and path (joins metrics to manifests)."""
    path = given.get(round_file.sibling("manifest"))
    if path is None:
        return {}
    return {"config_hash": read_json(path)["config_hash"][:16], "manifest": Path(path).as_posix()}


def share_over_round1_bar(decisions: list[dict], round1_decisions: str | Path | None) -> float | None:
    """The share of this round's samples whose score reaches the lowest score round 1 accepted: the acceptance a
    threshold calibrated in round 1 and then held would give. Under a per-round quantile (the study's selection)
    training acceptance is constant by construction; this shows whether the gate's own scores of the model's
    samples drift upward, the study's rubber stamp, without changing what was trained on. None where round 1
    accepted nothing or its decisions are not given."""
    if round1_decisions is None or not decisions:
        return None
    accepted_scores = [d.get("score") for d in read_jsonl(round1_decisions) if d["accepted"]]
    scores = [d.get("score") for d in decisions]
    if not accepted_scores or None in accepted_scores or None in scores:
        return None
    bar = min(accepted_scores)
    return sum(score >= bar for score in scores) / len(scores)


def round_counts(round_file: RoundFile, given: Given, families: dict[str, str] | None = None) -> dict:
    """What the round of this file (a score) generated, accepted and trained on (empty for round 0, which has no
    decisions); with the prompts' families, the entropy of the accepted family mix and the number of families in
    it."""
    decisions_path = given.get(round_file.sibling("decisions"))
    if decisions_path is None:
        return {}
    decisions = read_jsonl(decisions_path)
    accepted = sum(bool(d["accepted"]) for d in decisions)
    round1_decisions = given.get(replace(round_file.sibling("decisions"), round=1))
    counts = {"n_generated": len(decisions), "n_accepted": accepted,
              "acceptance_rate": accepted / len(decisions) if decisions else 0.0,
              "acceptance_at_round1_bar": share_over_round1_bar(decisions, round1_decisions)}
    if families:
        mix = accepted_by_family(decisions, families)
        counts.update(accepted_family_entropy=family_entropy(mix), accepted_families=len(mix))
    generation_path = given.get(round_file.sibling("generation"))
    if generation_path is not None:  # selection in waves: the generation's own counts (the decisions agree)
        generation = read_json(generation_path)
        counts.update(n_generated=generation["generated"], n_accepted=generation["passed"],
                      acceptance_rate=generation["pass_rate"], n_selected=generation["selected"],
                      generation_waves=generation["waves"])
    stats_path = given.get(round_file.sibling("finetune"))
    if stats_path is not None:
        stats = read_json(stats_path)
        counts.update(n_train=stats["n_train"], finetune_skipped=stats["skipped"],
                      n_train_generated=stats.get("n_train_generated"))  # a column only in a sweep with waves
    checks_path = given.get(round_file.sibling("sample_checks"))
    if checks_path is not None:
        checks = read_json(checks_path)
        counts.update({k: v for k, v in checks.items()
                       if k in ("compile_rate", "exec_pass_rate") or k.startswith("contamination_")})
    return counts


def collect(score_paths: Sequence[str | Path], gates: Sequence[str], audit_paths: Sequence[str | Path] = (),
            regimes: Sequence[str] = ("replace",), analysis_paths: Sequence[str | Path] = (),
            families: dict[str, str] | None = None, missing_scores: Sequence[str | Path] = (),
            round_files: Sequence[str | Path] = ()):
    """The metrics table. ``round_files``: the other per-round files to join by key (decisions, fine-tuning stats,
    sample checks, manifests, spectra), the only ones read; ``missing_scores``: scores not written yet (partial
    mode), whose rows have the keys and whatever else of their round is given."""
    import pandas as pd

    given = Given(round_files)
    audits = audit_columns(audit_paths)
    analyses, _ = analysis_columns(analysis_paths, given)
    rows = []
    unscored = {"pass_at_1": None, "n_tasks": None, "n_passed": None}
    for path, scored in [*((p, True) for p in score_paths), *((p, False) for p in missing_scores)]:
        score = parse(path, "score")
        keys = score.keys()
        summary = read_json(path) if scored else unscored
        row = {**keys, "pass_at_1": summary["pass_at_1"], "n_tasks": summary["n_tasks"],
               "n_passed": summary["n_passed"], **round_counts(score, given, families),
               **manifest_columns(score, given),
               **{f"pass_at_{k}": v for k, v in summary.get("pass_at_k", {}).items() if k != "1"}}
        if "base_tests_pass_at_1" in summary:  # HumanEval+ / MBPP+: the original tests alone
            row["base_tests_pass_at_1"] = summary["base_tests_pass_at_1"]
        if keys["gate"] == BASE_GATE:
            rows += [{**row, "gate": gate, "regime": regime} for gate in gates for regime in regimes]
        else:
            rows.append(row)
    for row in rows:
        shared_regime = None if row["round"] == 0 else row["regime"]
        row.update(audits.get((row["model"], row["gate"], shared_regime, row["seed"], row["round"]), {}))
        analysis_gate = BASE_GATE if row["round"] == 0 else row["gate"]
        row.update(analyses.get((row["model"], analysis_gate, shared_regime, row["seed"], row["round"]), {}))
    # pass@k columns (k > 1) exist when scoring drew several samples per task; they sit after pass_at_1.
    extra = sorted({c for r in rows for c in r if c.startswith("pass_at_") and c not in COLUMNS},
                   key=lambda c: int(c.removeprefix("pass_at_")))
    contamination = sorted({c for r in rows for c in r if c.startswith("contamination_")})
    analysis = sorted({c for r in rows for c in r if c.startswith(("spectral_", "diversity_"))})
    base_tests = ["base_tests_pass_at_1"] if any("base_tests_pass_at_1" in r for r in rows) else []
    provenance = ["config_hash", "manifest"] if any("manifest" in r for r in rows) else []
    control = ["self_training_effect"] if any(r["gate"] == CONTROL for r in rows) else []
    coverage = ["accepted_family_entropy", "accepted_families"] if any(
        "accepted_families" in r for r in rows) else []
    waves = ["n_selected", "generation_waves"] if any("n_selected" in r for r in rows) else []
    for row in rows if waves else ():  # the other arms' selected: the generated samples they trained on
        row.setdefault("n_selected", row.get("n_train_generated"))
    columns = [*COLUMNS[:7], *extra, *base_tests, *control, *COLUMNS[7:], *coverage, *waves, *contamination,
               *analysis, *provenance]
    table = pd.DataFrame(rows).reindex(columns=columns)
    table["first_self_confirming_round"] = first_self_confirming_round(table)
    if control:
        table["self_training_effect"] = self_training_effect(table)
    return table.sort_values(["model", "gate", "regime", "seed", "benchmark", "round"], ignore_index=True)


def self_training_effect(table):
    """Per row: pass@1 minus the control arm's in the same (model, regime, seed, round, benchmark)."""
    keys = ["model", "regime", "seed", "round", "benchmark"]
    control = table[table["gate"] == CONTROL].set_index(keys)["pass_at_1"]
    matched = table.join(control.rename("control_pass_at_1"), on=keys)["control_pass_at_1"]
    return table["pass_at_1"] - matched


def effects_and_coverage(score_paths: Sequence[str | Path], gates: Sequence[str], regimes: Sequence[str],
                         families: dict[str, str] | None = None, reps: int = 2000,
                         round_files: Sequence[str | Path] = ()):
    """The paired effects table (gatedloop.analysis.effects) and the per-family coverage table
    (gatedloop.analysis.coverage), from each score's verdicts and each round's decisions, of those in
    ``round_files`` (a score without its verdicts there has no effects). Round 0 is shared: repeated under every
    arm."""
    import pandas as pd

    given = Given(round_files)
    passes, coverage, no_families = {}, [], set()
    for path in score_paths:
        score = parse(path, "score")
        keys = score.keys()
        verdicts_path = given.get(score.sibling("verdicts"))
        if verdicts_path is None:
            continue
        verdicts = read_jsonl(verdicts_path)
        passes[(*score.cell, score.benchmark)] = task_passes(verdicts)
        family_pass = pass_by_family(verdicts)
        if family_pass is None:
            no_families.add(keys["benchmark"])
            continue
        decisions = given.get(score.sibling("decisions"))
        accepted = accepted_by_family(read_jsonl(decisions), families) if families and decisions is not None \
            else None
        arms = [(g, r) for g in gates for r in regimes] if keys["gate"] == BASE_GATE else \
            [(keys["gate"], keys["regime"])]
        for gate, regime in arms:
            cell = {**keys, "gate": gate, "regime": regime}
            coverage += coverage_rows({c: cell[c] for c in COVERAGE_COLUMNS[:6]}, family_pass, accepted)
    effects = pd.DataFrame(effect_rows(passes, gates, regimes, reps), columns=EFFECT_COLUMNS)
    coverage_table = pd.DataFrame(coverage, columns=COVERAGE_COLUMNS).sort_values(
        ["model", "gate", "regime", "seed", "benchmark", "round", "family"], ignore_index=True)
    return effects, coverage_table, sorted(no_families)


def missing_column(table, missing_paths: Sequence[str | Path]):
    """Per row: the names (ROUND_FILE_LABELS) of its round's files not written yet, space-separated; '' when none.
    Round 0's shared files (gate 'base') belong to every arm's round-0 row, its audit to every regime's."""
    shared, audits0, cells = {}, {}, {}
    for path in missing_paths:
        file = parse(path)
        if file.kind not in ROUND_FILE_LABELS:
            raise ValueError(f"{path}: not a file the aggregate reads ({', '.join(ROUND_FILE_LABELS)})")
        if file.gate == BASE_GATE:
            target, key = shared, (file.model, file.seed)
        elif file.round == 0:
            target, key = audits0, (file.model, file.gate, file.seed)
        else:
            target, key = cells, file.cell
        target.setdefault(key, set()).add((file.kind, file.benchmark))

    def labels(row) -> str:
        if row["round"] == 0:
            found = shared.get((row["model"], row["seed"]), set()) | audits0.get(
                (row["model"], row["gate"], row["seed"]), set())
        else:
            found = cells.get((row["model"], row["gate"], row["regime"], row["seed"], row["round"]), set())
        names = {label for label, benchmark in found if benchmark in (None, row["benchmark"])}
        return " ".join(label for label in ROUND_FILE_LABELS if label in names)

    return table.apply(labels, axis=1) if len(table) else table.assign(missing="")["missing"]


def written_only(args):
    """The arguments with only the files written so far, and the files not written yet (verdicts and spectra left
    out: their job writes them before the score or analysis they belong to)."""
    missing = []
    for kind in ("scores", "audits", "analyses", "round_files"):
        paths = getattr(args, kind)
        missing += [p for p in paths if not Path(p).is_file() and parse(p).kind not in COMPANIONS]
        setattr(args, kind, [p for p in paths if Path(p).is_file()])
    if not args.scores:
        raise SystemExit("no score is written yet (runs/.../score/<benchmark>.json): nothing to aggregate")
    return args, missing


def first_self_confirming_round(table):
    """Per (model, gate, regime, seed): the first round whose audit cannot be told from a rubber stamp (NaN if none)."""
    confirming = table["audit_self_confirming"].astype("boolean").fillna(False).astype(bool)
    keys = [table.model, table.gate, table.regime, table.seed]
    first = table["round"].where(confirming).groupby(keys).transform("min")
    return first


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweep", default=None,
                        help="the sweep as JSON (gatedloop.core.layout.Sweep): its files instead of the lists below, "
                             "which a large sweep's command line cannot hold")
    parser.add_argument("--scores", nargs="+", default=[])
    parser.add_argument("--audits", nargs="*", default=[], help="audit.json files to join by key")
    parser.add_argument("--gates", nargs="+", default=None, help="gates the round-0 rows are repeated under")
    parser.add_argument("--regimes", nargs="+", default=["replace"], help="regimes the round-0 rows are repeated under")
    parser.add_argument("--analyses", nargs="*", default=[], help="analysis.json files to join by key")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--spectra", type=Path, default=None, help="write the eigen-spectra here (long CSV)")
    parser.add_argument("--prompts", type=Path, default=None, help="the prompt pool (its 'family' fields)")
    parser.add_argument("--effects", type=Path, default=None, help="write the paired effects table here")
    parser.add_argument("--coverage", type=Path, default=None, help="write the per-family coverage table here")
    parser.add_argument("--bootstrap", type=int, default=2000, help="resamples for the effect intervals")
    parser.add_argument("--partial", action="store_true",
                        help="an unfinished sweep: the files named are those it will have; read the ones written, "
                             "name the others in a 'missing' column")
    parser.add_argument("--round-files", nargs="*", default=[],
                        help="the other per-round files to join by key (decisions, finetune.json, sample checks, "
                             "manifests, verdicts, spectra): the only ones read")
    parser.add_argument("--study-csv", nargs="*", default=[], type=Path,
                        help="write our results in the study's format (gatedloop.analysis.study_csv) to these files, "
                             "one per (model, gate, regime, seed): gatedloop.core.layout.study_csv paths")
    args = parser.parse_args(argv)
    if args.sweep is not None:
        sweep = Sweep.from_json(args.sweep)
        files = sweep.aggregated_files()
        args.scores, args.audits, args.analyses = files["scores"], files["audits"], files["analyses"]
        args.round_files = files["round_files"]
        args.gates, args.regimes = args.gates or list(sweep.gates), list(sweep.regimes)
    if not args.scores or not args.gates:
        parser.error("give --sweep, or --scores and --gates")
    missing, missing_scores = [], []
    if args.partial:
        args, missing = written_only(args)
        missing_scores = [p for p in missing if parse(p).kind == "score"]
    else:
        require_written([*args.scores, *args.audits, *args.analyses, *args.round_files])
    families = prompt_families(read_jsonl(args.prompts)) if args.prompts else None
    table = collect(args.scores, args.gates, args.audits, args.regimes, args.analyses, families, missing_scores,
                    args.round_files)
    if args.partial:
        table["missing"] = missing_column(table, missing)
    with atomic_path(args.out) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    if args.effects is not None or args.coverage is not None:
        effects, coverage, no_families = effects_and_coverage(args.scores, args.gates, args.regimes, families,
                                                              args.bootstrap, args.round_files)
        for out, frame in ((args.effects, effects), (args.coverage, coverage)):
            if out is not None:
                with atomic_path(out) as tmp:
                    frame.to_csv(tmp, index=False, float_format="%.6g")
        if no_families:
            print(f"no task families in {', '.join(no_families)}: no coverage rows for them")
    if args.spectra is not None:
        import pandas as pd

        spectra = pd.DataFrame(analysis_columns(args.analyses, Given(args.round_files))[1],
                               columns=["model", "gate", "regime", "seed", "round", "layer", "index", "eigenvalue"])
        with atomic_path(args.spectra) as tmp:
            spectra.to_csv(tmp, index=False, float_format="%.6g")
    if args.study_csv:
        write_study_csvs(table.to_dict("records"), args.study_csv, args.round_files)
        print(f"the study's results CSV -> {len(args.study_csv)} files")
    print(f"{len(table)} rows -> {args.out}")
    if args.partial:
        unfinished = table[table["missing"] != ""]
        print(f"partial: {len(table) - len(unfinished)} of {len(table)} rows finished; {len(missing)} files not "
              "written yet")


if __name__ == "__main__":
    run_cli(main)
