"""The offline corpus stdlib_heldout: standard-library files the pre-training corpus leaves out, less the files the
probe set draws from, so a prompt is neither code the model pre-trained on nor code the analysis probes with."""

from __future__ import annotations

import sysconfig
from pathlib import Path

from gatedloop.data.stdlib import heldout_files, probe_files, stdlib_files
from gatedloop.prompt_sources import PROMPT_SOURCES, Draw

ROOT = Path(sysconfig.get_paths()["stdlib"])
PROBE_N = 200  # analysis.probe.n's default


def stdlib_source(**options):
    """The source as its job gets it: the probe's size among its options (the workflow passes analysis.probe.n)."""
    settings = PROMPT_SOURCES.options("file_prefixes", {"corpus": "stdlib_heldout", "probe_snippets": PROBE_N,
                                                        **options})
    return PROMPT_SOURCES.get("file_prefixes")(settings)


def names(paths) -> set[str]:
    return {str(p.relative_to(ROOT)) for p in paths}


def test_heldout_files_are_the_stdlib_files_pretraining_leaves_out():
    held_out, pretraining = names(heldout_files()), names(stdlib_files())
    assert held_out and not held_out & pretraining
    every_file = {n for n in names(ROOT.rglob("*.py")) if not {"site-packages", "dist-packages"} & set(Path(n).parts)}
    assert held_out | pretraining == every_file - {n for n in every_file if "__pycache__" in n}


def test_the_corpus_leaves_out_the_probes_files():
    probed = probe_files(PROBE_N)
    assert probed and probed <= names(heldout_files())  # without the exclusion they would overlap
    corpus = {name for name, _ in stdlib_source()._stdlib_files()}
    assert corpus and not corpus & probed and corpus == names(heldout_files()) - probed


def test_stdlib_prompts_come_from_neither_pretraining_nor_the_probe(tiny_model_dir):
    from transformers import AutoTokenizer

    source = stdlib_source(per_round=4, min_file_tokens=64, prompt_tokens=32)
    rows = source.prompts(Draw(seed=0, round=1, tokenizer=AutoTokenizer.from_pretrained(tiny_model_dir)))
    origins = {row["origin"] for row in rows}
    assert len(origins) == 4
    assert not origins & names(stdlib_files()) and not origins & probe_files(PROBE_N)
    for row in rows:
        assert (ROOT / row["origin"]).read_text(encoding="utf-8", errors="replace").startswith(row["prompt"])
