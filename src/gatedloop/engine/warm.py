"""Warm start for local runs: import torch and transformers once, not once per job.

A local run of the embedded world is ~150 short jobs, and each `python -m gatedloop.<stage>` spends ~6 s of CPU
importing torch, transformers and peft before it does ~2-8 s of work. On 2 cores that start-up alone was a third
of the run. This is the mechanism of ``multiprocessing``'s forkserver with preload (and Android's zygote):

* ``python -m gatedloop.engine.warm --socket PATH`` imports the heavy libraries (imports only: no tensor op runs, so no
  thread pool exists when it forks), then listens on a Unix socket.
* A stage CLI started by Snakemake, when ``GATEDLOOP_WARM`` names that socket, sends its argv, working directory,
  environment and its stdin/stdout/stderr file descriptors, and waits. The server forks; the child takes those
  descriptors, directory and environment and runs the stage's ``main()`` exactly as the cold process would
  (threads and seeds are set by the stage itself), then reports the exit status, which the client exits with.
* Signals to the client (Snakemake cancelling a job) are forwarded to the child; a child whose client has died
  exits. The server exits when Snakemake, its parent, is gone, or after an idle timeout.

Without the variable, or when the socket does not answer, a stage runs cold in its own process: results are the
same either way (tested). The Snakefile starts the server only for local, non-dry runs; cluster jobs run cold.
Snakemake's ``benchmark:`` files then time the client: wall time is right, CPU and memory columns are not.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

ENV_VAR = "GATEDLOOP_WARM"
PRELOAD = (
    "numpy", "torch", "tokenizers", "transformers", "transformers.models.gpt2.modeling_gpt2", "peft",
    "gatedloop.generate", "gatedloop.gate", "gatedloop.finetune", "gatedloop.score", "gatedloop.audit",
    "gatedloop.backends.transformers_backend", "gatedloop.models.loading", "gatedloop.analyze",
    "gatedloop.gates.self_gates",
    "pandas", "matplotlib", "matplotlib.pyplot", "gatedloop.figures", "gatedloop.aggregate", "gatedloop.manifest",
    "gatedloop.core.checkpoint",
)
# transformers resolves these lazily on first attribute access; touching them moves that import into the server.
PRELOAD_ATTRIBUTES = (
    ("transformers", "AutoModelForCausalLM"), ("transformers", "PreTrainedTokenizerFast"),
    ("transformers", "GPT2LMHeadModel"), ("transformers", "GPT2Config"), ("peft", "LoraConfig"),
    ("peft", "get_peft_model"), ("peft", "PeftModel"),
)
_HEADER = struct.Struct("!I")
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


# ---------------------------------------------------------------------------------------------- client side


def run_cli(main: Callable[[], None]) -> None:
    """Entry point of a stage module: ``if __name__ == "__main__": run_cli(main)``."""
    path = os.environ.get(ENV_VAR)
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    if path and spec is not None:
        code = _delegate(path, spec.name)
        if code is not None:
            sys.exit(code)
    main()


def _delegate(path: str, module: str) -> int | None:
    """The stage's exit status as run by the server, or None when no server answers (the caller runs cold)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    request = json.dumps({"module": module, "argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ)})
    payload = request.encode()
    # A signal that arrives before the child's pid is known is held, then forwarded once it is: otherwise a
    # cancellation in that window would kill this client and leave the stage running.
    signal.pthread_sigmask(signal.SIG_BLOCK, _FORWARDED)
    try:
        socket.send_fds(sock, [_HEADER.pack(len(payload)) + payload], [0, 1, 2])
        replies = sock.makefile("r")
        first = replies.readline()
        if not first:
            return None  # the server refused (shutting down): run cold
        child = json.loads(first)["pid"]
        forwarded = _forward_signals(child)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _FORWARDED)
    try:
        last = replies.readline()
    finally:
        for sig, handler in forwarded.items():
            signal.signal(sig, handler)
        sock.close()
    if not last:
        print(f"gatedloop.engine.warm: the stage process {child} died without an exit status", file=sys.stderr)
        return 1
    return int(json.loads(last)["exit"])


