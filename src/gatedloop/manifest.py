"""Provenance manifest of one round: what made its numbers, so every row of results/metrics.csv can be traced.

CLI: ``python -m gatedloop.manifest --run-dir DIR --settings JSON --seeds JSON [--model-dir DIR]
[--data NAME=FILE ...] --out DIR/manifest.json``. The manifest holds

* ``config``: the settings that affect this round (the workflow passes them: the model's spec, the gate and its
  options, data regime, seed, round, and the generation, fine-tuning, scoring, audit and analysis sections) and
  ``config_hash``, their SHA-256 over canonical JSON: the key ``results/metrics.csv`` carries to join on;
* ``seeds``: the seed of each stage's job;
* ``files``: SHA-256 of every file the round wrote (samples, decisions, adapter, scores, ...), and of the model
  it started from; files over ``--hash-limit-mb`` (merged weights of large models) get size and modification time
  instead; with ``finetune.keep_merged: false`` the round's model is an adapter chain, whose few files are hashed;
* ``data``: SHA-256 of each benchmark data file given;
* ``provenance``: git commit, package versions, Python and hardware of the job that wrote the manifest (a local
  rule: under SLURM, the login node);
* ``stages``: per output of the round that records its provenance (``finetune.json``, ``score/<benchmark>.json``,
  ``audit.json``, ``analysis.json``), the hardware (node, CPUs, GPUs, SLURM job id), git commit and packages of
  the job that made it: where the round's numbers were computed. Generation and gating write no summary and are
  not listed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from gatedloop.core.checkpoint import file_digest
from gatedloop.core.io import write_json
from gatedloop.core.layout import KINDS
from gatedloop.core.provenance import environment
from gatedloop.engine.warm import run_cli

# The round's own model directory (hashed on its own, as model/...) and the manifest itself, by their layout names.
MODEL, MANIFEST = KINDS["model"], KINDS["manifest"]


def config_hash(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def hash_tree(root: Path, limit_bytes: int, skip: tuple[str, ...] = ()) -> dict[str, object]:
    """Relative path -> SHA-256 (or size and mtime for files over the limit), in sorted order."""
    out: dict[str, object] = {}
    if not root.exists():
        return out
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if relative.split("/")[0] in skip or path.name.startswith("."):
            continue
        stat = path.stat()
        out[relative] = file_digest(path) if stat.st_size <= limit_bytes else {"bytes": stat.st_size,
                                                                               "mtime_ns": stat.st_mtime_ns}
    return out


def stage_provenance(run_dir: Path) -> dict[str, dict]:
    """Relative path -> the ``provenance`` record of each JSON summary in the round that carries one."""
    stages = {}
    for path in sorted(run_dir.rglob("*.json")) if run_dir.is_dir() else []:
        relative = path.relative_to(run_dir).as_posix()
        if relative.split("/")[0] == MODEL or relative == MANIFEST or path.name.startswith("."):
            continue
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and isinstance(record.get("provenance"), dict):
            stages[relative] = record["provenance"]
    return stages


def build(run_dir: Path, settings: dict, seeds: dict, model_dir: Path | None, data: dict[str, str],
          limit_bytes: int) -> dict:
    files = hash_tree(run_dir, limit_bytes, skip=(MODEL,))
    merged = run_dir / MODEL
    if merged.is_dir():  # merged weights, or an adapter chain (finetune.keep_merged: false)
        files.update({f"{MODEL}/{k}": v for k, v in hash_tree(merged, limit_bytes).items()})
    manifest = {
        "config": settings,
        "config_hash": config_hash(settings),
        "seeds": seeds,
        "files": files,
        "start_model": {"path": str(model_dir), "files": hash_tree(model_dir, limit_bytes)} if model_dir else None,
        "data": {name: {"path": path, "sha256": file_digest(path)} for name, path in sorted(data.items())},
        "provenance": environment(),
        "stages": stage_provenance(run_dir),
    }
    return manifest


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--settings", required=True, help="JSON: the config values that affect this round")
    parser.add_argument("--seeds", required=True, help="JSON: stage -> seed")
    parser.add_argument("--model-dir", type=Path, default=None, help="the model this round started from")
    parser.add_argument("--data", nargs="*", default=[], help="NAME=FILE: benchmark data files")
    parser.add_argument("--hash-limit-mb", type=float, default=1024.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    data = dict(item.split("=", 1) for item in args.data)
    for name, path in data.items():
        if not Path(path).is_file():
            parser.error(f"--data {name}: {path} is not a file")
    manifest = build(args.run_dir, json.loads(args.settings), json.loads(args.seeds), args.model_dir, data,
                     int(args.hash_limit_mb * 2**20))
    write_json(args.out, manifest)
    print(f"manifest {manifest['config_hash'][:12]} ({len(manifest['files'])} files) -> {args.out}")


if __name__ == "__main__":
    run_cli(main)
