"""Run untrusted generated programs, each in its own process, and report a verdict per program.

Every execution of generated code in gatedloop goes through ``run_programs``; nothing runs in a workflow process.
Each program gets a fresh interpreter (``python -I``: no user site, no environment hooks) in its own process
group and throwaway working directory, with stdin closed, output captured and capped, resource limits
(address space, CPU seconds, file size, open files) and a wall-clock timeout that kills the whole group.
A program passes only if it exits 0 *and* prints a per-run random token after its tests, so an early
``exit(0)`` is not a pass.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Verdict:
    passed: bool
    status: str  # pass | fail | timeout | error
    seconds: float
    detail: str = ""


# Limits are set by a tiny bootstrap inside the child rather than by ``preexec_fn``, which is unsafe in a
# threaded parent (we run several programs at once from a thread pool).
BOOTSTRAP = """
import resource, runpy, sys
cpu, memory, size, files = map(int, sys.argv[1:5])
for limit, value in ((resource.RLIMIT_CPU, cpu), (resource.RLIMIT_AS, memory),
                     (resource.RLIMIT_FSIZE, size), (resource.RLIMIT_NOFILE, files), (resource.RLIMIT_CORE, 0)):
    resource.setrlimit(limit, (value, value))
path = sys.argv[5]
sys.argv = [path]
runpy.run_path(path, run_name="__main__")
"""


def _command(limits: Limits, path: str) -> list[str]:
    mib = 1024 * 1024
    numbers = (int(limits.timeout_s) + 1, limits.memory_mb * mib, limits.file_size_mb * mib, limits.open_files)
    return [sys.executable, "-I", "-B", "-c", BOOTSTRAP, *map(str, numbers), path]


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def run_program(program: str, limits: Limits = Limits()) -> Verdict:
    token = secrets.token_hex(16)
    source = program + f"\nprint({token!r})\n"
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gatedloop-sandbox-") as workdir:
        path = os.path.join(workdir, "program.py")
        with open(path, "w") as f:
            f.write(source)
        proc = subprocess.Popen(
            _command(limits, path), cwd=workdir, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            env={"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir},
        )
        try:
            out, err = proc.communicate(timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            return Verdict(False, "timeout", time.perf_counter() - start, "wall-clock timeout")
        finally:
            _kill_group(proc)  # nothing the program started outlives it
    seconds = time.perf_counter() - start
    out_text = out[-OUTPUT_CAP:].decode(errors="replace")
    if proc.returncode == 0 and out_text.rstrip().endswith(token):
        return Verdict(True, "pass", seconds)
    err_text = err[-OUTPUT_CAP:].decode(errors="replace").strip()
    last_line = err_text.splitlines()[-1] if err_text else f"exit status {proc.returncode}"
    status = "fail" if "AssertionError" in last_line or proc.returncode == 0 else "error"
    return Verdict(False, status, seconds, last_line[:500])


def run_programs(programs: list[str], limits: Limits = Limits(), workers: int = 1) -> list[Verdict]:
    """Verdicts in input order; ``workers`` programs run at once (match the rule's threads)."""
    if workers <= 1:
        return [run_program(p, limits) for p in programs]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda p: run_program(p, limits), programs))
