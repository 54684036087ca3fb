"""Fork server for untrusted programs (stdlib only; started by gatedloop.sandbox as ``python -I -B <this file>``).

A fresh ``python -I`` per program cost ~50 ms, mostly interpreter start-up: a third of every scoring job. This
server is that clean interpreter started once; per program it forks a child, which becomes what the old
per-program process was: its own session and process group, a throwaway working directory, stdin on /dev/null,
stdout/stderr to files, a minimal environment, resource limits, every other descriptor closed (so the program
cannot reach this protocol), then the program runs as ``__main__``. The server waits with a wall-clock timeout,
kills the child's whole process group, and reports exit status, output tails and seconds.

Where the platform allows it, more isolation (``isolation()`` reports what holds; docs/benchmarks.md says where):
* network: the server moves itself into a new, empty network namespace at start (``unshare(CLONE_NEWNET)``,
  permitted to root): its children have no interface but a down loopback.
* user: when the server runs as root, each child drops to an unprivileged uid that this server holds alone among
  the live servers on the machine (``claim_uid``: a lock per uid) before the program runs, so it cannot signal or
  ptrace our processes, cannot write where that uid may not, and the process limit (RLIMIT_NPROC, not enforced
  for root) holds; after each program every process of that uid is killed, including ones that left the process
  group with ``setsid()``.

Protocol on the server's stdin/stdout: 4-byte big-endian length + UTF-8 JSON. The server first sends
``{"isolation": {...}}``; then one reply per request. Request: {"program", "check_suffix", "limits": [cpu_s,
address_space_bytes, file_size_bytes, open_files, processes], "timeout_s", "output_cap"}. The program file on
disk holds ``program`` only; ``check_suffix`` (the pass token) is compiled in from memory, so reading the file
does not reveal it. Reply: {"returncode", "timed_out", "seconds", "stdout", "stderr"}.
"""

import atexit
import contextlib
import importlib
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
import traceback

# Imported before any child drops privileges: where the interpreter lives in a directory the sandbox user cannot
# read (a Python under /root), these stay importable. The standard-library modules benchmark solutions and tests
# use (HumanEval, MBPP, LiveCodeBench); anything else imports only if the sandbox user can read it.
PRELOAD = (
    "abc", "array", "bisect", "builtins", "calendar", "cmath", "collections", "collections.abc", "copy", "csv",
    "dataclasses", "datetime", "decimal", "enum", "fractions", "functools", "hashlib", "heapq", "io", "itertools",
    "json", "math", "numbers", "operator", "queue", "random", "re", "statistics", "string", "struct", "sys",
    "textwrap", "threading", "time", "types", "typing", "unicodedata", "linecache",
    "base64", "pickle", "signal",  # the HumanEval+/MBPP+ check (benchmarks/plus_harness.py)
)

HEADER = struct.Struct("!I")
SANDBOX_UID_BASE = 61000  # unused by distributions' system (<1000) and regular (1000-60000) accounts
CLONE_NEWNET = 0x40000000


def claim_uid():
    """(uid, lock descriptor): the first sandbox uid no live server on this machine holds. The lock lives as long
    as this server, so concurrent jobs never share a uid: killing "every process of my uid" after a program, and
    the process limit, concern this server's programs only."""
    import fcntl

    directory = os.path.join(tempfile.gettempdir(), f"gatedloop-sandbox-locks-{os.geteuid()}")
    with contextlib.suppress(FileExistsError):
        os.mkdir(directory, 0o700)
    info = os.lstat(directory)  # not a link, ours, closed to others: programs must not plant lock files
    if not os.path.isdir(directory) or os.path.islink(directory) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise RuntimeError(f"{directory}: not a private directory of uid {os.geteuid()}")
    for uid in range(SANDBOX_UID_BASE, SANDBOX_UID_BASE + 4096):
        fd = os.open(os.path.join(directory, str(uid)), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        return uid, fd
    raise RuntimeError("no free sandbox uid")


def become_subreaper():
    """Orphans of a program (a parent killed before its children) are re-parented to this server, not to init,
    so the server can reap them; some inits never do, and zombies count against the process limit."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def reap(block):
    """Collect exited children; with ``block``, wait for every child (only once all of them were killed)."""
    with contextlib.suppress(ChildProcessError):
        while True:
            pid, _ = os.waitpid(-1, 0 if block else os.WNOHANG)
            if pid == 0:
                return


def isolate_network():
    """Move this process into a new network namespace (no usable interface); True when that worked."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(CLONE_NEWNET) == 0
    except (OSError, AttributeError):
        return False


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


def run_child(program, check_suffix, limits, workdir, uid, out, err):
    """In the forked child: isolate, limit, run the program as __main__, exit like an interpreter would."""
    os.setsid()
    os.chdir(workdir)
    devnull = os.open(os.devnull, os.O_RDONLY)
    for fd, target in ((devnull, 0), (out, 1), (err, 2)):
        os.dup2(fd, target)
    os.closerange(3, 1 << 16)  # the protocol pipes and anything else inherited
    cpu, memory, size, files, processes = limits
    if uid is not None:  # root: become an unprivileged user of our own for the rest of this process's life
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    for limit, value in ((resource.RLIMIT_CPU, cpu), (resource.RLIMIT_AS, memory), (resource.RLIMIT_FSIZE, size),
                         (resource.RLIMIT_NOFILE, files), (resource.RLIMIT_NPROC, processes),
                         (resource.RLIMIT_CORE, 0)):
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
        code_object = compile(program + check_suffix, path, "exec")
        del program, check_suffix
        exec(code_object, {"__name__": "__main__", "__file__": path, "__builtins__": __builtins__})
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException as exc:  # printed as the interpreter would, without this function's frame
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)
        code = 1
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code & 0xFF)


