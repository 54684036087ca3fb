"""The results layout (gatedloop.core.layout): every kind of round file formatted from its keys and parsed back,
round 0 and the base audit included; the files a sweep writes; and the study's sweep at scale: every job's shell
command fits the one argument Linux passes it (128 KiB); the aggregates once took their file lists on the command
line, 206 KiB for the partial aggregate of the study's sweep, and would have failed with "Argument list too long"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SCHEMA

from gatedloop.core import layout
from gatedloop.core.config import validate_config
from gatedloop.core.layout import RoundFile, Sweep, parse, pattern, round_file

MAX_ARG_STRLEN = 128 * 1024  # Linux: the longest single argument (bash -c's command) a process may be given


def test_a_sweep_survives_its_json_and_lists_each_rounds_files_once():
    config = validate_config(yaml.safe_load((REPO / "config/integration.yaml").read_text()), SCHEMA)
    sweep = Sweep.from_config(config)
    assert Sweep.from_json(sweep.to_json()) == sweep and len(sweep.to_json()) < 1000
    arms = len(config["gates"])  # the control arm included
    cells = arms * config["rounds"]
    assert len(sweep.score_files()) == (1 + cells) * len(config["score"]["benchmarks"])
    assert len(sweep.audit_files()) == (arms - 1) * (1 + config["rounds"])  # the control arm judges nothing
    files = sweep.aggregated_files()
    assert sum(len(v) for v in files.values()) == len({p for v in files.values() for p in v})


# Where each kind lies, as the rules spelled it before the layout module: a later round's, round 0's.
LATER = "results/runs/tiny/none/replace/seed3/round2"
EXPECTED = {
    "samples": (f"{LATER}/samples.jsonl", None),
    "decisions": (f"{LATER}/decisions.jsonl", None),
    "model": (f"{LATER}/model", "results/base/tiny/model"),
    "adapter": (f"{LATER}/adapter", None),
    "finetune": (f"{LATER}/finetune.json", None),
    "score": (f"{LATER}/score/humaneval_plus.json", "results/runs/tiny/base/seed3/round0/score/humaneval_plus.json"),
    "verdicts": (f"{LATER}/score/humaneval_plus.verdicts.jsonl",
                 "results/runs/tiny/base/seed3/round0/score/humaneval_plus.verdicts.jsonl"),
    "audit": (f"{LATER}/audit.json", "results/runs/tiny/none/seed3/round0/audit.json"),
    "audit_samples": (f"{LATER}/audit_samples.jsonl", "results/runs/tiny/none/seed3/round0/audit_samples.jsonl"),
    "audit_generations": (None, "results/runs/tiny/base/seed3/round0/audit_generations.jsonl"),
    "analysis": (f"{LATER}/analysis.json", "results/runs/tiny/base/seed3/round0/analysis.json"),
    "spectrum": (f"{LATER}/spectrum.json", "results/runs/tiny/base/seed3/round0/spectrum.json"),
    "sample_checks": (f"{LATER}/sample_checks.json", None),
    "manifest": (f"{LATER}/manifest.json", "results/runs/tiny/base/seed3/round0/manifest.json"),
    "generation": (f"{LATER}/generation.json", None),
}


def test_every_kind_of_round_file_is_listed_here():
    assert set(EXPECTED) == set(layout.KINDS)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_a_later_rounds_file_is_formatted_and_parsed_back(kind):
    expected = EXPECTED[kind][0]
    if expected is None:
        with pytest.raises(ValueError, match="round 0's only"):
            round_file(kind, "tiny", "none", "replace", 3, 2, "humaneval_plus")
        return
    assert round_file(kind, "tiny", "none", "replace", 3, 2, "humaneval_plus") == expected
    parsed = parse(expected)
    benchmark = "humaneval_plus" if "{benchmark}" in layout.KINDS[kind] else None
    assert parsed == RoundFile(kind, "tiny", "none", "replace", 3, 2, benchmark) and parsed.path == expected


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_a_round_zero_file_is_formatted_and_parsed_back_shared_by_every_arm_or_per_gate(kind):
    """Round 0 is generated and scored once per (model, seed), its model once per model; its audit once per gate."""
    expected = EXPECTED[kind][1]
    if expected is None:
        with pytest.raises(ValueError, match=f"round 0 has no {kind}"):
            round_file(kind, "tiny", "none", None, 3, 0, "humaneval_plus")
        return
    # any arm's round 0 is the same file: the gate is in the path only for the audit's files
    assert round_file(kind, "tiny", "none", "replace", 3, 0, "humaneval_plus") == expected
    parsed = parse(expected)
    assert parsed.path == expected
    assert (parsed.kind, parsed.model, parsed.round, parsed.regime) == (kind, "tiny", 0, None)
    assert parsed.gate == ("none" if kind in layout.ROUND0_PER_GATE else layout.BASE_GATE)
    assert parsed.seed == (None if kind == "model" else 3)
    assert round_file(kind, *parsed.cell, parsed.benchmark) == expected


def test_a_parsed_path_keeps_the_folder_it_lies_in_which_is_not_a_key(tmp_path):
    path = tmp_path / "elsewhere/runs/m.v1/compile/mix/seed12/round10/score/mbpp_plus.verdicts.jsonl"
    parsed = parse(path)
    assert parsed.path == path.as_posix() and parsed.root == (tmp_path / "elsewhere").as_posix()
    assert parsed == parse(f"results/{path.relative_to(tmp_path / 'elsewhere')}")
    assert parsed.cell == ("m.v1", "compile", "mix", 12, 10) and parsed.benchmark == "mbpp_plus"
    assert parsed.sibling("score").path == path.as_posix().replace(".verdicts.jsonl", ".json")
    assert parse("runs/tiny/base/seed0/round0/analysis.json").path == "runs/tiny/base/seed0/round0/analysis.json"


@pytest.mark.parametrize("path", [
    "results/x.json",
    "results/runs/tiny/none/replace/seed0/round1/notes.txt",  # no such kind
    "results/runs/tiny/none/replace/seed0/round0/score/m.json",  # round 0 is never a cell's round
    "results/runs/tiny/none/seed0/round0/score/m.json",  # round 0's scores are shared, not per gate
    "results/runs/tiny/base/seed0/round0/audit.json",  # and its audits are per gate
    "results/runs/tiny/base/replace/seed0/round1/samples.jsonl",  # 'base' is no gate
    "results/runs/tiny/none/replace/seedx/round1/samples.jsonl",
    "results/runs/tiny/base/seed0/round1/samples.pool.jsonl",  # round 1's shared samples: parse_shared_samples
])
def test_a_path_outside_the_layout_is_rejected_naming_it(path):
    with pytest.raises(ValueError, match=f"{path}: not a path like runs/"):
        parse(path)


def test_a_file_of_another_kind_than_asked_is_rejected():
    with pytest.raises(ValueError, match="a decisions file, not score or verdicts"):
        parse(f"{LATER}/decisions.jsonl", "score", "verdicts")
    with pytest.raises(ValueError, match="a score file needs its benchmark"):
        round_file("score", "tiny", "none", "replace", 0, 1)
    with pytest.raises(ValueError, match="unknown kind"):
        round_file("scores", "tiny", "none", "replace", 0, 1)


def test_round_ones_shared_samples_are_formatted_and_parsed_back():
    path = layout.shared_samples("tiny", 2, "pool")
    assert path == "results/runs/tiny/base/seed2/round1/samples.pool.jsonl"
    assert layout.parse_shared_samples(path) == {"model": "tiny", "seed": 2, "size": "pool"}
    assert layout.shared_samples("{model}", "{seed}", "{size}") == layout.SHARED_ROUND1


def test_the_rules_patterns_are_the_paths_with_snakemakes_wildcards_as_keys():
    run = "results/runs/{model}/{gate}/{regime}/seed{seed}/round{round}"
    assert pattern("score") == f"{run}/score/{{benchmark}}.json"
    base = "results/runs/{model}/base/seed{seed}/round0"
    assert pattern("verdicts", round0=True) == f"{base}/score/{{benchmark}}.verdicts.jsonl"
    assert pattern("audit", round0=True) == "results/runs/{model}/{gate}/seed{seed}/round0/audit.json"
    assert pattern("model", round0=True) == layout.BASE_MODEL == "results/base/{model}/model"
    assert round_file("samples", "{model}", "{gate}", "{regime}", "{seed}", "{round,1}") == \
        "results/runs/{model}/{gate}/{regime}/seed{seed}/round{round,1}/samples.jsonl"
    for kind in layout.KINDS:
        if kind != "audit_generations":
            assert pattern(kind) == f"{run}/{layout.KINDS[kind]}"


def test_the_files_written_are_found_by_kind_and_key(tmp_path):
    results = tmp_path / "results"
    written = [round_file("score", "tiny", g, "replace", 0, r, b, root=str(results))
               for g in ("none", "compile") for r in (1, 2) for b in ("microtasks", "humaneval")]
    written.append(round_file("score", "tiny", "base", None, 0, 0, "microtasks", root=str(results)))
    stray = results / "runs/tiny/none/replace/seedx/round1/score/microtasks.json"  # not a seed
    for path in [*written, stray]:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text("{}")
    found = layout.find(results, "score", benchmark="microtasks")
    assert sorted(f.path for f in found) == sorted(p for p in written if p.endswith("microtasks.json"))
    assert [f.gate for f in layout.find(results, "score", round=0)] == [layout.BASE_GATE]
    assert layout.find(results, "decisions") == []


def test_a_sweep_lists_its_files_by_kind_in_the_layout():
    sweep = Sweep(models=("a", "b"), gates=("none", "reference"), regimes=("replace", "mix"), seeds=(0, 1),
                  rounds=2, benchmarks=("microtasks", "humaneval"))
    files = sweep.aggregated_files()
    kinds = {flag: {parse(p).kind for p in paths} for flag, paths in files.items()}
    assert kinds == {"scores": {"score"}, "audits": {"audit"}, "analyses": {"analysis"},
                     "round_files": {"decisions", "finetune", "sample_checks", "manifest", "verdicts", "spectrum"}}
    assert all(parse(p).path == p for paths in files.values() for p in paths)
    assert {parse(p).gate for p in files["audits"]} == {"none"}  # the control arm judges nothing
    assert len(files["scores"]) == (2 * 2 + 2 * 2 * 2 * 2 * 2) * 2  # round 0 per (model, seed), then every cell


@pytest.mark.parametrize("target", ["results/metrics.csv", "figures"])
def test_every_command_of_the_study_sweep_at_ten_rounds_and_three_seeds_fits_one_argument(tmp_path, target):
    score = tmp_path / "results/runs/santacoder/base/seed0/round0/score/humaneval_plus.json"
    score.parent.mkdir(parents=True)  # `figures` draws what is written: one score is enough to plan it
    score.write_text(json.dumps({"pass_at_1": 0.1, "n_tasks": 1, "n_passed": 0}))
    larger = tmp_path / "larger.yaml"  # merged over paper.yaml, as Snakemake merges config files
    larger.write_text(yaml.safe_dump({"rounds": 10, "seeds": [0, 1, 2]}))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
                             str(tmp_path), "--configfile", str(REPO / "config/paper.yaml"), str(larger), "--cores",
                             "1", "-n", "-p", "--nolock", "--", target],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    commands = [line for line in (result.stdout + result.stderr).splitlines() if "python -m gatedloop." in line]
    assert any("gatedloop.aggregate" in c for c in commands)
    assert max(len(c.encode()) for c in commands) < MAX_ARG_STRLEN


def test_the_study_csv_of_a_cell_is_formatted_and_parsed_back():
    path = layout.study_csv("tiny", "perplexity", "replace", 2)
    assert path == "results/study_csv/tiny/perplexity/replace/seed2.csv"
    assert layout.parse_study_csv(path) == {"model": "tiny", "gate": "perplexity", "regime": "replace", "seed": 2,
                                            "root": "results"}
    with pytest.raises(ValueError, match="not a path like study_csv"):
        layout.parse_study_csv("results/study_csv/tiny/none/seed0.csv")
    sweep = Sweep(models=("a",), gates=("none", "binary"), regimes=("replace", "mix"), seeds=(0, 1), rounds=2,
                  benchmarks=("microtasks",))
    assert len(set(sweep.study_csv_files())) == 8


@pytest.mark.parametrize(("rule", "round_", "benchmark"), [("generate", "{round}", None), ("finetune", "{round}", None),
                                                           ("score", "{round}", "{benchmark}"),
                                                           ("score", 0, "{benchmark}")])
def test_a_jobs_benchmark_record_is_the_path_its_rule_names(rule, round_, benchmark):
    """The rule files spell their `benchmark:` paths as f-strings; the layout's job_record must name the same."""
    path = layout.job_record(rule, "{model}", "{gate}", "{regime}", "{seed}", round_, benchmark)
    relative = path.removeprefix(f"{layout.BENCHMARKS}/").replace("{", "{{").replace("}", "}}")
    rule_text = (REPO / f"workflow/rules/{rule}.smk").read_text()
    assert f'f"{{BENCHMARKS}}/{relative}"' in rule_text


