"""The LiveCodeBench check that runs *inside the sandbox*: its source text is the head of every check program.

Standard library only. It reproduces the verdict of LiveCodeBench's grader (``testing_util.run_test`` as
``codegen_metrics`` calls it, nvidia-livecodebench 26.3): call-based problems call the function (a LeetCode
``Solution`` method where the code defines that class) on JSON-decoded arguments and compare the result, tuples
read as lists; stdin problems run the whole program with stdin replaced by the test input and compare the printed
lines stripped, line by line, exactly or as decimals. Each test gets ``timeout`` seconds; the first failing test
fails the sample. The host (``livecodebench.py``) wraps stdin programs into a function exactly as the grader does.
"""

import builtins as _gl_builtins
import io as _gl_io
import json as _gl_json
import os as _gl_os
import signal as _gl_signal
import sys as _gl_sys
from decimal import Decimal as _GlDecimal


class _GlTimeout(Exception):
    """An ``Exception``, as LiveCodeBench's own: a solution's bare ``except`` may swallow it there too."""


def _gl_on_alarm(signum, frame):
    raise _GlTimeout


def _gl_guard():
    """The grader's reliability_guard: what it disables, solutions cannot use here either (same verdicts)."""
    _gl_builtins.quit = None
    for name in ("kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork",
                 "forkpty", "killpg", "rename", "renames", "truncate", "replace", "unlink", "fchmod", "fchown",
                 "chmod", "chown", "chroot", "lchflags", "lchmod", "lchown", "getcwd", "chdir"):
        setattr(_gl_os, name, None)
    _gl_builtins.help = None
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        _gl_sys.modules[name] = None


def _gl_decimals(line):
    try:
        return True, [_GlDecimal(item) for item in line.split()]
    except Exception:
        return False, []


def _gl_lines(text):
    return [line.strip() for line in text.strip().split("\n")]


def _gl_same_output(printed, expected):
    got, want = _gl_lines(printed), _gl_lines(expected)
    if len(got) != len(want):
        return False
    for got_line, want_line in zip(got, want, strict=True):
        if got_line == want_line:
            continue
        ok_got, got_numbers = _gl_decimals(got_line)
        ok_want, want_numbers = _gl_decimals(want_line)
        if not (ok_got and ok_want and got_numbers == want_numbers):
            return False
    return True


def _gl_compile(code, timeout):
    namespace = {"__name__": "tmp_sol"}
    _gl_signal.alarm(timeout)
    try:
        exec(code, namespace)
    finally:
        _gl_signal.alarm(0)
    return namespace


def _gl_run_stdio(function, test_input):
    """Call the wrapped program with stdin (and open()) reading ``test_input``; what it printed."""
    text = "\n".join(test_input) if isinstance(test_input, list) else test_input
    real_stdin, real_stdout, real_open = _gl_sys.stdin, _gl_sys.stdout, _gl_builtins.open
    captured = _gl_io.StringIO()
    _gl_sys.stdin, _gl_sys.stdout = _gl_io.StringIO(text), captured
    _gl_builtins.open = lambda *args, **kwargs: _gl_io.StringIO(text)
    try:
        function()
    except SystemExit:
        pass
    finally:
        _gl_sys.stdin, _gl_sys.stdout, _gl_builtins.open = real_stdin, real_stdout, real_open
    return captured.getvalue()


def _gl_lcb_check(code, fn_name, inputs, outputs, timeout):
    """Raise AssertionError at the first test that fails (wrong answer, error, time limit)."""
    _gl_sys.set_int_max_str_digits(50000)
    _gl_signal.signal(_gl_signal.SIGALRM, _gl_on_alarm)
    _gl_guard()
    try:
        namespace = _gl_compile(code, timeout)
        # the grader's test for a LeetCode solution, for stdin programs too
        owner = namespace["Solution"]() if "class Solution" in code else None
        name = "wrapped_function" if fn_name is None else fn_name
        function = getattr(owner, name) if owner is not None else namespace[name]
    except Exception as exc:
        raise AssertionError(f"the program does not load: {type(exc).__name__}") from None
    for index, (test_input, expected) in enumerate(zip(inputs, outputs, strict=True)):
        _gl_signal.alarm(timeout)
        try:
            if fn_name is None:
                printed = _gl_run_stdio(function, test_input)
                _gl_signal.alarm(0)
                passed = _gl_same_output(printed, expected)
            else:
                arguments = [_gl_json.loads(line) for line in test_input.split("\n")]
                prediction = function(*arguments)
                _gl_signal.alarm(0)
                if isinstance(prediction, tuple):
                    prediction = list(prediction)
                passed = bool(prediction == _gl_json.loads(expected))
        except Exception as exc:
            raise AssertionError(f"test {index}: {type(exc).__name__}") from None
        finally:
            _gl_signal.alarm(0)
        if not passed:
            raise AssertionError(f"test {index}: wrong answer")
