"""Execution diagnostics (the study's v2): strict and relaxed execution rates and the compile rate on seeded samples
of the raw, accepted and training populations, from crafted samples and decisions; the existing fields keep their
values."""

from __future__ import annotations

import json
import shlex

import pytest
import yaml
from workflow_runs import CONFIG, snakemake

from gatedloop.sample_checks import (
    checked_runs,
    execution_diagnostics,
    execution_status,
    main,
    population_indices,
    seeded_sample,
)
from gatedloop.sandbox import Limits, Verdict

FAST = Limits(timeout_s=3.0)
PROMPT = "def double(x):\n"
SAMPLES = [
    {"id": "ok", "prompt": PROMPT, "completion": "    return 2 * x\n", "tests": ["assert double(2) == 4"]},
    {"id": "wrong", "prompt": PROMPT, "completion": "    return x + 1\n", "tests": ["assert double(3) == 6"]},
    {"id": "syntax", "prompt": PROMPT, "completion": "    return (x\n", "tests": ["assert double(2) == 4"]},
    {"id": "module", "prompt": "import numpy_not_installed_here\n", "completion": "y = 1\n"},
    {"id": "import", "prompt": "from os import no_such_name\n", "completion": "y = 1\n"},
    {"id": "name", "prompt": "x = 1\n", "completion": "y = undefined_name + x\n"},
    {"id": "runs", "prompt": "x = 1\n", "completion": "y = x + 1\n"},
]
ACCEPTED = {"ok", "syntax", "module", "runs"}


def _rates(rows: dict) -> tuple:
    return (rows["evaluated"], rows["compile_rate"], rows["execution_strict_rate"], rows["execution_relaxed_rate"])


@pytest.fixture(scope="module")
def runs():
    return dict(enumerate(checked_runs(SAMPLES, FAST, workers=2)))


def test_each_crafted_program_gets_the_study_status(runs):
    statuses = {SAMPLES[i]["id"]: execution_status(verdict) for i, (_, verdict) in runs.items()}
    assert statuses == {"ok": "ok", "wrong": "AssertionError", "syntax": "SyntaxError",
                        "module": "ModuleNotFoundError", "import": "ImportError", "name": "NameError", "runs": "ok"}
    assert [SAMPLES[i]["id"] for i, (compiled, _) in runs.items() if not compiled] == ["syntax"]


def test_statuses_of_timeouts_and_unreadable_ends():
    assert execution_status(Verdict(False, "timeout", 5.0, "wall-clock timeout")) == "timeout"
    assert execution_status(Verdict(False, "fail", 0.1, "exit status 0")) == "other_error"  # exit() midway
    assert execution_status(Verdict(False, "error", 0.1, "json.decoder.JSONDecodeError: x")) == "JSONDecodeError"
    assert execution_status(Verdict(False, "error", 0.1, "")) == "other_error"


def test_populations_from_samples_and_decisions():
    populations = population_indices(SAMPLES, ACCEPTED, None)
    assert populations == {"raw": list(range(7)), "accepted": [0, 2, 3, 6], "training": [0, 2, 3, 6]}
    # with finetune's train_ids: what it trained on, in its order; ids from elsewhere are not among the samples
    trained = population_indices(SAMPLES, ACCEPTED, ["runs", "ok", "human/stdlib_func"])
    assert trained["training"] == [6, 0] and trained["accepted"] == [0, 2, 3, 6]


def test_strict_and_relaxed_rates_per_population(runs):
    populations = population_indices(SAMPLES, ACCEPTED, ["module", "runs"])
    result = execution_diagnostics(SAMPLES, populations, 500, 0, dict(runs), FAST, workers=1)
    # raw: ok + runs pass; module + import count as runnable only in relaxed; syntax fails compile
    assert _rates(result["raw"]) == (7, pytest.approx(6 / 7), pytest.approx(2 / 7), pytest.approx(4 / 7))
    assert _rates(result["accepted"]) == (4, 3 / 4, 2 / 4, 3 / 4)  # ok, runs; + module relaxed; syntax neither
    assert _rates(result["training"]) == (2, 1.0, 1 / 2, 1.0)  # the ImportError program: relaxed only
    assert result["raw"]["counts"] == {"AssertionError": 1, "ImportError": 1, "ModuleNotFoundError": 1,
                                       "NameError": 1, "SyntaxError": 1, "ok": 2}
    assert result["training"]["population"] == 2 and set(result["training"]["sample_ids"]) == {"module", "runs"}