def test_round_ones_shared_generation_records_are_found(tmp_path):
    record = tmp_path / "benchmarks/generate/tiny/base/seed0/round1.pool.tsv"
    record.parent.mkdir(parents=True)
    record.write_text("s\n1.0\n")
    assert layout.shared_generation_records("tiny", 0, str(tmp_path)) == [str(record)]
    assert layout.shared_generation_records("tiny", 1, str(tmp_path)) == []


def test_a_rounds_generation_stats_have_a_place_in_a_cell_and_none_in_round_0():
    path = round_file("generation", "tiny", "compile", "replace", 0, 2)
    assert path == "results/runs/tiny/compile/replace/seed0/round2/generation.json"
    assert parse(path) == RoundFile("generation", "tiny", "compile", "replace", 0, 2)
    with pytest.raises(ValueError, match="round 0 has no generation file"):
        round_file("generation", "tiny", "compile", "replace", 0, 0)
    sweep = Sweep(models=("a",), gates=("none", "compile"), regimes=("replace",), seeds=(0,), rounds=2,
                  benchmarks=("microtasks",), wave_gates=("compile",))
    assert sweep.generation_files() == [round_file("generation", "a", "compile", "replace", 0, r) for r in (1, 2)]
    assert set(sweep.generation_files()) <= set(sweep.aggregated_files()["round_files"])
    assert sweep.to_json() == Sweep.from_json(sweep.to_json()).to_json()


def test_a_sweep_with_evaluation_rounds_scores_only_those_and_keeps_every_other_round_file():
    every = Sweep(models=("a",), gates=("none",), regimes=("replace",), seeds=(0,), rounds=5,
                  benchmarks=("microtasks",))
    some = Sweep(**{**every.__dict__, "evaluation_rounds": (0, 2, 5)})
    assert {parse(p).round for p in some.score_files()} == {0, 2, 5}
    assert {parse(p).round for p in some.verdict_files()} == {0, 2, 5}
    assert {parse(p).round for p in every.score_files()} == set(range(6))
    assert some.finetune_stats_files() == every.finetune_stats_files()  # every round still trains
    assert some.audit_files() == every.audit_files() and some.analysis_files() == every.analysis_files()
    assert Sweep.from_json(some.to_json()) == some
    assert "evaluation_rounds" not in every.to_json()  # a sweep without them keeps its aggregate's command
