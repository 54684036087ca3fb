"""Write a small file of LiveCodeBench-format problems (rows of ``livecodebench/code_generation_lite``), for offline
tests: three stdin problems and three call-based (LeetCode-style) ones, written here, not taken from LiveCodeBench.
One problem's private tests use the hub's base64/zlib/pickle encoding, as real rows do.

    python resources/livecodebench/make_crafted.py   # rewrites crafted.jsonl next to this script
"""

from __future__ import annotations

import base64
import json
import pickle
import random
import zlib
from pathlib import Path

HERE = Path(__file__).parent


def stdin_sum(rng):
    nums = [rng.randint(-10**12, 10**12) for _ in range(rng.randint(1, 6))]
    return f"{len(nums)}\n{' '.join(map(str, nums))}\n", f"{sum(nums)}\n"


def stdin_average(rng):
    nums = [rng.randint(1, 100) for _ in range(rng.randint(1, 5))]
    return f"{len(nums)}\n" + "\n".join(map(str, nums)) + "\n", f"{sum(nums) / len(nums):.2f}\n"


def stdin_sorted(rng):
    words = ["".join(rng.choice("abc") for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 5))]
    return f"{len(words)}\n" + "\n".join(words) + "\n", "\n".join(sorted(words)) + "\n"


def call_two_sum(rng):
    nums = [rng.randint(-20, 20) for _ in range(rng.randint(2, 6))]
    i, j = sorted(rng.sample(range(len(nums)), 2))
    return f"{json.dumps(nums)}\n{nums[i] + nums[j]}", None


def call_max_run(rng):
    s = "".join(rng.choice("ab") for _ in range(rng.randint(1, 12)))
    best = max(len(run) for run in s.replace("ab", "a b").replace("ba", "b a").split())
    return json.dumps(s), json.dumps(best)


def call_pairs(rng):
    n = rng.randint(0, 4)
    return json.dumps(n), json.dumps([[i, i * i] for i in range(n)])


def two_sum_answer(test_input):
    nums_text, target_text = test_input.split("\n")
    nums, target = json.loads(nums_text), int(target_text)
    for i in range(len(nums)):
        for j in range(i + 1, len(nums)):
            if nums[i] + nums[j] == target:
                return json.dumps([i, j])


PROBLEMS = [
    ("lc-crafted-1", "Sum", "Given N and N integers, print their sum.", "", stdin_sum, None),
    ("lc-crafted-2", "Average", "Given N and N integers (one per line), print their mean with 2 decimals.", "",
     stdin_average, None),
    ("lc-crafted-3", "Sort words", "Given N words, print them sorted, one per line.", "", stdin_sorted, None),
    ("lc-crafted-4", "Two sum", "Return the first pair of indices i < j with nums[i] + nums[j] == target.",
     "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        ", call_two_sum,
     "twoSum"),
    ("lc-crafted-5", "Longest run", "Return the length of the longest run of one letter in s.",
     "class Solution:\n    def longestRun(self, s: str) -> int:\n        ", call_max_run, "longestRun"),
    ("lc-crafted-6", "Squares", "Return [[i, i*i] for i < n].",
     "class Solution:\n    def squares(self, n: int) -> List[List[int]]:\n        ", call_pairs, "squares"),
]


def rows() -> list[dict]:
    out = []
    for number, (qid, title, content, starter, make, fn_name) in enumerate(PROBLEMS):
        rng = random.Random(number)
        tests = [make(rng) for _ in range(8)]
        if fn_name == "twoSum":
            tests = [(test_input, two_sum_answer(test_input)) for test_input, _ in tests]
        kind = "functional" if fn_name else "stdin"
        encoded = [{"input": i, "output": o, "testtype": kind} for i, o in tests]
        private = json.dumps(encoded[2:])
        if number == 1:  # the hub's encoding of private tests
            private = base64.b64encode(zlib.compress(pickle.dumps(private))).decode("utf-8")
        out.append({"question_title": title, "question_content": content, "platform": "leetcode" if fn_name
                    else "atcoder", "question_id": qid, "contest_id": "crafted", "contest_date":
                    f"2024-0{1 + number % 6}-15T00:00:00", "starter_code": starter, "difficulty": "easy",
                    "public_test_cases": json.dumps(encoded[:2]), "private_test_cases": private,
                    "metadata": json.dumps({"func_name": fn_name} if fn_name else {})})
    return out


if __name__ == "__main__":
    problems = rows()
    with open(HERE / "crafted.jsonl", "w") as handle:
        for row in problems:
            handle.write(json.dumps(row) + "\n")
    print(f"wrote {len(problems)} problems to {HERE / 'crafted.jsonl'}")
