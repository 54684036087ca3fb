"""The prompts stage: one round's prompts from the configured source, in our pool form, planned once per (model,
seed, round) for sources that draw per round, and read by every generation of that round."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import REPO

from gatedloop.data.prompt_pool import read_pool
from gatedloop.prompts import main


def test_the_cli_writes_a_round_of_file_prefixes_as_a_pool(tmp_path, tiny_model_dir):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files = [f"def add_{i}(a, b):\n    return a + b + {i}\n" * 3 for i in range(6)]
    files += [files[0]] * 6  # the same prefix again and again: drawn once a round at most
    (corpus / "code.jsonl").write_text("".join(json.dumps({"content": text}) + "\n" for text in files))
    out = tmp_path / "round2.jsonl"
    options = {"corpus": "local", "corpus_path": str(corpus), "per_round": 6, "min_file_tokens": 10,
               "prompt_tokens": 12}
    main(["--source", "file_prefixes", "--options", json.dumps(options), "--model", str(tiny_model_dir),
          "--seed", "0", "--round", "2", "--out", str(out)])
    rows = read_pool(out)  # what the generation reads: a well-formed pool
    assert [row["task_id"] for row in rows] == [f"r2-{i:06d}" for i in range(6)]
    assert sorted(next(i for i, text in enumerate(files) if text.startswith(row["prompt"])) for row in rows) == \
        list(range(6))


def test_a_file_prefix_sweep_plans_a_prompts_job_per_round_and_generates_from_it(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({
        "models": {"tiny": {"source": "scratch"}}, "gates": ["none", "compile"], "rounds": 2,
        "prompts": {"source": "file_prefixes", "corpus": "stdlib_heldout", "per_round": 8}}))
    result = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
                             str(tmp_path / "run"), "--configfile", str(config), "--cores", "1", "-n", "-p"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    staged = sorted(re.search(r"--out (\S+)", line)[1] for line in lines if "gatedloop.prompts " in line)
    assert staged == ["results/prompts/tiny/seed0/round1.jsonl", "results/prompts/tiny/seed0/round2.jsonl"]
    assert all('"probe_snippets": 200' in line for line in lines if "gatedloop.prompts " in line)
    generating = [line for line in lines if "gatedloop.generate " in line]
    shared = [line for line in generating if "samples.pool.jsonl" in line]
    later = [line for line in generating if "/round2/samples.jsonl" in line]
    assert len(shared) == 1 and "--prompts results/prompts/tiny/seed0/round1.jsonl" in shared[0]  # shared by gates
    assert len(later) == 2 and all("--prompts results/prompts/tiny/seed0/round2.jsonl" in line for line in later)
    # the control arm gets as many human functions as the gated arms get prompts that round
    reference = sorted(line for line in lines if "gatedloop.reference " in line)
    assert len(reference) == 2 and all("--solutions human_pool" in line for line in reference)
    assert all(f"--prompts results/prompts/tiny/seed0/round{r}.jsonl" in line
               for r, line in zip((1, 2), sorted(reference, key=lambda line: line.split("--round ")[1]), strict=True))


def test_a_study_pool_is_rewritten_in_our_form_before_generation(tmp_path):
    pool = tmp_path / "v2.jsonl"
    pool.write_text("".join(json.dumps({"content": f"def f{i}():\n", "test_code": f"assert f{i}() is None"}) + "\n"
                            for i in range(4)))
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({"models": {"tiny": {"source": "scratch"}}, "gates": ["none"], "rounds": 1,
                                  "control": {"enabled": False}, "prompts": {"path": str(pool)}}))
    result = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
                             str(tmp_path / "run"), "--configfile", str(config), "--cores", "1", "-n", "-p"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    (staging,) = [line for line in result.stdout.splitlines() if "gatedloop.prompts " in line]
    assert "--source pool" in staging and f'"path": "{pool}"' in staging
    (generating,) = [line for line in result.stdout.splitlines() if "gatedloop.generate " in line]
    assert "--prompts results/prompts/tiny/seed0/round1.jsonl" in generating
    out = tmp_path / "round1.jsonl"
    main(["--source", "pool", "--options", json.dumps({"path": str(pool)}), "--seed", "0", "--round", "1",
          "--out", str(out)])
    assert read_pool(out)[0] == {"task_id": "line1", "prompt": "def f0():\n", "tests": ["assert f0() is None"]}
