"""Fork server for untrusted programs (stdlib only; started by gatedloop.sandbox as ``python -I -B <this file>``).

A fresh ``python -I`` per program cost ~50 ms, mostly interpreter start-up: a third of every scoring job. This
server is that clean interpreter started once; per program it forks a child, which becomes what the old
per-program process was: its own session and process group, a throwaway working directory, stdin on /dev/null,
stdout/stderr to files, a minimal environment, resource limits, every other descriptor closed (so the program
cannot reach this protocol), then the program runs as ``__main__``. The server waits with a wall-clock timeout,
kills the child's whole process group, and reports exit status, output tails and seconds.

Protocol on the server's stdin/stdout: 4-byte big-endian length + UTF-8 JSON, one request then one reply.
Request: {"source", "limits": [cpu_s, address_space_bytes, file_size_bytes, open_files], "timeout_s",
"output_cap"}. Reply: {"returncode", "timed_out", "seconds", "stdout", "stderr"}.
"""

import contextlib
import json
import os
import resource
import select
import shutil
import signal
import struct
import sys
import tempfile
import time

HEADER = struct.Struct("!I")


def read_exactly(fd, n):
    data = b""
    while len(data) < n:
        chunk = os.read(fd, n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def run_child(source, limits, workdir):
    """In the forked child: isolate, limit, run the program as __main__, exit like an interpreter would."""
    os.setsid()
    os.chdir(workdir)
    devnull = os.open(os.devnull, os.O_RDONLY)
    out = os.open("stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err = os.open("stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for fd, target in ((devnull, 0), (out, 1), (err, 2)):
        os.dup2(fd, target)
    os.closerange(3, 1 << 16)  # the protocol pipes and anything else inherited
    cpu, memory, size, files = limits
    for limit, value in ((resource.RLIMIT_CPU, cpu), (resource.RLIMIT_AS, memory), (resource.RLIMIT_FSIZE, size),
                         (resource.RLIMIT_NOFILE, files), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(limit, (value, value))
    os.environ.clear()
    os.environ.update({"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir})
    tempfile.tempdir = None
    if "random" in sys.modules:  # a fresh interpreter seeds from the OS; a fork would repeat the server's state
        sys.modules["random"].seed()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    path = os.path.join(workdir, "program.py")
    sys.argv = [path]
    code = 0
    try:
        exec(compile(source, path, "exec"), {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__})
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    try:
        import atexit

        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code & 0xFF)


def tail(path, cap):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - cap))
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def wait_with_timeout(pid, timeout_s):
    """(wait status, timed out): waits on a pidfd so a fast program costs no polling delay."""
    pidfd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout_s)
    finally:
        os.close(pidfd)
    timed_out = not ready
    if timed_out:
        kill_group(pid)
    _, status = os.waitpid(pid, 0)
    return status, timed_out


def kill_group(pid):
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def run(request):
    workdir = tempfile.mkdtemp(prefix="gatedloop-sandbox-")
    try:
        with open(os.path.join(workdir, "program.py"), "w") as f:
            f.write(request["source"])
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            run_child(request["source"], request["limits"], workdir)
        status, timed_out = wait_with_timeout(pid, request["timeout_s"])
        seconds = time.perf_counter() - start
        kill_group(pid)  # nothing the program started outlives it
        returncode = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
        cap = request["output_cap"]
        return {"returncode": returncode, "timed_out": timed_out, "seconds": seconds,
                "stdout": tail(os.path.join(workdir, "stdout"), cap),
                "stderr": tail(os.path.join(workdir, "stderr"), cap)}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    # Keep the protocol on private descriptors; 0 and 1 become /dev/null so nothing else can write to them.
    requests, replies = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    while True:
        try:
            (length,) = HEADER.unpack(read_exactly(requests, HEADER.size))
            request = json.loads(read_exactly(requests, length))
        except EOFError:
            return
        reply = json.dumps(run(request)).encode()
        write_all(replies, HEADER.pack(len(reply)) + reply)


if __name__ == "__main__":
    main()
