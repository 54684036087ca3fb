"""The study's gate definitions as options of our gates: line repetition and model-token length (quality,
compile_quality), the end of a long sample in the binary question (max_content_tokens)."""

import pytest

from gatedloop.core.encoding import TextEncoder
from gatedloop.gates import GATES, Sample
from gatedloop.gates.quality_gate import line_repetition, needs_tokenizer, quality_check
from gatedloop.gates.self_gates import content_end
from gatedloop.models.loading import load_tokenizer

PROMPT = "def f(x):"
LONG_BODY = "".join(f"\n    v{i} = x + {i}" for i in range(20)) + "\n    return v0\n"


def test_line_repetition_counts_repeats_of_stripped_non_blank_lines():
    assert line_repetition("") == 0.0 and line_repetition("x = 1") == 0.0
    assert line_repetition("a\nb\nc\nd") == 0.0
    assert line_repetition("a\na\na\nb") == pytest.approx(2 / 4)  # a three times: two repeats of four lines
    assert line_repetition("a\n\n   \na\n") == pytest.approx(1 / 2)  # blank lines are not lines
    assert line_repetition("    return x\nreturn x  \n") == pytest.approx(1 / 2)  # indentation does not count


def test_the_default_quality_gate_is_unchanged_by_the_new_options():
    samples = [Sample("a", "a", PROMPT, LONG_BODY), Sample("b", "b", PROMPT, "\n    return x\n" * 30)]
    explicit = GATES.get("quality")({"repetition": "ngram", "length_unit": "code_tokens"}).decide(samples)
    assert GATES.get("quality")().decide(samples) == explicit
    assert [d.accepted for d in explicit] == [True, False]


def test_line_repetition_reads_the_whole_text_prompt_included():
    repeated_prefix = "import os\nimport os\nimport os\n"
    body = "".join(f"\n    y{i} = x * {i} + 1" for i in range(12)) + "\n    return y0\n"
    sample = Sample("a", "a", repeated_prefix + PROMPT, body)
    line = quality_check(sample, GATES.options("quality", {"repetition": "line", "max_repetition": 0.1}))
    ngram = quality_check(sample, GATES.options("quality", {"max_repetition": 0.1}))
    assert ngram[0] is True  # the completion alone does not repeat itself
    assert line[0] is False and line[2] == "repetitive: 0.12 > 0.1"  # 2 repeats of 16 lines, all in the prompt


def test_model_token_length_needs_the_tokenizer_and_counts_the_completion_in_it(tiny_model_dir):
    assert needs_tokenizer({"length_unit": "model_tokens"}) and not needs_tokenizer({})
    assert GATES.get("quality").needs_tokenizer({"length_unit": "model_tokens"})
    assert not GATES.get("compile").needs_tokenizer({"length_unit": "model_tokens"})
    sample = Sample("a", "a", PROMPT, LONG_BODY)
    with pytest.raises(ValueError, match="gate_options.quality.length_unit model_tokens needs the model's tokenizer"):
        GATES.get("quality")({"length_unit": "model_tokens"}).decide([sample])
    n_model = len(TextEncoder(load_tokenizer(tiny_model_dir)).continuation(LONG_BODY))
    for gate in ("quality", "compile_quality"):
        at_length = GATES.get(gate)({"length_unit": "model_tokens", "min_tokens": n_model,
                                     "tokenizer": str(tiny_model_dir)}).decide([sample])[0]
        above = GATES.get(gate)({"length_unit": "model_tokens", "min_tokens": n_model + 1,
                                 "tokenizer": str(tiny_model_dir)}).decide([sample])[0]
        assert at_length.accepted and at_length.reason.startswith(f"{n_model} tokens")
        assert not above.accepted and above.reason == f"too short: {n_model} < {n_model + 1} tokens"


def test_the_tokenizer_option_is_set_by_the_job_not_by_the_config():
    with pytest.raises(ValueError, match="gate_options.quality.tokenizer: set by the job itself"):
        GATES.options("quality", {"tokenizer": "x"}, config=True)


def test_content_end_keeps_the_samples_last_tokens(tiny_model_dir):
    encoder = TextEncoder(load_tokenizer(tiny_model_dir))
    sample = Sample("a", "a", PROMPT, LONG_BODY)
    n_prompt, n_completion = len(encoder.plain(PROMPT)), len(encoder.continuation(LONG_BODY))
    assert content_end(encoder, sample, n_prompt + n_completion) == (PROMPT, LONG_BODY)  # fits: unchanged
    prompt, completion = content_end(encoder, sample, n_completion + 2)
    assert completion == LONG_BODY and prompt == encoder.tokenizer.decode(encoder.plain(PROMPT)[-2:])
    prompt, completion = content_end(encoder, sample, 5)
    assert prompt == "" and completion == encoder.tokenizer.decode(encoder.continuation(LONG_BODY)[-5:])
    assert LONG_BODY.endswith(completion)


def test_binary_without_max_content_tokens_scores_as_before(tiny_llama_dir):
    samples = [Sample("a", "a", PROMPT, LONG_BODY), Sample("b", "b", PROMPT, "\n    return x\n")]
    words = {"yes_word": " good", "no_word": " bad"}
    model = str(tiny_llama_dir)  # a tokenizer with a BOS: the question keeps it in front of the sample's end
    default = GATES.get("binary")(words, model=model).decide(samples)
    roomy = GATES.get("binary")({**words, "max_content_tokens": 10_000}, model=model).decide(samples)
    short = GATES.get("binary")({**words, "max_content_tokens": 4}, model=model).decide(samples)
    assert [d.score for d in roomy] == [d.score for d in default]
    assert short[0].score != default[0].score  # the question read only the sample's last tokens
