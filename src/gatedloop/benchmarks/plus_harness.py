"""The HumanEval+/MBPP+ check that runs *inside the sandbox*: its source text is the head of every check program.

Standard library only. It reproduces evalplus 0.3.1's verdict (``evalplus.eval.unsafe_execute`` +
``untrusted_check``): the solution is executed in an empty namespace with output swallowed; each input gets its own
time limit, max(1 s, 4 x the reference time), each phase min(60 s, the sum) + 2 s; the output is compared exactly,
then through the special oracles, then with numpy.allclose(rtol=1e-7) semantics where a tolerance applies. Any
exception fails. The host (``plus.py``) computes the expected outputs with evalplus's ``trusted_exec`` and embeds
them, pickled, so nothing the solution does can change what it is compared with.

Everything lives inside ``_gl_plus_checker()``, built before the solution runs: its helpers and the builtins it
uses are closure variables, so a solution that rebinds ``__main__`` names or builtins (``isinstance``, ``abs``,
``type``, ...) changes nothing the check relies on. The returned check raises AssertionError at the first failing
input; the sandbox's token (appended after the call) is printed only when every input of every phase passed.
"""


def _gl_plus_checker():
    import base64
    import builtins
    import io
    import math
    import pickle
    import signal
    import sys
    import time

    abs_, all_, any_, bool_, enumerate_, float_, isinstance_ = abs, all, any, bool, enumerate, float, isinstance
    len_, list_, max_, min_, range_, reversed_, set_, sum_, tuple_, type_, zip_ = (
        len, list, max, min, range, reversed, set, sum, tuple, type, zip)
    exec_, base_exception, assertion_error = builtins.exec, BaseException, AssertionError
    monotonic, setitimer, itimer_real = time.monotonic, signal.setitimer, signal.ITIMER_REAL
    numbers = (bool, int, float, complex)

    class Timeout(BaseException):
        """One input ran past its time limit (a BaseException, so a bare ``except Exception`` cannot swallow it)."""

    class Sink(io.StringIO):
        """Swallowed output: writes are dropped; reading is an error (like evalplus's swallow_io)."""

        def write(self, text):
            return len_(text)

        def read(self, *args):
            raise OSError("stdin is closed")

        readline = readlines = read

    def on_alarm(signum, frame):
        raise Timeout

    def is_floats(value):
        if isinstance_(value, float_):
            return True
        if isinstance_(value, (list_, tuple_)) and value:
            return all_(isinstance_(item, float_) for item in value)
        return False

    def shape_of(value):
        """(shape, flat numbers) of a rectangular nest of lists/tuples of numbers, as numpy.asarray sees it."""
        if isinstance_(value, (list_, tuple_)):
            parts = [shape_of(item) for item in value]
            if any_(shape != parts[0][0] for shape, _ in parts[1:]):
                raise ValueError("ragged")
            inner = parts[0][0] if parts else ()
            return (len_(value),) + inner, [number for _, flat in parts for number in flat]
        if isinstance_(value, numbers):
            return (), [value]
        raise TypeError(f"not a number: {type_(value).__name__}")

    def flat_indexer(shape, full_shape):
        """Map an index of the broadcast shape to a flat index of an array of ``shape`` (numpy's rules)."""
        offset = len_(full_shape) - len_(shape)
        strides, step = [], 1
        for size in reversed_(shape):
            strides.append(step)
            step *= size
        strides.reverse()

        def flat_index(index):
            return sum_((0 if shape[k] == 1 else index[k + offset]) * strides[k] for k in range_(len_(shape)))

        return flat_index

    def isclose(x, y, rtol, atol):
        finite = math.isfinite(abs_(x)) and math.isfinite(abs_(y))
        if not finite:
            return x == y  # equal infinities are close; nan never is
        return abs_(x - y) <= atol + rtol * abs_(y)

    def allclose(out, exp, rtol, atol):
        """numpy.allclose(out, exp, rtol, atol) on Python numbers and (nested) lists/tuples of them."""
        shape_out, flat_out = shape_of(out)
        shape_exp, flat_exp = shape_of(exp)
        rank = max_(len_(shape_out), len_(shape_exp))
        padded_out = (1,) * (rank - len_(shape_out)) + shape_out
        padded_exp = (1,) * (rank - len_(shape_exp)) + shape_exp
        full = []
        for a, b in zip_(padded_out, padded_exp, strict=True):
            if a != b and 1 not in (a, b):
                raise ValueError("shapes do not broadcast")
            full.append(b if a == 1 else a)
        index_out, index_exp = flat_indexer(shape_out, full), flat_indexer(shape_exp, full)
        total = 1
        for size in full:
            total *= size
        for flat in range_(total):
            index, rest = [], flat
            for size in reversed_(full):
                index.append(rest % size)
                rest //= size
            index.reverse()
            if not isclose(flat_out[index_out(index)], flat_exp[index_exp(index)], rtol, atol):
                return False
        return True

    def poly(xs, x):
        return sum_([coeff * math.pow(x, i) for i, coeff in enumerate_(xs)])

    def matches(out, exp, inp, alt, oracle, atol):
        """(passed, atol): one output against its expected value; atol may become 1e-6 for the rest of the phase."""
        exact_match = out == exp
        if oracle == "are_equivalent":
            exact_match = exact_match or True
        elif oracle == "sum_div":
            exact_match = exact_match or out == 0
        elif oracle == "alt_close":  # surface_Area: the expected value of another reading of the task
            exact_match = exact_match or abs_(out - alt) <= atol
        elif oracle == "alt_equal":  # digit_distance_nums
            exact_match = exact_match or out == alt
        elif oracle == "set_eq":
            exact_match = set_(out) == set_(exp)
        elif oracle == "not_none":
            exact_match = out == exp if isinstance_(out, bool_) else exp == (out is not None)
        elif oracle == "find_zero":
            return abs_(poly(*inp, out)) <= atol, atol
        if atol == 0 and is_floats(exp):
            atol = 1e-6
        if not exact_match and atol != 0:
            if type_(out) is not type_(exp):
                return False, atol
            if isinstance_(exp, (list_, tuple_)) and len_(out) != len_(exp):
                return False, atol
            return bool_(allclose(out, exp, 1e-07, atol)), atol
        return bool_(exact_match), atol

    def swallow():
        sys.stdin = sys.stdout = sys.stderr = Sink()

    def check(solution, payload, entry_point, atol, oracle):
        """Run ``solution`` on every phase's inputs; raise AssertionError naming the first failure."""
        phases = pickle.loads(base64.b64decode(payload))
        real = sys.stdin, sys.stdout, sys.stderr

        def restore():
            sys.stdin, sys.stdout, sys.stderr = real

        signal.signal(signal.SIGALRM, on_alarm)
        namespace = {}
        try:
            swallow()
            exec_(solution, namespace)
            function = namespace[entry_point]
        except base_exception as exc:
            restore()
            raise assertion_error(f"the solution does not define {entry_point}: {type_(exc).__name__}") from None
        restore()
        for phase_name, inputs, expected, alternatives, limits in phases:
            phase_atol = atol
            # evalplus gives each phase min(60 s, sum of the limits) + 2 s in all, then calls it a timeout
            deadline = monotonic() + min_(60.0, sum_(limits)) + 2.0
            for i, inp in enumerate_(inputs):
                remaining = deadline - monotonic()
                if remaining <= 0:
                    raise assertion_error(f"{phase_name}: time limit of the phase")
                try:
                    swallow()
                    setitimer(itimer_real, min_(limits[i], remaining))
                    try:
                        out = function(*inp)
                    finally:
                        setitimer(itimer_real, 0)
                        restore()
                    passed, phase_atol = matches(out, expected[i], inp, alternatives[i], oracle, phase_atol)
                except base_exception as exc:
                    restore()
                    raise assertion_error(f"{phase_name} input {i}: {type_(exc).__name__}") from None
                if not passed:
                    raise assertion_error(f"{phase_name} input {i}: wrong output")

    check.allclose = allclose  # for the tests
    return check
