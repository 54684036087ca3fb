"""The warm-start server runs a stage exactly as a cold process would: same output bytes, same exit status and
error text, signals forwarded; without a server a stage runs cold."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gatedloop.engine.warm import ENV_VAR, WarmServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    warm = WarmServer(tmp_path_factory.mktemp("warm") / "server.log")
    assert warm.wait_ready(timeout_s=120), "the warm-start server did not come up"
    yield warm
    warm.stop()


def _stage(args: list[str], cwd: Path, warm: str | None, **kwargs) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    if warm:
        env[ENV_VAR] = warm
    return subprocess.Popen([sys.executable, "-m", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def test_a_stage_run_warm_writes_the_same_bytes_as_cold(server, tiny_model_dir, tmp_path):
    prompts = tmp_path / "pool.jsonl"
    prompts.write_text("".join(json.dumps({"task_id": f"t{i}", "prompt": f"def f{i}(x):"}) + "\n" for i in range(6)))
    outputs = {}
    for mode, warm in (("cold", None), ("warm", server.path)):
        out = tmp_path / f"{mode}.jsonl"
        proc = _stage(["gatedloop.generate", "--model", str(tiny_model_dir), "--prompts", str(prompts), "--out",
                       str(out), "--seed", "3", "--threads", "1", "--max-new-tokens", "8", "--temperature", "0.8"],
                      tmp_path, warm)
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
        assert "6 samples" in stdout  # the child's stdout reached the client's
        outputs[mode] = out.read_bytes()
    assert outputs["warm"] == outputs["cold"] and outputs["warm"]


def test_exit_status_and_error_text_come_back(server, tmp_path):
    proc = _stage(["gatedloop.generate", "--model", "m"], tmp_path, server.path)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "the following arguments are required" in stderr


def test_an_exception_in_the_stage_is_a_failure_with_its_traceback(server, tmp_path):
    missing = tmp_path / "missing.jsonl"
    proc = _stage(["gatedloop.corpus", "--tasks", str(missing), "--out", str(tmp_path / "c.jsonl")], tmp_path,
                  server.path)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "Traceback" in stderr and "missing.jsonl" in stderr


def test_without_an_answering_server_the_stage_runs_cold(tmp_path):
    proc = _stage(["gatedloop.microtasks", "--help"], tmp_path, str(tmp_path / "no-such-socket"))
    stdout, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "usage" in stdout


def test_terminating_the_client_terminates_the_stage(server, tiny_model_dir, tmp_path):
    docs = tmp_path / "corpus.jsonl"
    docs.write_text(json.dumps({"source": "microtask", "name": "t", "text": "def f(x):\n    return x\n" * 50}) + "\n")
    before = set(_children(server.process.pid))  # earlier tests' children the server has not reaped yet
    proc = _stage(["gatedloop.pretrain", "--corpus", str(docs), "--tokenizer", str(tiny_model_dir), "--out",
                   str(tmp_path / "model"), "--steps", "100000", "--threads", "1"], tmp_path, server.path)
    deadline = time.monotonic() + 60
    while not set(_children(server.process.pid)) - before and time.monotonic() < deadline:
        time.sleep(0.1)
    (child,) = set(_children(server.process.pid)) - before
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    deadline = time.monotonic() + 30
    while os.path.exists(f"/proc/{child}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{child}") or Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"


@pytest.mark.parametrize("delay_s", [0.0, 0.3, 0.6, 1.0])
def test_a_signal_at_any_moment_of_the_hand_over_ends_both_processes(server, tiny_model_dir, tmp_path, delay_s):
    """Snakemake may cancel a job while the client is still connecting or the server is still forking."""
    docs = tmp_path / "corpus.jsonl"
    docs.write_text(json.dumps({"source": "microtask", "name": "t", "text": "def f(x):\n    return x\n" * 50}) + "\n")
    before = set(_children(server.process.pid))
    proc = _stage(["gatedloop.pretrain", "--corpus", str(docs), "--tokenizer", str(tiny_model_dir), "--out",
                   str(tmp_path / "model"), "--steps", "100000", "--threads", "1"], tmp_path, server.path)
    time.sleep(delay_s)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    deadline = time.monotonic() + 30
    while set(_children(server.process.pid)) - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not set(_children(server.process.pid)) - before, "a stage outlived its cancelled client"


def test_stop_removes_the_socket(tmp_path):
    warm = WarmServer(tmp_path / "log")
    assert warm.wait_ready(timeout_s=120)
    warm.stop()
    assert not os.path.exists(warm.path) and warm.process.poll() is not None
