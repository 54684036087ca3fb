from gatedloop import corpus
from gatedloop.core.io import read_jsonl
from gatedloop.data.stdlib import EXCLUDED_DIRS


def test_stdlib_documents_skip_tests_and_respect_the_budget():
    docs = list(corpus.stdlib_documents(max_chars=200_000))
    assert docs and sum(len(d["text"]) for d in docs) <= 200_000
    assert not any(part in EXCLUDED_DIRS for d in docs for part in d["name"].split("/")[:-1])


def test_cli_writes_stdlib_and_microtask_documents(tmp_path):
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"task_id": "f/k=1", "prompt": "def f(x):\\n    \\"\\"\\"Doc.\\"\\"\\"", '
                     '"canonical_solution": "\\n    return x\\n"}\n')
    out = tmp_path / "corpus.jsonl"
    corpus.main(["--tasks", str(tasks), "--out", str(out), "--stdlib-chars", "50000"])
    docs = read_jsonl(out)
    assert {d["source"] for d in docs} == {"stdlib", "microtask"}
    assert docs[-1]["text"].endswith("return x\n")


def test_the_prompt_pool_joins_pretraining_when_asked_and_held_out_tasks_never_do(tmp_path):
    """microtasks.pool_in_pretraining: the workflow passes pretrain.jsonl and pool.jsonl; never heldout.jsonl."""
    from gatedloop.core.io import write_jsonl
    from gatedloop.data.task_families import split_tasks

    splits = split_tasks(0.15, 0, 40)
    for name, tasks in splits.items():
        write_jsonl(tmp_path / f"{name}.jsonl", (t.to_json() for t in tasks))
    out = tmp_path / "corpus.jsonl"
    corpus.main(["--tasks", str(tmp_path / "pretrain.jsonl"), str(tmp_path / "pool.jsonl"), "--out", str(out),
                 "--stdlib-chars", "1000"])
    names = {d["name"] for d in read_jsonl(out) if d["source"] == "microtask"}
    assert names == {t.task_id for t in splits["pretrain"] + splits["pool"]}
    assert not names & {t.task_id for t in splits["heldout"]}
