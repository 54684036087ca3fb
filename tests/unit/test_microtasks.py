import json

import pytest

from gatedloop import microtasks as microtasks_cli
from gatedloop.data import task_families as microtasks


def test_at_least_15_families_and_every_reference_passes_its_tests():
    tasks = microtasks.all_tasks()
    assert len({t.family for t in tasks}) >= 15
    for task in tasks:
        assert len(task.tests) >= 3, task.task_id
        exec(task.program(task.canonical_solution), {})  # trusted reference code; raises if a test is wrong


def test_tests_reject_a_wrong_body():
    """Boundary inputs must catch an off-by-one and a constant body for every task."""
    for task in microtasks.all_tasks():
        for wrong in ("\n    return None\n", "\n    return 1\n"):
            with pytest.raises(AssertionError):
                exec(task.program(wrong), {})


def test_prompts_end_at_the_closing_quotes():
    for task in microtasks.all_tasks():
        assert task.prompt.endswith('"""') and not task.prompt.endswith('\n"""')
        assert task.canonical_solution.startswith("\n    ")


def test_split_is_disjoint_stable_and_large_enough():
    splits = microtasks.split_tasks(0.15, seed=0, pool_size=256)
    heldout = {t.task_id for t in splits["heldout"]}
    pretrain = {t.task_id for t in splits["pretrain"]}
    pool = {t.task_id for t in splits["pool"]}
    assert len(heldout) >= 100
    assert not heldout & pretrain and not heldout & pool
    assert not pool & pretrain and len(pool) == 256
    combos = {(t.family, json.dumps(t.params, sort_keys=True)) for t in splits["heldout"]}
    train_combos = {(t.family, json.dumps(t.params, sort_keys=True)) for t in splits["pretrain"]}
    assert not combos & train_combos
    again = microtasks.split_tasks(0.15, seed=0, pool_size=256)
    assert [t.task_id for t in again["pool"]] == [t.task_id for t in splits["pool"]]
    other = microtasks.split_tasks(0.15, seed=1, pool_size=256)
    assert {t.task_id for t in other["heldout"]} != heldout


def test_pool_larger_than_training_split_is_an_error():
    with pytest.raises(ValueError, match="pool_size"):
        microtasks.split_tasks(0.5, seed=0, pool_size=600)


def test_cli_writes_three_files(tmp_path):
    microtasks_cli.main(["--out-dir", str(tmp_path), "--pool-size", "32"])
    lines = {name: (tmp_path / f"{name}.jsonl").read_text().splitlines() for name in ("pretrain", "pool", "heldout")}
    assert len(lines["pool"]) == 32
    row = json.loads(lines["heldout"][0])
    assert {"task_id", "family", "prompt", "canonical_solution", "tests", "entry_point"} <= row.keys()
