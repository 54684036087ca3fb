"""The probe set: human-written code from the standard-library directories the pre-training corpus leaves out."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from gatedloop.data.stdlib import stdlib_files
from gatedloop.probe import HELD_OUT_DIRS, file_snippets, stdlib_heldout_functions


def test_stdlib_probe_is_fixed_parseable_and_never_in_the_corpus():
    first, again = stdlib_heldout_functions(40), stdlib_heldout_functions(40)
    assert first == again and len(first) == 40
    corpus_files = {str(p) for p in stdlib_files()}
    for snippet in first:
        ast.parse(snippet["text"])
        assert 4 <= snippet["text"].strip().count("\n") + 1 <= 40
        assert snippet["name"].split("/")[0] in HELD_OUT_DIRS
        assert not any(path.endswith(snippet["name"].split(":")[0]) for path in corpus_files)
    assert len({s["name"].split(":")[0] for s in first}) >= 20  # spread over files, at most 2 from each


def test_a_probe_file_needs_text_on_every_line(tmp_path):
    path = tmp_path / "probe.jsonl"
    path.write_text(json.dumps({"text": "def f():\n    return 1\n"}) + "\n" + json.dumps({"name": "x"}) + "\n")
    with pytest.raises(ValueError, match="probe.jsonl:2: a probe line needs a non-empty 'text'"):
        file_snippets(path, 10)


def test_the_cli_writes_microtask_snippets_and_names_a_missing_file(tmp_path):
    heldout = tmp_path / "heldout.jsonl"
    heldout.write_text("".join(json.dumps({"task_id": f"t{i}", "prompt": f"def f{i}():\n",
                                           "canonical_solution": f"    return {i}\n"}) + "\n" for i in range(3)))
    out = tmp_path / "probe.jsonl"
    done = subprocess.run([sys.executable, "-m", "gatedloop.probe", "--source", "microtasks", "--heldout",
                           str(heldout), "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["text"] for line in out.read_text().splitlines()][1] == "def f1():\n    return 1\n"
    missing = subprocess.run([sys.executable, "-m", "gatedloop.probe", "--source", "file", "--path",
                              str(tmp_path / "nope.jsonl"), "--out", str(out)], capture_output=True, text=True)
    assert missing.returncode == 2 and "nope.jsonl is not a file" in missing.stderr
