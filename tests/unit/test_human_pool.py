import json

from gatedloop import corpus, human_pool


def test_pool_holds_documented_stdlib_functions_absent_from_the_corpus(tmp_path):
    used = {d["name"] for d in corpus.stdlib_documents(max_chars=2_000_000)}
    pool = human_pool.build_pool(used, size=300, seed=0)
    assert len(pool) == 300
    assert not {f["id"].split(":")[0] for f in pool} & used
    for function in pool[:50]:
        assert function["completion"].startswith("def ")
        compile(function["completion"], function["id"], "exec")
    assert [f["id"] for f in human_pool.build_pool(used, 300, seed=0)] == [f["id"] for f in pool]


def test_cli_reads_the_corpus_names(tmp_path):
    corpus_file = tmp_path / "corpus.jsonl"
    corpus_file.write_text(json.dumps({"source": "stdlib", "name": "json/decoder.py", "text": ""}) + "\n")
    out = tmp_path / "pool.jsonl"
    human_pool.main(["--corpus", str(corpus_file), "--out", str(out), "--size", "20"])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 20 and not any(r["id"].startswith("json/decoder.py:") for r in rows)