def test_an_empty_population_has_no_rates(runs):
    populations = {"raw": list(range(7)), "accepted": [], "training": []}
    result = execution_diagnostics(SAMPLES, populations, 500, 0, dict(runs), FAST, workers=1)
    assert _rates(result["accepted"]) == (0, None, None, None)


def test_the_seeded_sample_is_reproducible_and_runs_only_what_is_missing(runs, monkeypatch):
    assert seeded_sample(1000, 500, 3) == seeded_sample(1000, 500, 3)
    assert seeded_sample(1000, 500, 3) != seeded_sample(1000, 500, 4)
    assert len(set(seeded_sample(1000, 500, 3))) == 500 and sorted(seeded_sample(5, 500, 3)) == list(range(5))
    populations = population_indices(SAMPLES, ACCEPTED, None)
    first = execution_diagnostics(SAMPLES, populations, 3, 11, dict(runs), FAST, workers=1)
    again = execution_diagnostics(SAMPLES, populations, 3, 11, dict(runs), FAST, workers=1)
    assert first == again and first["raw"]["evaluated"] == 3
    assert first["raw"]["sample_ids"] == [SAMPLES[i]["id"] for i in seeded_sample(7, 3, 11)]
    ran: list[int] = []
    monkeypatch.setattr("gatedloop.sample_checks.checked_runs",
                        lambda samples, limits, workers: ran.append(len(samples)) or [])
    execution_diagnostics(SAMPLES, populations, 3, 11, dict(runs), FAST, workers=1)
    assert ran == [0]  # every drawn sample had run already


def test_the_cli_adds_diagnostics_and_keeps_the_existing_fields(tmp_path):
    samples, decisions, out = tmp_path / "s.jsonl", tmp_path / "d.jsonl", tmp_path / "checks.json"
    samples.write_text("".join(json.dumps(s) + "\n" for s in SAMPLES))
    decisions.write_text("".join(json.dumps({"id": s["id"], "accepted": s["id"] in ACCEPTED}) + "\n"
                                 for s in SAMPLES))
    finetune = tmp_path / "finetune.json"
    finetune.write_text(json.dumps({"train_ids": ["ok", "module", "from-an-earlier-round"]}))
    main(["--samples", str(samples), "--decisions", str(decisions), "--out", str(out), "--max-samples", "3",
          "--diagnostic-samples", "5", "--diagnostic-seed", "2", "--finetune", str(finetune), "--threads", "2"])
    result = json.loads(out.read_text())
    # the first max_samples check as before: ok, wrong, syntax
    assert (result["n_checked"], result["compile_rate"], result["exec_pass_rate"]) == (3, 2 / 3, 1 / 3)
    assert result["n_training"] == 4
    diagnostics = result["diagnostics"]
    assert (diagnostics["samples"], diagnostics["seed"], diagnostics["training_source"]) == (5, 2, "finetune")
    assert diagnostics["training_elsewhere"] == 1
    assert _rates(diagnostics["training"]) == (2, 1.0, 1 / 2, 1.0)
    assert diagnostics["raw"]["population"] == 7 and diagnostics["raw"]["evaluated"] == 5
    assert diagnostics["raw"]["sample_ids"] == [SAMPLES[i]["id"] for i in seeded_sample(7, 5, 2)]


def _check_commands(tmp_path, **settings) -> list[list[str]]:
    config = yaml.safe_load(CONFIG.read_text())
    config.setdefault("sample_checks", {}).update(settings)
    tmp_path.mkdir()
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "-n", "--printshellcmds", configfile=path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return [shlex.split(line) for line in result.stdout.splitlines() if "python -m gatedloop.sample_checks" in line]


@pytest.mark.integration
def test_the_diagnostics_flags_appear_only_where_a_config_sets_them(tmp_path):
    added = {"--diagnostic-samples", "--diagnostic-seed", "--finetune"}
    plain = _check_commands(tmp_path / "plain")
    assert plain and not any(added & set(words) for words in plain)
    chosen = _check_commands(tmp_path / "on", diagnostic_samples=100, training_from_finetune=True)
    for words in chosen:
        assert words[words.index("--diagnostic-samples") + 1] == "100" and "--diagnostic-seed" not in words
        out = words[words.index("--out") + 1]
        assert words[words.index("--finetune") + 1] == out.replace("sample_checks.json", "finetune.json")
