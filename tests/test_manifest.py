"""The per-round provenance manifest: settings and their hash, seeds, file hashes (large files by size), data
hashes, code and package versions, hardware."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

from gatedloop.manifest import config_hash


def test_the_manifest_records_what_made_a_round(tmp_path, tiny_model_dir):
    run = tmp_path / "round1"
    (run / "score").mkdir(parents=True)
    (run / "samples.jsonl").write_text('{"id": "a"}\n')
    (run / "score/microtasks.json").write_text('{"pass_at_1": 0.5}')
    (run / "adapter").mkdir()
    (run / "adapter/adapter_model.safetensors").write_bytes(b"x" * 4096)
    (run / "model").mkdir()
    (run / "model/chain.json").write_text('{"base": "b", "adapters": ["../adapter"]}\n')
    data = tmp_path / "heldout.jsonl"
    data.write_text('{"task_id": "t"}\n')
    settings = {"gate": "compile", "seed": 0, "finetune": {"lr": 0.005}}
    out = run / "manifest.json"
    result = subprocess.run([sys.executable, "-m", "gatedloop.manifest", "--run-dir", str(run), "--settings",
                             json.dumps(settings), "--seeds", json.dumps({"generate": 11}), "--model-dir",
                             str(tiny_model_dir), "--data", f"microtasks={data}", "--hash-limit-mb", "0.002",
                             "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    manifest = json.loads(out.read_text())
    assert manifest["config"] == settings and manifest["config_hash"] == config_hash(settings)
    assert manifest["config_hash"] == config_hash(json.loads(json.dumps(settings, sort_keys=True)))  # key order
    assert manifest["seeds"] == {"generate": 11}
    assert manifest["files"]["samples.jsonl"] == hashlib.sha256(b'{"id": "a"}\n').hexdigest()
    assert manifest["files"]["adapter/adapter_model.safetensors"] == {
        "bytes": 4096, "mtime_ns": (run / "adapter/adapter_model.safetensors").stat().st_mtime_ns}  # over the limit
    assert manifest["files"]["model/chain.json"] == hashlib.sha256(  # an adapter chain (merged weights not kept)
        b'{"base": "b", "adapters": ["../adapter"]}\n').hexdigest()
    assert set(manifest["start_model"]["files"]) == {p.name for p in tiny_model_dir.iterdir() if p.is_file()}
    assert manifest["data"]["microtasks"]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    provenance = manifest["provenance"]
    assert provenance["packages"]["torch"] and provenance["hardware"]["cpus"] >= 1 and "git_commit" in provenance
