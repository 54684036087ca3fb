"""Long stages resume inside: a pre-training or fine-tuning process killed with SIGKILL mid-way continues from its
last checkpoint (steps done before the kill are not redone) and ends bit-for-bit where an uninterrupted run ends.
A checkpoint made by other settings is ignored, never resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from gatedloop.data import task_families as microtasks


def start(module: str, args: list[str], log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "GATEDLOOP_WARM"}
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", module, *args], stdout=out, stderr=subprocess.STDOUT, env=env)


def kill_after_first_checkpoint(process: subprocess.Popen, checkpoint: Path, timeout_s: float = 300) -> int:
    """SIGKILL the process as soon as a checkpoint exists; return the steps it records as done."""
    deadline = time.monotonic() + timeout_s
    while not checkpoint.exists():
        assert process.poll() is None, "the process ended before its first checkpoint"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    return torch.load(checkpoint, map_location="cpu", weights_only=False)["step"]


def finish(process: subprocess.Popen, log: Path) -> str:
    assert process.wait(timeout=600) == 0, log.read_text()[-3000:]
    return log.read_text()


def same_weights(a: Path, b: Path) -> bool:
    left, right = load_file(a), load_file(b)
    return left.keys() == right.keys() and all(torch.equal(left[k], right[k]) for k in left)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from gatedloop.models.scratch import train_tokenizer

    directory = tmp_path_factory.mktemp("corpus")
    docs = [{"source": "microtask", "text": t.prompt + t.canonical_solution} for t in microtasks.all_tasks()]
    (directory / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    train_tokenizer([d["text"] for d in docs], vocab_size=400).save_pretrained(directory / "tokenizer")
    return directory


PRETRAIN = ["--steps", "300", "--batch-size", "8", "--seq-len", "64", "--n-embd", "64", "--n-layer", "2",
            "--n-head", "2", "--n-positions", "128", "--threads", "1"]


def test_a_killed_pretraining_resumes_from_its_checkpoint_and_ends_identical(corpus, tmp_path):
    base = ["--corpus", str(corpus / "corpus.jsonl"), "--tokenizer", str(corpus / "tokenizer"), *PRETRAIN]
    finish(start("gatedloop.pretrain", [*base, "--out", str(tmp_path / "whole")], tmp_path / "whole.log"),
           tmp_path / "whole.log")

    checkpoints = tmp_path / "checkpoints"
    args = [*base, "--out", str(tmp_path / "resumed"), "--checkpoint-dir", str(checkpoints), "--checkpoint-every", "40"]
    done = kill_after_first_checkpoint(start("gatedloop.pretrain", args, tmp_path / "a.log"),
                                       checkpoints / "checkpoint.pt")
    assert 0 < done < 300 and not (tmp_path / "resumed").exists()
    log = finish(start("gatedloop.pretrain", args, tmp_path / "b.log"), tmp_path / "b.log")
    assert f"resuming from checkpoint {checkpoints} at step {done}" in log
    assert same_weights(tmp_path / "whole/model.safetensors", tmp_path / "resumed/model.safetensors")
    assert not checkpoints.exists()  # removed once the output is complete


def test_a_checkpoint_of_other_settings_is_not_resumed(corpus, tmp_path):
    base = ["--corpus", str(corpus / "corpus.jsonl"), "--tokenizer", str(corpus / "tokenizer"), *PRETRAIN]
    checkpoints = tmp_path / "checkpoints"
    other = [*base, "--lr", "0.01", "--out", str(tmp_path / "other"), "--checkpoint-dir", str(checkpoints),
             "--checkpoint-every", "40"]
    kill_after_first_checkpoint(start("gatedloop.pretrain", other, tmp_path / "a.log"), checkpoints / "checkpoint.pt")
    args = [*base, "--out", str(tmp_path / "mine"), "--checkpoint-dir", str(checkpoints), "--checkpoint-every", "1000"]
    log = finish(start("gatedloop.pretrain", args, tmp_path / "b.log"), tmp_path / "b.log")
    assert "made by other settings or inputs: starting over" in log and "resuming" not in log
    finish(start("gatedloop.pretrain", [*base, "--out", str(tmp_path / "whole")], tmp_path / "c.log"),
           tmp_path / "c.log")
    assert same_weights(tmp_path / "whole/model.safetensors", tmp_path / "mine/model.safetensors")


FULL_PACKED = ("--method", "full", "--packing", "true", "--max-len", "32", "--grad-accum", "2", "--lr", "0.001",
               "--weight-decay", "0.05", "--round", "1")


@pytest.mark.parametrize("method", [(), FULL_PACKED], ids=["lora", "full-packed"])
def test_a_killed_finetuning_resumes_from_its_checkpoint_and_ends_identical(tiny_model_dir, tmp_path, method):
    tasks = microtasks.all_tasks()[:40]
    samples = [{"id": f"{t.task_id}#0", "prompt_id": t.task_id, "prompt": t.prompt, "completion": t.canonical_solution}
               for t in tasks]
    decisions = [{"id": s["id"], "prompt_id": s["prompt_id"], "score": 1.0, "accepted": True, "reason": ""}
                 for s in samples]
    (tmp_path / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    (tmp_path / "decisions.jsonl").write_text("".join(json.dumps(d) + "\n" for d in decisions))

    def args(name: str, *extra: str) -> list[str]:
        return ["--model", str(tiny_model_dir), "--samples", str(tmp_path / "samples.jsonl"), "--decisions",
                str(tmp_path / "decisions.jsonl"), "--out-model", str(tmp_path / name / "model"), "--out-adapter",
                str(tmp_path / name / "adapter"), "--out-stats", str(tmp_path / name / "finetune.json"),
                "--steps", "150", "--batch-size", "4", "--threads", "1", "--seed", "3", *method, *extra]

    finish(start("gatedloop.finetune", args("whole"), tmp_path / "whole.log"), tmp_path / "whole.log")
    checkpoints = tmp_path / "checkpoints"
    resumable = args("resumed", "--checkpoint-dir", str(checkpoints), "--checkpoint-every", "20")
    done = kill_after_first_checkpoint(start("gatedloop.finetune", resumable, tmp_path / "a.log"),
                                       checkpoints / "checkpoint.pt")
    assert 0 < done < 150
    log = finish(start("gatedloop.finetune", resumable, tmp_path / "b.log"), tmp_path / "b.log")
    assert f"at step {done}" in log
    weights = ["model/model.safetensors"] + ([] if method else ["adapter/adapter_model.safetensors"])
    for name in weights:
        assert same_weights(tmp_path / "whole" / name, tmp_path / "resumed" / name), name
    stats = [json.loads((tmp_path / run / "finetune.json").read_text()) for run in ("whole", "resumed")]
    assert stats[0]["history"] == stats[1]["history"] and stats[0]["trained"] == stats[1]["trained"]
    assert not checkpoints.exists()
