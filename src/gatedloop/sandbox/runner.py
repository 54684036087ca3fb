"""Run untrusted generated programs, each in its own process, and report a verdict per program.

Every execution of generated code in gatedloop goes through ``run_programs``; nothing runs in a workflow process.
Each program runs in a process forked from a clean, stdlib-only interpreter (``python -I``: no user site, no
environment hooks; see server.py), in its own session and throwaway working directory, with stdin on
/dev/null, output captured and capped, every other descriptor closed, resource limits (address space, CPU
seconds, file size, open files) and a wall-clock timeout that kills the whole process group.
A program passes only if it exits 0 *and* prints a per-run random token after its tests, so an early
``exit(0)`` is not a pass.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

OUTPUT_CAP = 64 * 1024


def with_tests(code: str, tests: str | list[str] | tuple[str, ...]) -> str:
    """The program that checks ``code``: the code, a blank line, then the tests (asserts), one per line."""
    test_text = tests if isinstance(tests, str) else "\n".join(tests)
    return code + "\n\n" + test_text + "\n"


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 5.0
    memory_mb: int = 1024
    file_size_mb: int = 16
    open_files: int = 64
    processes: int = 32  # RLIMIT_NPROC: enforced when programs run as the sandbox user (docs/benchmarks.md)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    status: str  # pass | fail | timeout | error
    seconds: float
    detail: str = ""


SERVER = Path(__file__).with_name("server.py")
_HEADER = struct.Struct("!I")


class SandboxServer:
    """One clean ``python -I -B`` fork server (see server.py) that runs programs one at a time.

    Forking a child of a small, stdlib-only interpreter costs ~7 ms where starting a fresh interpreter per
    program cost ~42 ms; the child gets the same isolation the fresh interpreter had, and more where the platform
    allows (``isolation``). A program that kills the server gets an error verdict, and the next program gets a new
    server.
    """

    def __init__(self) -> None:
        self.isolation: dict = {}
        self._proc: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-B", str(SERVER)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
                env={"PATH": "/usr/bin:/bin"},
            )
            self.isolation = self._receive()["isolation"]
        return self._proc

    def _receive(self) -> dict:
        header = self._proc.stdout.read(_HEADER.size)
        if len(header) < _HEADER.size:
            raise EOFError
        (length,) = _HEADER.unpack(header)
        return json.loads(self._proc.stdout.read(length))

    def _exchange(self, request: dict) -> dict:
        proc = self._start()
        payload = json.dumps(request).encode()
        proc.stdin.write(_HEADER.pack(len(payload)) + payload)
        proc.stdin.flush()
        return self._receive()

    def run(self, program: str, limits: Limits = Limits()) -> Verdict:
        token = secrets.token_hex(16)
        mib = 1024 * 1024
        request = {
            "program": program, "check_suffix": f"\nprint({token!r})\n",
            "limits": [int(limits.timeout_s) + 1, limits.memory_mb * mib, limits.file_size_mb * mib,
                       limits.open_files, limits.processes],
            "timeout_s": limits.timeout_s, "output_cap": OUTPUT_CAP,
        }
        start = time.perf_counter()
        try:
            reply = self._exchange(request)
        except (EOFError, BrokenPipeError, ValueError):
            self.close()
            return Verdict(False, "error", time.perf_counter() - start, "the sandbox server died")
        return _verdict(reply, token)

    def close(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
            self._proc = None

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def isolation() -> dict:
    """What the sandbox enforces on this machine beyond limits and process groups: network, user."""
    with SandboxServer() as server:
        server._start()
        return dict(server.isolation)


def _verdict(reply: dict, token: str) -> Verdict:
    seconds = reply["seconds"]
    if reply["timed_out"]:
        return Verdict(False, "timeout", seconds, "wall-clock timeout")
    returncode = reply["returncode"]
    if returncode == 0 and reply["stdout"].rstrip().endswith(token):
        return Verdict(True, "pass", seconds)
    err_text = reply["stderr"].strip()
    last_line = err_text.splitlines()[-1] if err_text else f"exit status {returncode}"
    status = "fail" if "AssertionError" in last_line or returncode == 0 else "error"
    return Verdict(False, status, seconds, last_line[:500])


def run_program(program: str, limits: Limits = Limits()) -> Verdict:
    with SandboxServer() as server:
        return server.run(program, limits)


def run_programs(programs: list[str], limits: Limits | Sequence[Limits] = Limits(),
                 workers: int = 1) -> list[Verdict]:
    """Verdicts in input order; ``workers`` programs run at once (match the rule's threads). ``limits`` is one
    for all programs or one per program."""
    per_program = [limits] * len(programs) if isinstance(limits, Limits) else list(limits)
    if len(per_program) != len(programs):
        raise ValueError(f"{len(per_program)} limits for {len(programs)} programs")
    workers = max(1, min(workers, len(programs)))
    servers = [SandboxServer() for _ in range(workers)]
    try:
        if workers == 1:
            return [servers[0].run(p, lim) for p, lim in zip(programs, per_program, strict=True)]
        # Worker k runs programs k, k + workers, ...: each server serves one thread.
        verdicts: list[Verdict | None] = [None] * len(programs)

        def work(k: int) -> None:
            for i in range(k, len(programs), workers):
                verdicts[i] = servers[k].run(programs[i], per_program[i])

        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(work, range(workers)))
        return verdicts  # type: ignore[return-value]
    finally:
        for server in servers:
            server.close()
