"""Resumable training: long stages (pre-training, fine-tuning) save their state every few steps, so a job killed
mid-way (a preempted node, a cancelled run) continues from its last checkpoint instead of starting over.

Checkpoints live outside the job's declared outputs (``results/checkpoints/...``): Snakemake deletes a failed or
killed job's outputs before rerunning it, and would delete a checkpoint kept there. A checkpoint records a key,
the hash of everything that determines the training (settings, seed, input file contents); one whose key differs
is ignored (and said so), never resumed. It holds the model, optimizer and random-generator states, so a resumed
run ends bit-for-bit where an uninterrupted one would. Saved to a temporary name and renamed; removed when the
stage's own output is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path


def file_digest(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_fingerprint(path: str | os.PathLike) -> list | str:
    """A model directory's file names, sizes and modification times: cheap for a 14 GB model, and any rewrite of
    it changes the fingerprint (a hub id is its own fingerprint)."""
    path = Path(path)
    if not path.is_dir():
        return str(path)
    return [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(path.iterdir()) if p.is_file()]


def run_key(settings: dict, inputs: list[str | os.PathLike]) -> str:
    """What makes two trainings the same: their settings and the bytes of their input files."""
    files = {str(Path(p).name): file_digest(p) for p in inputs if Path(p).is_file()}
    blob = json.dumps({"settings": settings, "inputs": files}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class Checkpointer:
    """``every`` steps, ``save(step, state)`` keeps one checkpoint in ``directory``; ``load()`` returns it or None."""

    FILE = "checkpoint.pt"

    def __init__(self, directory: str | os.PathLike | None, key: str, every: int):
        self.directory = Path(directory) if directory else None
        self.key = key
        self.every = every

    @property
    def enabled(self) -> bool:
        return self.directory is not None and self.every > 0

    def due(self, steps_done: int, total: int) -> bool:
        return self.enabled and steps_done < total and steps_done % self.every == 0

    def load(self) -> dict | None:
        import torch

        if not self.enabled or not (self.directory / self.FILE).is_file():
            return None
        state = torch.load(self.directory / self.FILE, map_location="cpu", weights_only=False)
        if state.get("key") != self.key:
            print(f"checkpoint {self.directory} was made by other settings or inputs: starting over", flush=True)
            return None
        print(f"resuming from checkpoint {self.directory} at step {state['step']}", flush=True)
        return state

    def save(self, step: int, state: dict) -> None:
        import torch

        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.directory / f".{self.FILE}.partial"
        torch.save({**state, "step": step, "key": self.key}, partial)
        os.replace(partial, self.directory / self.FILE)

    def clear(self) -> None:
        if self.enabled:
            shutil.rmtree(self.directory, ignore_errors=True)


def rng_state(generator=None) -> dict:
    import random

    import numpy as np
    import torch

    state = {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()}
    if generator is not None:
        state["generator"] = generator.get_state()
    return state


def restore_rng(state: dict, generator=None) -> None:
    import random

    import numpy as np
    import torch

    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    if generator is not None:
        generator.set_state(state["generator"])
