"""The per-round provenance manifest: settings and their hash, seeds, file hashes (large files by size), data
hashes, code and package versions, hardware."""

from __future__ import annotations

import hashlib
import json
import os
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


def test_the_manifest_records_the_hardware_of_the_jobs_that_made_the_round_not_its_own(tmp_path):
    """Under SLURM the manifest is a local rule on the login node; fine-tuning and scoring ran on GPU nodes. Each
    stage's summary carries the provenance of the process that wrote it (here a real process in another SLURM
    job's environment), and the manifest lists them per stage."""
    run = tmp_path / "round1"
    (run / "score").mkdir(parents=True)
    stage_job = subprocess.run(
        [sys.executable, "-c", "import json, torch; from gatedloop.core.provenance import environment; "
                               "print(json.dumps(environment()))"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "SLURM_JOB_ID": "4242"})
    assert stage_job.returncode == 0, stage_job.stderr
    on_node = json.loads(stage_job.stdout)
    (run / "finetune.json").write_text(json.dumps({"steps": 8, "provenance": on_node}))
    (run / "score/microtasks.json").write_text(json.dumps({"pass_at_1": 0.5, "provenance": on_node}))
    (run / "samples.jsonl").write_text('{"id": "a"}\n')
    out = run / "manifest.json"
    env = {k: v for k, v in os.environ.items() if k != "SLURM_JOB_ID"}  # the login node is no SLURM job
    result = subprocess.run([sys.executable, "-m", "gatedloop.manifest", "--run-dir", str(run), "--settings", "{}",
                             "--seeds", "{}", "--out", str(out)], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    manifest = json.loads(out.read_text())
    assert set(manifest["stages"]) == {"finetune.json", "score/microtasks.json"}
    for stage in manifest["stages"].values():
        assert stage["hardware"]["slurm_job_id"] == "4242" and stage["hardware"]["cpus"] >= 1
        assert stage["packages"]["torch"] and "git_commit" in stage
    assert "slurm_job_id" not in manifest["provenance"]["hardware"]  # the manifest's own job, kept apart