def _forward_signals(pid: int) -> dict:
    def forward(sig, _frame):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)

    return {sig: signal.signal(sig, forward) for sig in _FORWARDED}


# ---------------------------------------------------------------------------------------------- server side


def preload() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in PRELOAD:
        importlib.import_module(name)
    for module, attribute in PRELOAD_ATTRIBUTES:
        getattr(sys.modules[module], attribute)


def _read_request(conn: socket.socket) -> tuple[dict, list[int]] | None:
    """The request and its descriptors, or None for a readiness probe (a connection that sends nothing)."""
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 3)
    if not data and not fds:
        return None
    if len(data) < _HEADER.size:
        raise ConnectionError("short request")
    (length,) = _HEADER.unpack_from(data)
    body = data[_HEADER.size:]
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            raise ConnectionError("truncated request")
        body += chunk
    return json.loads(body), fds


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)  # sys.exit("message") prints the message and exits 1
    return 1


def _die_with_client(conn: socket.socket) -> None:
    """Watch the client's connection: it sends nothing after the request, so EOF means the client is gone."""
    with contextlib.suppress(OSError):
        conn.recv(1)
    os._exit(143)


def _run_child(conn: socket.socket, request: dict, fds: list[int]) -> None:
    """In the forked child: become the stage process the client would have been, run it, report, exit."""
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # Blocked since before the fork: a signal forwarded in that window is delivered now, to the stage's handlers,
    # never to the server's (whose SIGTERM handler would unwind the server's loop inside the child).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _FORWARDED)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = list(request["argv"])
    threading.Thread(target=_die_with_client, args=(conn,), daemon=True).start()
    code = 0
    try:
        importlib.import_module(request["module"]).main()
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException:  # noqa: BLE001 - report it as the cold process would, then exit 1
        traceback.print_exc()
        code = 1
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
    os._exit(code)


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def serve(path: str, parent: int | None, idle_timeout_s: float) -> None:
    preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    listener.settimeout(1.0)
    print(f"gatedloop.engine.warm: ready on {path} (pid {os.getpid()})", flush=True)
    last_request = time.monotonic()
    try:
        while True:
            _reap()
            if parent is not None and os.getppid() != parent:
                break
            if time.monotonic() - last_request > idle_timeout_s:
                break
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            last_request = time.monotonic()
            conn.settimeout(None)
            try:
                received = _read_request(conn)
            except (OSError, ValueError) as err:
                print(f"gatedloop.engine.warm: bad request: {err}", file=sys.stderr, flush=True)
                received = None
            if received is None:
                conn.close()
                continue
            request, fds = received
            sys.stdout.flush()
            sys.stderr.flush()
            signal.pthread_sigmask(signal.SIG_BLOCK, _FORWARDED)
            pid = os.fork()
            if pid == 0:
                listener.close()
                _run_child(conn, request, fds)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _FORWARDED)
            conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
            print(f"gatedloop.engine.warm: {request['module']} -> pid {pid}", flush=True)
            for fd in fds:
                os.close(fd)
            conn.close()
    finally:
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


# ------------------------------------------------------------------------------------- starting and stopping


class WarmServer:
    """A server for the lifetime of one Snakemake run (started in ``onstart``, stopped on exit)."""

    def __init__(self, log_path: str | os.PathLike, idle_timeout_s: float = 1800):
        self.directory = tempfile.mkdtemp(prefix="gatedloop-warm-")  # Unix socket paths must stay short
        self.path = os.path.join(self.directory, "socket")
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "gatedloop.engine.warm", "--socket", self.path, "--parent", str(os.getpid()),
                   "--idle-timeout-s", str(idle_timeout_s)]
        with open(log_path, "a") as log:  # the server keeps its own descriptor
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_ready(self, timeout_s: float = 60) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.process.poll() is None:
            with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.connect(self.path)
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            if self.process.poll() is None:
                self.process.kill()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.rmdir(self.directory)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True, help="Unix socket path to listen on")
    parser.add_argument("--parent", type=int, default=None, help="exit when this process is no longer the parent")
    parser.add_argument("--idle-timeout-s", type=float, default=1800.0)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(args.socket, args.parent, args.idle_timeout_s)


if __name__ == "__main__":
    main()
