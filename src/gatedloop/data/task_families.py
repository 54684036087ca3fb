"""Microtasks: an offline generator of templated Python programming tasks.

Each task is a function signature with a one-line docstring (the prompt), a reference body, and asserts on
boundary inputs whose expected values come from running the reference. A *family* is one template
(``add_value``, ``clamp``, ...); its *parameters* are the constants the docstring states (``7``, ``[2, 9]``).
Tasks are split by (family, parameters) into three disjoint sets: a held-out combination never appears in
pre-training, in the prompt pool, or in any fine-tuning data, so the held-out benchmark measures whether the
model reads its prompt. Whether the pool's tasks join pre-training is the workflow's choice
(``microtasks.pool_in_pretraining``; the files here keep the three sets apart either way).

The CLI that writes the three sets is ``gatedloop.microtasks`` (rule ``microtasks``).
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from gatedloop.sandbox import with_tests

# A prompt ends exactly at the closing quotes: this tokenizer merges a newline with the following indent, and
# a prompt ending in a newline made the model emit end-of-text at once.
PROMPT_TEMPLATE = 'def {name}({args}):\n    """{doc}"""'


@dataclass(frozen=True)
class Family:
    """One task template. ``doc`` and ``body`` are format strings over the parameter names."""

    name: str  # also the function name
    args: str
    doc: str
    body: str  # indented by 4 spaces per line once formatted
    grid: dict[str, Sequence]
    inputs: Callable[[dict], list[tuple]]  # boundary inputs as argument tuples, given the parameters
    valid: Callable[[dict], bool] = lambda p: True

    def combos(self) -> Iterator[dict]:
        keys = list(self.grid)
        for values in itertools.product(*(self.grid[k] for k in keys)):
            params = dict(zip(keys, values, strict=True))
            if self.valid(params):
                yield params


NUMBERS = range(2, 50)
CHARS = list("abcdefghijklmnopqrstuvwxyz")
WORDS = ["ab", "an", "at", "be", "by", "do", "go", "he", "if", "in", "is", "it", "me", "my", "no", "of",
         "on", "or", "so", "to", "up", "us", "we", "cat", "dog", "sun", "red", "top", "xy", "zz", "qa"]


def _ints(p: dict) -> list[tuple]:
    k = p["k"]
    return [(0,), (1,), (-1,), (k,), (-k,), (k + 1,), (100,)]


def _int_lists(p: dict) -> list[tuple]:
    k = p["k"]
    return [([],), ([k],), ([k - 1, k, k + 1],), ([0, -k, 2 * k, k + 5],), ([-1, 1, k * 3, 7, k - 2],)]


def _strings(p: dict) -> list[tuple]:
    c = p.get("c") or p.get("a") or p.get("w")
    return [("",), (c,), (c * 3,), ("x" + c + "y" + c,), ("hello world",)]


FAMILIES: tuple[Family, ...] = (
    Family("add_value", "x", "Return x plus {k}.", "return x + {k}", {"k": NUMBERS}, _ints),
    Family("subtract_value", "x", "Return x minus {k}.", "return x - {k}", {"k": NUMBERS}, _ints),
    Family("multiply_by", "x", "Return x multiplied by {k}.", "return x * {k}", {"k": NUMBERS}, _ints),
    Family("remainder_of", "x", "Return the remainder of x divided by {k}.", "return x % {k}",
           {"k": NUMBERS}, _ints),
    Family("power_of", "x", "Return x raised to the power {k}.", "return x ** {k}", {"k": range(2, 12)}, _ints),
    Family("is_multiple", "n", "Return True if n is divisible by {k}, else False.", "return n % {k} == 0",
           {"k": NUMBERS}, _ints),
    Family("clamp", "x", "Return x clamped to the range [{lo}, {hi}].", "return max({lo}, min({hi}, x))",
           {"lo": range(-6, 12, 2), "hi": range(5, 60, 5)},
           lambda p: [(p["lo"] - 1,), (p["lo"],), (p["hi"],), (p["hi"] + 1,), ((p["lo"] + p["hi"]) // 2,)],
           valid=lambda p: p["lo"] < p["hi"]),
    Family("in_range", "x", "Return True if x is between {lo} and {hi} inclusive.", "return {lo} <= x <= {hi}",
           {"lo": range(-6, 12, 2), "hi": range(5, 60, 5)},
           lambda p: [(p["lo"] - 1,), (p["lo"],), (p["hi"],), (p["hi"] + 1,), ((p["lo"] + p["hi"]) // 2,)],
           valid=lambda p: p["lo"] < p["hi"]),
    Family("count_char", "s", "Return the number of times '{c}' occurs in s.", "return s.count('{c}')",
           {"c": CHARS}, _strings),
    Family("replace_char", "s", "Return s with every '{a}' replaced by '{b}'.", "return s.replace('{a}', '{b}')",
           {"a": CHARS[:10], "b": CHARS[10:18]}, _strings),
    Family("starts_with", "s", "Return True if s starts with '{w}', else False.", "return s.startswith('{w}')",
           {"w": WORDS}, _strings),
    Family("repeat_text", "s", "Return s repeated {k} times.", "return s * {k}", {"k": range(2, 40)},
           lambda p: [("",), ("a",), ("ab",), ("xyz",)]),
    Family("pad_left", "s", "Return s padded on the left with '{c}' to length {n}.", "return s.rjust({n}, '{c}')",
           {"c": CHARS[:8], "n": range(3, 12)},
           lambda p: [("",), ("a",), ("x" * p["n"],), ("x" * (p["n"] + 1),), ("ab",)]),
    Family("sum_above", "xs", "Return the sum of the items of xs that are greater than {k}.",
           "return sum(x for x in xs if x > {k})", {"k": NUMBERS}, _int_lists),
    Family("count_below", "xs", "Return how many items of xs are less than {k}.",
           "return sum(1 for x in xs if x < {k})", {"k": NUMBERS}, _int_lists),
    Family("keep_multiples", "xs", "Return the items of xs that are multiples of {k}, in order.",
           "return [x for x in xs if x % {k} == 0]", {"k": NUMBERS}, _int_lists),
    Family("scale_items", "xs", "Return a list with every item of xs multiplied by {k}.",
           "return [x * {k} for x in xs]", {"k": NUMBERS}, _int_lists),
    Family("first_above", "xs", "Return the first item of xs greater than {k}, or None if there is none.",
           "for x in xs:\n    if x > {k}:\n        return x\nreturn None", {"k": NUMBERS}, _int_lists),
    Family("last_items", "xs", "Return the last {k} items of xs as a list.", "return list(xs[-{k}:])",
           {"k": range(1, 30)},
           lambda p: [([],), (list(range(p["k"])),), (list(range(p["k"] + 3)),), ([5, 6],)]),
    Family("max_or_default", "xs", "Return the largest item of xs, or {k} if xs is empty.",
           "return max(xs) if xs else {k}", {"k": NUMBERS}, _int_lists),
    Family("sum_to", "n", "Return the sum of the integers from {k} to n inclusive.",
           "return sum(range({k}, n + 1))", {"k": range(0, 40)},
           lambda p: [(p["k"] - 1,), (p["k"],), (p["k"] + 1,), (p["k"] + 10,), (100,)]),
)
FAMILY_NAMES = tuple(f.name for f in FAMILIES)


@dataclass(frozen=True)
class Task:
    task_id: str
    family: str
    params: dict
    entry_point: str
    prompt: str
    canonical_solution: str  # the body after the prompt, starting with a newline
    tests: list[str]

    def program(self, completion: str) -> str:
        """The full program that checks ``completion`` against this task's tests."""
        return with_tests(self.prompt + completion, self.tests)

    def to_json(self) -> dict:
        return dict(self.__dict__)


