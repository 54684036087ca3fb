"""Coverage statistics on crafted decision and verdict files."""

from __future__ import annotations

import json
import math

import pytest

from gatedloop import aggregate
from gatedloop.analysis.coverage import accepted_by_family, family_entropy, pass_by_family, prompt_families

FAMILIES = {"add/1": "add", "add/2": "add", "mul/1": "mul", "mul/2": "mul", "neg/1": "neg"}


def decisions(accepted_prompts, all_prompts=tuple(FAMILIES)):
    return [{"id": f"{p}#0", "prompt_id": p, "accepted": p in accepted_prompts} for p in all_prompts]


def test_accepted_samples_are_counted_per_family():
    counts = accepted_by_family(decisions({"add/1", "add/2", "mul/1"}), FAMILIES)
    assert counts == {"add": 2, "mul": 1}
    assert "neg" not in counts


def test_entropy_of_the_family_mix():
    assert family_entropy(accepted_by_family(decisions({"add/1", "mul/1"}), FAMILIES)) == pytest.approx(1.0)
    assert family_entropy(accepted_by_family(decisions({"add/1", "add/2"}), FAMILIES)) == 0.0
    three = accepted_by_family(decisions({"add/1", "mul/1", "neg/1"}), FAMILIES)
    assert family_entropy(three) == pytest.approx(math.log2(3))
    assert math.isnan(family_entropy(accepted_by_family(decisions(set()), FAMILIES)))


def test_pass_per_family_and_none_for_a_benchmark_without_families():
    verdicts = [{"task_id": "add/9", "family": "add", "passed": True},
                {"task_id": "add/8", "family": "add", "passed": False},
                {"task_id": "mul/9", "family": "mul", "passed": True}]
    assert pass_by_family(verdicts) == {"add": (2, 0.5), "mul": (1, 1.0)}
    assert pass_by_family([{"task_id": "HumanEval/0", "passed": True}]) is None


def test_prompt_families_come_only_from_the_data():
    assert prompt_families([{"task_id": "x", "family": "f"}, {"task_id": "y"}]) == {"x": "f"}


def _tree(root):
    """Round 0 and one round of gate 'compile' that accepted only the add family."""
    paths = []
    verdicts = {0: [("add/9", "add", True), ("mul/9", "mul", True)],
                1: [("add/9", "add", True), ("mul/9", "mul", False)]}
    for round_, dirname in ((0, "runs/tiny/base/seed0/round0"), (1, "runs/tiny/compile/replace/seed0/round1")):
        d = root / dirname
        (d / "score").mkdir(parents=True)
        rows = verdicts[round_]
        (d / "score/microtasks.json").write_text(json.dumps(
            {"pass_at_1": sum(p for *_, p in rows) / len(rows), "n_tasks": len(rows), "n_passed": 0}))
        (d / "score/microtasks.verdicts.jsonl").write_text("".join(
            json.dumps({"task_id": t, "family": f, "passed": p}) + "\n" for t, f, p in rows))
        if round_:
            (d / "decisions.jsonl").write_text("".join(json.dumps(x) + "\n" for x in decisions({"add/1", "add/2"})))
        paths.append(d / "score/microtasks.json")
    return paths


def test_the_coverage_table_and_the_metrics_columns(tmp_path):
    paths = _tree(tmp_path)
    given = list(tmp_path.rglob("*.jsonl"))  # the verdicts and decisions: the aggregate reads only these
    _, coverage, no_families = aggregate.effects_and_coverage(paths, ["compile"], ["replace"], FAMILIES, reps=50,
                                                              round_files=given)
    assert no_families == []
    round1 = coverage[coverage["round"] == 1].set_index("family")
    assert round1.loc["add", "n_accepted"] == 2 and round1.loc["mul", "n_accepted"] == 0
    assert round1.loc["add", "pass_at_1"] == 1.0 and round1.loc["mul", "pass_at_1"] == 0.0
    assert coverage[coverage["round"] == 0]["n_accepted"].isna().all()  # round 0 trains on nothing
    metrics = aggregate.collect(paths, ["compile"], families=FAMILIES, round_files=given)
    row = metrics[metrics["round"] == 1].iloc[0]
    assert row.accepted_family_entropy == 0.0 and row.accepted_families == 1


def test_a_benchmark_without_families_gets_no_rows_and_is_named(tmp_path):
    d = tmp_path / "runs/tiny/base/seed0/round0/score"
    d.mkdir(parents=True)
    (d / "humaneval.json").write_text(json.dumps({"pass_at_1": 1.0, "n_tasks": 1, "n_passed": 1}))
    (d / "humaneval.verdicts.jsonl").write_text(json.dumps({"task_id": "HumanEval/0", "passed": True}) + "\n")
    _, coverage, no_families = aggregate.effects_and_coverage([d / "humaneval.json"], ["none"], ["replace"],
                                                              FAMILIES, reps=50,
                                                              round_files=[d / "humaneval.verdicts.jsonl"])
    assert coverage.empty and no_families == ["humaneval"]
