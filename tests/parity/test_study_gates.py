"""Our gates, configured with the study's definitions, against direct reimplementations of those definitions as
/work/shared/notes/the-study-code.md states them (the study's published code), on crafted samples with the boundary
cases: a repetition rate exactly at the threshold, blank lines, lines differing only in indentation, a human prefix
that repeats, an empty completion, a completion of exactly the minimum length.

The references below are written from the definitions, not from our code: they tokenise with the tokenizer
directly, count lines with a loop and run the model by hand, one sample at a time.

- compile: Python's compile() of prompt + completion.
- quality: line repetition of the whole text <= threshold (0.3; 0.5 in the study's first version) and at least 50
  completion tokens of the model's tokenizer; compile_quality: both (the first version's "quality").
- perplexity: perplexity of the completion tokens under the model, the lowest quarter kept.
- binary: the sample's last max_content_tokens tokens + "\\n# quality: "; logit(" good") - logit(" bad") at the last
  position; the highest quarter kept.
"""

from __future__ import annotations

import math

import pytest
import torch

from gatedloop.gates import GATES, Sample

STUDY_QUALITY = {"repetition": "line", "length_unit": "model_tokens", "max_repetition": 0.3, "min_tokens": 50}
STUDY_BINARY = {"template": "{prompt}{completion}\n# quality: ", "yes_word": " good", "no_word": " bad"}


@pytest.fixture(scope="module")
def qwen_dir(tmp_path_factory):
    """A tiny Qwen2 (random weights, byte-level tokenizer without BOS, " good" and " bad" single tokens)."""
    from gatedloop.core.runtime import set_threads
    from gatedloop.models import tiny

    set_threads(1)
    return tiny.save("qwen2", tmp_path_factory.mktemp("study_qwen") / "model")