def tail(fd, cap):
    """The last ``cap`` bytes the program wrote, read through our own descriptor (renaming or replacing the file
    by a link changes nothing we read)."""
    size = os.fstat(fd).st_size
    return os.pread(fd, cap, max(0, size - cap)).decode(errors="replace")


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


def kill_user(uid):
    """Kill every process of ``uid``: a helper becomes that user and signals all it may (kill(-1))."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)  # every process of this uid except the caller itself
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def can_read_stdlib(uid):
    """Whether ``uid`` can import from the standard library directory (or only what PRELOAD loaded)."""
    pid = os.fork()
    if pid == 0:
        readable = False
        try:
            os.setgid(uid)
            os.setuid(uid)
            readable = os.access(os.path.dirname(os.__file__), os.R_OK | os.X_OK)
        finally:
            os._exit(0 if readable else 1)
    return os.waitpid(pid, 0)[1] == 0


def run(request, uid):
    workdir = tempfile.mkdtemp(prefix="gatedloop-sandbox-")
    # Output files are unnamed and outside the program's directory: it can write to them, not swap them.
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        try:
            with open(os.path.join(workdir, "program.py"), "w") as f:
                f.write(request["program"])
            if uid is not None:
                os.chown(workdir, uid, uid)
            out, err = out_file.fileno(), err_file.fileno()
            start = time.perf_counter()
            pid = os.fork()
            if pid == 0:
                try:  # the child never returns into the server's loop, whatever happens
                    run_child(request["program"], request["check_suffix"], request["limits"], workdir, uid, out, err)
                finally:
                    os._exit(70)
            status, timed_out = wait_with_timeout(pid, request["timeout_s"])
            seconds = time.perf_counter() - start
            kill_group(pid)  # nothing the program started outlives it
            if uid is not None:
                kill_user(uid)  # not even what left the group with setsid()
            reap(block=uid is not None)
            returncode = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
            cap = request["output_cap"]
            return {"returncode": returncode, "timed_out": timed_out, "seconds": seconds,
                    "stdout": tail(out, cap), "stderr": tail(err, cap)}
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def send(fd, message):
    data = json.dumps(message).encode()
    write_all(fd, HEADER.pack(len(data)) + data)


def main():
    # Keep the protocol on private descriptors; 0 and 1 become /dev/null so nothing else can write to them.
    requests, replies = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    uid = claim_uid()[0] if os.geteuid() == 0 else None
    become_subreaper()
    if uid is not None:
        kill_user(uid)  # leftovers of an earlier server in this slot
    isolation = {"network": "namespace" if isolate_network() else "none",
                 "user": f"uid {uid}" if uid is not None else "same as the caller",
                 "imports": "all" if uid is None or can_read_stdlib(uid) else "preloaded standard library only"}
    send(replies, {"isolation": isolation})
    while True:
        try:
            (length,) = HEADER.unpack(read_exactly(requests, HEADER.size))
            request = json.loads(read_exactly(requests, length))
        except EOFError:
            return
        send(replies, run(request, uid))


if __name__ == "__main__":
    main()
