"""Prompt formats per model kind: ``raw`` (a base model continues the benchmark prompt) and ``chat`` (an instruct
model gets the task inside its chat template, its answer opened for it as a Python code block, as evalplus's
codegen does; the program is then extracted with evalplus's sanitizer, which keeps the entry point and what it
needs and drops tests, prints and prose)."""

from __future__ import annotations

PROMPT_FORMATS = ("raw", "chat")
# evalplus's own instruction and response prefix, so scores compare with published evalplus numbers
INSTRUCTION = ("Please provide a self-contained Python script that solves the following problem in a markdown "
               "code block:")
RESPONSE = "Below is a Python script with a self-contained function that solves the problem and passes " \
           "corresponding tests:"
_SPLIT = "<<gatedloop: the answer starts here>>"


def chat_prompt(tokenizer, task_prompt: str) -> str:
    """One user turn with the task, and the assistant's turn opened up to the first line of its code block."""
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError("prompt format 'chat' needs a tokenizer with a chat template; this model has none "
                         "(use prompt_format: raw for base models)")
    user = f"{INSTRUCTION}\n```\n{task_prompt.strip()}\n```\n"
    assistant = f"{RESPONSE}\n```python\n{_SPLIT}\n```\n"
    text = tokenizer.apply_chat_template([{"role": "user", "content": user},
                                          {"role": "assistant", "content": assistant}], tokenize=False)
    return text.split(_SPLIT)[0]


def solution_from_answer(answer: str, entry_point: str | None) -> str:
    """The self-contained program in an answer that began inside a code block (evalplus.sanitize; all the code
    where the task has no entry point, as for stdin problems)."""
    from evalplus.sanitize import sanitize

    return sanitize("```python\n" + answer, entry_point or None)