@pytest.fixture(scope="module")
def tokenizer(qwen_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(qwen_dir)


# ------------------------------------------------------------------------------------------- references


def reference_compiles(prompt: str, completion: str) -> bool:
    try:
        compile(prompt + completion, "<reference>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def reference_line_repetition_ok(text: str, threshold: float) -> bool:
    seen: dict[str, int] = {}
    total = 0
    for raw in text.splitlines():  # the study's v2 paper_generate.py (form feeds end a line too)
        line = raw.strip()
        if not line:
            continue
        total += 1
        seen[line] = seen.get(line, 0) + 1
    if total < 2:
        return True
    repeated = 0
    for count in seen.values():
        repeated += count - 1
    return repeated / total <= threshold


def reference_long_enough(tokenizer, completion: str, minimum: int) -> bool:
    return len(tokenizer(completion, add_special_tokens=False)["input_ids"]) >= minimum


def reference_quality(tokenizer, prompt: str, completion: str, threshold: float, minimum: int = 50) -> bool:
    return (reference_line_repetition_ok(prompt + completion, threshold)
            and reference_long_enough(tokenizer, completion, minimum))


def reference_perplexity(model, tokenizer, prompt: str, completion: str) -> float:
    """exp(mean negative log-likelihood of the completion's tokens), the prompt's tokens masked out."""
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = tokenizer(prompt + completion, add_special_tokens=False)["input_ids"]
    assert ids[: len(prompt_ids)] == prompt_ids, "crafted sample: the boundary must not merge tokens"
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].float()
    losses = [-torch.log_softmax(logits[pos - 1], -1)[ids[pos]].item() for pos in range(len(prompt_ids), len(ids))]
    return math.exp(sum(losses) / len(losses))


def reference_binary(model, tokenizer, text: str, max_content_tokens: int) -> float:
    content = tokenizer(text, add_special_tokens=False)["input_ids"][-max_content_tokens:]
    ids = content + tokenizer("\n# quality: ", add_special_tokens=False)["input_ids"]
    good = tokenizer(" good", add_special_tokens=False)["input_ids"][0]
    bad = tokenizer(" bad", add_special_tokens=False)["input_ids"][0]
    with torch.no_grad():
        last = model(torch.tensor([ids])).logits[0, -1].float()
    return (last[good] - last[bad]).item()


def keep_quarter(scores: list[float], highest: bool) -> set[int]:
    order = sorted(range(len(scores)), key=lambda i: scores[i], reverse=highest)
    return set(order[: len(scores) // 4])


# ------------------------------------------------------------------------------------------- crafted samples

PROMPT = "def total(values):"
ASSIGNMENTS = [f"    item_{k} = values[{k}] * {k + 3} + offset_{k}" for k in range(12)]


def body(lines: list[str]) -> str:
    return "\n" + "\n".join(lines) + "\n"


def crafted(tokenizer) -> dict[str, tuple[str, str]]:
    """name -> (prompt, completion). Repetition rates count the prompt's line too."""
    at_threshold = body(ASSIGNMENTS[:6] + ASSIGNMENTS[:3])  # 10 lines, 3 repeats: 0.3 exactly
    above = body(ASSIGNMENTS[:5] + ASSIGNMENTS[:4])  # 10 lines, 4 repeats: 0.4 (passes 0.5, not 0.3)
    with_blanks = "\n" + "\n\n   \n".join(ASSIGNMENTS[:6] + ASSIGNMENTS[:3]) + "\n\n"  # blank lines are no lines
    reindented = body(ASSIGNMENTS[:6] + [a.strip() for a in ASSIGNMENTS[:3]] + ["        " + ASSIGNMENTS[3]])
    repeated_prefix = "import math\n" * 8 + PROMPT  # the human prefix repeats: 7 repeats of 21 lines
    clean = body(ASSIGNMENTS)
    exact_ids = tokenizer(clean, add_special_tokens=False)["input_ids"]
    exactly_50 = tokenizer.decode(exact_ids[:50])
    exactly_49 = tokenizer.decode(exact_ids[:49])
    for text, n in ((exactly_50, 50), (exactly_49, 49)):
        assert len(tokenizer(text, add_special_tokens=False)["input_ids"]) == n, "crafted length boundary"
    return {
        "clean": (PROMPT, clean),
        "at_threshold": (PROMPT, at_threshold),
        "above_threshold": (PROMPT, above),
        "blank_lines": (PROMPT, with_blanks),
        "indentation_only": (PROMPT, reindented),
        "repeating_prefix": (repeated_prefix, clean),
        "empty_completion": (PROMPT, ""),
        "exactly_50_tokens": (PROMPT, exactly_50),
        "exactly_49_tokens": (PROMPT, exactly_49),
        "one_line": ("x = 1", ""),
        "syntax_error": (PROMPT, body(ASSIGNMENTS[:10] + ["    return item_0 +"])),
        "dedented": (PROMPT, "\nresult = 0\n" + "\n".join(a.strip() for a in ASSIGNMENTS)),
        # a form feed ends a line for the study: 4 lines, 3 of them the same (over 0.3); one line if split at \n only
        "form_feeds": ("x = 1", "\n" + "\f".join([ASSIGNMENTS[0]] * 3)),
    }


def as_samples(cases: dict[str, tuple[str, str]]) -> list[Sample]:
    return [Sample(name, name, prompt, completion) for name, (prompt, completion) in cases.items()]


# ------------------------------------------------------------------------------------------- parity


def test_the_crafted_cases_reach_both_sides_of_each_boundary(tokenizer):
    cases = crafted(tokenizer)
    ok = {name: reference_quality(tokenizer, p, c, 0.3) for name, (p, c) in cases.items()}
    assert ok["at_threshold"] and not ok["above_threshold"] and ok["blank_lines"] and not ok["form_feeds"]
    assert not ok["indentation_only"] and not ok["repeating_prefix"] and not ok["empty_completion"]
    assert ok["exactly_50_tokens"] and not ok["exactly_49_tokens"] and ok["clean"]
    assert reference_quality(tokenizer, *cases["above_threshold"], 0.5)
    assert reference_line_repetition_ok("x = 1", 0.0)  # one line passes whatever the threshold
    assert not reference_compiles(*cases["dedented"]) and reference_compiles("", cases["dedented"][1].lstrip("\n"))


def test_compile_matches_the_study_on_the_whole_text(tokenizer):
    cases = crafted(tokenizer)
    decisions = GATES.get("compile")().decide(as_samples(cases))
    assert {d.id: d.accepted for d in decisions} == {name: reference_compiles(p, c) for name, (p, c) in cases.items()}


@pytest.mark.parametrize("threshold", [0.3, 0.5])
@pytest.mark.parametrize("gate", ["quality", "compile_quality"])
def test_quality_matches_the_study(gate, threshold, tokenizer, qwen_dir):
    cases = crafted(tokenizer)
    options = {**STUDY_QUALITY, "max_repetition": threshold, "tokenizer": str(qwen_dir)}
    decisions = GATES.get(gate)(options).decide(as_samples(cases))
    expected = {name: reference_quality(tokenizer, p, c, threshold) and (gate == "quality" or reference_compiles(p, c))
                for name, (p, c) in cases.items()}
    assert {d.id: d.accepted for d in decisions} == expected
    assert all((d.score >= 0) == d.accepted for d in decisions if gate == "quality")


def scored_cases():
    """Eight samples for the model-scored gates: completions end in code (no trailing space, so the template's
    tokens follow the sample's own), and prompt and completion do not share a token at their boundary."""
    completions = [body(ASSIGNMENTS[:k]) + f"    return item_{k - 1}" for k in range(1, 9)]
    completions[3] = "\n    return sum(values)"
    completions[5] = "\n    pass"
    return [Sample(f"s{i}", f"s{i}", PROMPT, c) for i, c in enumerate(completions)]


def test_perplexity_matches_the_study(qwen_dir, tokenizer):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(qwen_dir, torch_dtype=torch.float32).eval()
    samples = scored_cases()
    perplexities = [reference_perplexity(model, tokenizer, s.prompt, s.completion) for s in samples]
    decisions = GATES.get("perplexity")({"keep_fraction": 0.25, "batch_size": 3}, model=str(qwen_dir)).decide(samples)
    # our score is the mean log-probability: minus the log of the study's perplexity
    assert [d.score for d in decisions] == pytest.approx([-math.log(p) for p in perplexities], abs=1e-4)
    assert {i for i, d in enumerate(decisions) if d.accepted} == keep_quarter(perplexities, highest=False)


@pytest.mark.parametrize("max_content_tokens", [2000, 9])
def test_binary_matches_the_study(max_content_tokens, qwen_dir, tokenizer):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(qwen_dir, torch_dtype=torch.float32).eval()
    samples = scored_cases()
    for s in samples:  # the kept end re-encodes to the same tokens (a cut inside a word would not)
        kept = tokenizer(s.program, add_special_tokens=False)["input_ids"][-max_content_tokens:]
        assert tokenizer(tokenizer.decode(kept), add_special_tokens=False)["input_ids"] == kept, s.id
    expected = [reference_binary(model, tokenizer, s.program, max_content_tokens) for s in samples]
    options = {**STUDY_BINARY, "max_content_tokens": max_content_tokens, "batch_size": 3}
    decisions = GATES.get("binary")(options, model=str(qwen_dir)).decide(samples)
    assert [d.score for d in decisions] == pytest.approx(expected, abs=1e-4)
    assert {i for i, d in enumerate(decisions) if d.accepted} == keep_quarter(expected, highest=True)
