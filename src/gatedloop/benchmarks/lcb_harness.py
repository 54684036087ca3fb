"""The LiveCodeBench check that runs *inside the sandbox*: its source text is the head of every check program.

Standard library only. It reproduces the verdict of LiveCodeBench's grader (``testing_util.run_test`` as
``codegen_metrics`` calls it, nvidia-livecodebench 26.3): call-based problems call the function (a LeetCode
``Solution`` method where the code defines that class) on JSON-decoded arguments and compare the result, tuples
read as lists; stdin problems run the whole program with stdin replaced by the test input and compare the printed
lines stripped, line by line, exactly or as decimals. Each test gets ``timeout`` seconds; the first failing test
fails the sample. The host (``lcb.py``) wraps stdin programs into a function exactly as the grader does.

Everything lives inside ``_gl_lcb_checker()``, built before the program runs, so rebinding ``__main__`` names or
builtins cannot change the comparison.
"""


def _gl_lcb_checker():
    import builtins
    import io
    import json
    import os
    import signal
    import sys
    from decimal import Decimal

    alarm, bool_, exception, exec_, isinstance_, len_, list_, tuple_, zip_ = (
        signal.alarm, bool, Exception, builtins.exec, isinstance, len, list, tuple, zip)
    assertion_error, system_exit, string_io, json_loads = AssertionError, SystemExit, io.StringIO, json.loads
    enumerate_, getattr_, type_ = enumerate, getattr, type

    class Timeout(Exception):
        """An ``Exception``, as LiveCodeBench's own: a solution's bare ``except`` may swallow it there too."""

    def on_alarm(signum, frame):
        raise Timeout

    def guard():
        """The grader's reliability_guard: what it disables, programs cannot use here either (same verdicts)."""
        builtins.quit = None
        for name in ("kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork",
                     "forkpty", "killpg", "rename", "renames", "truncate", "replace", "unlink", "fchmod", "fchown",
                     "chmod", "chown", "chroot", "lchflags", "lchmod", "lchown", "getcwd", "chdir"):
            setattr(os, name, None)
        builtins.help = None
        for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
            sys.modules[name] = None

    def decimals(line):
        try:
            return True, [Decimal(item) for item in line.split()]
        except exception:
            return False, []

    def stripped_lines(text):
        return [line.strip() for line in text.strip().split("\n")]

    def same_output(printed, expected):
        got, want = stripped_lines(printed), stripped_lines(expected)
        if len_(got) != len_(want):
            return False
        for got_line, want_line in zip_(got, want, strict=True):
            if got_line == want_line:
                continue
            ok_got, got_numbers = decimals(got_line)
            ok_want, want_numbers = decimals(want_line)
            if not (ok_got and ok_want and got_numbers == want_numbers):
                return False
        return True

    def load(code, timeout):
        namespace = {"__name__": "tmp_sol"}
        alarm(timeout)
        try:
            exec_(code, namespace)
        finally:
            alarm(0)
        return namespace

    def run_stdio(function, test_input):
        """Call the wrapped program with stdin (and open()) reading ``test_input``; what it printed."""
        text = "\n".join(test_input) if isinstance_(test_input, list_) else test_input
        real_stdin, real_stdout, real_open = sys.stdin, sys.stdout, builtins.open
        captured = string_io()
        sys.stdin, sys.stdout = string_io(text), captured
        builtins.open = lambda *args, **kwargs: string_io(text)
        try:
            function()
        except system_exit:
            pass
        finally:
            sys.stdin, sys.stdout, builtins.open = real_stdin, real_stdout, real_open
        return captured.getvalue()

    def check(code, fn_name, inputs, outputs, timeout):
        """Raise AssertionError at the first test that fails (wrong answer, error, time limit)."""
        sys.set_int_max_str_digits(50000)
        signal.signal(signal.SIGALRM, on_alarm)
        guard()
        try:
            namespace = load(code, timeout)
            # the grader's test for a LeetCode solution, for stdin programs too
            owner = namespace["Solution"]() if "class Solution" in code else None
            name = "wrapped_function" if fn_name is None else fn_name
            function = getattr_(owner, name) if owner is not None else namespace[name]
        except exception as exc:
            raise assertion_error(f"the program does not load: {type_(exc).__name__}") from None
        for index, (test_input, expected) in enumerate_(zip_(inputs, outputs, strict=True)):
            alarm(timeout)
            try:
                if fn_name is None:
                    printed = run_stdio(function, test_input)
                    alarm(0)
                    passed = same_output(printed, expected)
                else:
                    arguments = [json_loads(line) for line in test_input.split("\n")]
                    prediction = function(*arguments)
                    alarm(0)
                    if isinstance_(prediction, tuple_):
                        prediction = list_(prediction)
                    passed = bool_(prediction == json_loads(expected))
            except exception as exc:
                raise assertion_error(f"test {index}: {type_(exc).__name__}") from None
            finally:
                alarm(0)
            if not passed:
                raise assertion_error(f"test {index}: wrong answer")

    return check
