"""The HumanEval+/MBPP+ check that runs *inside the sandbox*: its source text is the head of every check program.

Standard library only (the sandbox imports nothing else). It reproduces evalplus 0.3.1's verdict
(``evalplus.eval.unsafe_execute`` + ``untrusted_check``): the solution is executed in an empty namespace with
output swallowed; each input gets its own time limit, max(1 s, 4 x the reference time); the output is compared
exactly, then through the special oracles, then with numpy.allclose(rtol=1e-7) semantics where a tolerance applies.
Any exception fails. The host (``plus.py``) computes the expected outputs with evalplus's ``trusted_exec`` and
embeds them, pickled, so nothing the solution does can change what it is compared with.

``_gl_check`` raises AssertionError on the first failing input; the sandbox's token (appended after the call)
is printed only when every input of every phase passed.
"""

import base64 as _gl_base64
import io as _gl_io
import math as _gl_math
import pickle as _gl_pickle
import signal as _gl_signal
import sys as _gl_sys
import time as _gl_time


class _GlTimeout(BaseException):
    """One input ran past its time limit (a BaseException, so a bare ``except Exception`` cannot swallow it)."""


class _GlSink(_gl_io.StringIO):
    """Swallowed output: writes are accepted and dropped; reading is an error (like evalplus's swallow_io)."""

    def write(self, text):
        return len(text)

    def read(self, *args):
        raise OSError("stdin is closed")

    readline = readlines = read


def _gl_on_alarm(signum, frame):
    raise _GlTimeout


def _gl_is_floats(value):
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(item, float) for item in value)
    return False


def _gl_shape(value):
    """(shape, flat numbers) of a rectangular nest of lists/tuples of numbers, as numpy.asarray would see it."""
    if isinstance(value, (list, tuple)):
        parts = [_gl_shape(item) for item in value]
        if any(shape != parts[0][0] for shape, _ in parts[1:]):
            raise ValueError("ragged")
        inner = parts[0][0] if parts else ()
        return (len(value),) + inner, [number for _, flat in parts for number in flat]
    if isinstance(value, (bool, int, float, complex)):
        return (), [value]
    raise TypeError(f"not a number: {type(value).__name__}")


def _gl_broadcast_index(shape, full_shape):
    """Map an index of the broadcast shape to a flat index of an array of ``shape`` (numpy's rules)."""
    offset = len(full_shape) - len(shape)
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    strides.reverse()

    def flat_index(index):
        return sum((0 if shape[k] == 1 else index[k + offset]) * strides[k] for k in range(len(shape)))

    return flat_index


def _gl_isclose(x, y, rtol, atol):
    if isinstance(x, complex) or isinstance(y, complex):
        finite = _gl_math.isfinite(abs(x)) and _gl_math.isfinite(abs(y))
    else:
        finite = _gl_math.isfinite(x) and _gl_math.isfinite(y)
    if not finite:
        return x == y  # equal infinities are close; nan never is
    return abs(x - y) <= atol + rtol * abs(y)


def _gl_allclose(out, exp, rtol, atol):
    """numpy.allclose(out, exp, rtol, atol) on Python numbers and (nested) lists/tuples of them."""
    shape_out, flat_out = _gl_shape(out)
    shape_exp, flat_exp = _gl_shape(exp)
    rank = max(len(shape_out), len(shape_exp))
    padded_out = (1,) * (rank - len(shape_out)) + shape_out
    padded_exp = (1,) * (rank - len(shape_exp)) + shape_exp
    full = []
    for a, b in zip(padded_out, padded_exp, strict=True):
        if a != b and 1 not in (a, b):
            raise ValueError("shapes do not broadcast")
        full.append(b if a == 1 else a)
    index_out = _gl_broadcast_index(shape_out, full)
    index_exp = _gl_broadcast_index(shape_exp, full)
    total = 1
    for size in full:
        total *= size
    for flat in range(total):
        index, rest = [], flat
        for size in reversed(full):
            index.append(rest % size)
            rest //= size
        index.reverse()
        if not _gl_isclose(flat_out[index_out(index)], flat_exp[index_exp(index)], rtol, atol):
            return False
    return True


def _gl_poly(xs, x):
    return sum([coeff * _gl_math.pow(x, i) for i, coeff in enumerate(xs)])


def _gl_matches(out, exp, inp, alt, oracle, atol):
    """(passed, atol): one output against its expected value; atol may become 1e-6 for the rest of the phase."""
    exact_match = out == exp
    if oracle == "are_equivalent":
        exact_match = exact_match or True
    elif oracle == "sum_div":
        exact_match = exact_match or out == 0
    elif oracle == "alt_close":  # surface_Area: the expected value of another reading of the task
        exact_match = exact_match or abs(out - alt) <= atol
    elif oracle == "alt_equal":  # digit_distance_nums
        exact_match = exact_match or out == alt
    elif oracle == "set_eq":
        exact_match = set(out) == set(exp)
    elif oracle == "not_none":
        exact_match = out == exp if isinstance(out, bool) else exp == (out is not None)
    elif oracle == "find_zero":
        return abs(_gl_poly(*inp, out)) <= atol, atol
    if atol == 0 and _gl_is_floats(exp):
        atol = 1e-6
    if not exact_match and atol != 0:
        if type(out) is not type(exp):
            return False, atol
        if isinstance(exp, (list, tuple)) and len(out) != len(exp):
            return False, atol
        return bool(_gl_allclose(out, exp, 1e-07, atol)), atol
    return bool(exact_match), atol


def _gl_check(solution, payload, entry_point, atol, oracle):
    """Run ``solution`` on every phase's inputs; raise AssertionError naming the first failure."""
    phases = _gl_pickle.loads(_gl_base64.b64decode(payload))
    real = _gl_sys.stdin, _gl_sys.stdout, _gl_sys.stderr
    _gl_signal.signal(_gl_signal.SIGALRM, _gl_on_alarm)
    namespace = {}
    try:
        _gl_sys.stdin = _gl_sys.stdout = _gl_sys.stderr = _GlSink()
        exec(solution, namespace)
        function = namespace[entry_point]
    except BaseException as exc:
        _gl_sys.stdin, _gl_sys.stdout, _gl_sys.stderr = real
        raise AssertionError(f"the solution does not define {entry_point}: {type(exc).__name__}") from None
    for phase_name, inputs, expected, alternatives, limits in phases:
        phase_atol = atol
        # evalplus gives each phase min(60 s, sum of the limits) + 2 s in all, then calls it a timeout
        deadline = _gl_time.monotonic() + min(60.0, sum(limits)) + 2.0
        for i, inp in enumerate(inputs):
            remaining = deadline - _gl_time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{phase_name}: time limit of the phase")
            try:
                _gl_sys.stdin = _gl_sys.stdout = _gl_sys.stderr = _GlSink()
                _gl_signal.setitimer(_gl_signal.ITIMER_REAL, min(limits[i], remaining))
                try:
                    out = function(*inp)
                finally:
                    _gl_signal.setitimer(_gl_signal.ITIMER_REAL, 0)
                    _gl_sys.stdin, _gl_sys.stdout, _gl_sys.stderr = real
                passed, phase_atol = _gl_matches(out, expected[i], inp, alternatives[i], oracle, phase_atol)
            except BaseException as exc:
                _gl_sys.stdin, _gl_sys.stdout, _gl_sys.stderr = real
                raise AssertionError(f"{phase_name} input {i}: {type(exc).__name__}") from None
            if not passed:
                raise AssertionError(f"{phase_name} input {i}: wrong output")