def _indent(body: str) -> str:
    return "".join("\n    " + line for line in body.splitlines()) + "\n"


def make_task(family: Family, params: dict) -> Task:
    """Render one task and compute its expected outputs by running the (trusted, templated) reference."""
    prompt = PROMPT_TEMPLATE.format(name=family.name, args=family.args, doc=family.doc.format(**params))
    solution = _indent(family.body.format(**params))
    namespace: dict = {}
    exec(prompt + solution, namespace)  # our own template, not generated code
    reference = namespace[family.name]
    tests = [f"assert {family.name}({', '.join(map(repr, args))}) == {reference(*args)!r}"
             for args in family.inputs(params)]
    param_text = "-".join(f"{k}={v}" for k, v in params.items())
    return Task(f"{family.name}/{param_text}", family.name, params, family.name, prompt, solution, tests)


def all_tasks() -> list[Task]:
    return [make_task(f, p) for f in FAMILIES for p in f.combos()]


def is_heldout(task_id: str, fraction: float, seed: int) -> bool:
    """Stable split by (family, parameters): a hash of the task id, independent of task order."""
    digest = hashlib.sha256(f"{seed}:{task_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def split_tasks(fraction: float, seed: int, pool_size: int) -> dict[str, list[Task]]:
    """Return three disjoint splits {"pretrain", "pool", "heldout"}.

    The pool (prompts the model completes every round) is a seeded sample of the non-held-out tasks, written
    apart from the pre-training split; the workflow adds it to the corpus only with
    ``microtasks.pool_in_pretraining`` (then the control arm's human solutions are code the model has seen).
    """
    tasks = all_tasks()
    heldout = [t for t in tasks if is_heldout(t.task_id, fraction, seed)]
    train = [t for t in tasks if not is_heldout(t.task_id, fraction, seed)]
    if pool_size >= len(train):
        raise ValueError(f"microtasks.pool_size={pool_size} leaves nothing to pre-train on: "
                         f"there are {len(train)} non-held-out tasks")
    pool = sorted(random.Random(seed).sample(train, pool_size), key=lambda t: t.task_id)
    pool_ids = {t.task_id for t in pool}
    pretrain = [t for t in train if t.task_id not in pool_ids]
    return {"pretrain": pretrain, "pool": pool, "heldout": heldout}
