"""Gates that score with a model (perplexity, binary, cross), on a real tiny transformers model."""

import math

import pytest
import torch

from gatedloop.gates import GATES, Sample
from gatedloop.gates.self_gates import select
from gatedloop.models import load_model, load_tokenizer

PROMPT = 'def add_value(x):\n    """Return x plus 7."""'
COMPLETIONS = ["\n    return x + 7\n", "\n    return x - 7\n", "\n    return [x for x in xs]\n", "\n    pass\n",
               "\n    return max(0, min(5, x))\n"]


def samples():
    return [Sample(f"t{i}#0", f"t{i}", PROMPT, c) for i, c in enumerate(COMPLETIONS)]


def reference_logprob(model_dir, prompt, completion):
    """Mean log-probability of the completion tokens, one sample at a time, without padding."""
    tokenizer, model = load_tokenizer(model_dir), load_model(model_dir)
    prompt_ids = tokenizer(prompt).input_ids
    ids = prompt_ids + tokenizer(completion).input_ids
    with torch.no_grad():
        logprobs = torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), -1)
    return sum(logprobs[i - 1, ids[i]].item() for i in range(len(prompt_ids), len(ids))) / (len(ids) - len(prompt_ids))


def test_select_by_quantile_or_threshold():
    scores = [0.1, 0.9, 0.5, 0.9, -1.0]
    assert select(scores, {"mode": "quantile", "keep_fraction": 0.4}) == [False, True, False, True, False]
    assert select(scores, {"mode": "quantile", "keep_fraction": 0.25}) == [False, True, False, True, False]
    assert select(scores, {"mode": "threshold", "threshold": 0.5}) == [False, True, True, True, False]


def test_perplexity_scores_match_an_unbatched_computation_and_keep_the_lowest(tiny_model_dir):
    decisions = GATES.get("perplexity")({"keep_fraction": 0.4, "batch_size": 2}, model=str(tiny_model_dir)).decide(
        samples())
    expected = [reference_logprob(tiny_model_dir, PROMPT, c) for c in COMPLETIONS]
    assert [d.score for d in decisions] == pytest.approx(expected, abs=1e-4)
    best_two = sorted(range(5), key=lambda i: -expected[i])[:2]
    assert [i for i, d in enumerate(decisions) if d.accepted] == sorted(best_two)


def test_empty_completion_gets_the_worst_perplexity_score(tiny_model_dir):
    decisions = GATES.get("perplexity")({"keep_fraction": 0.5}, model=str(tiny_model_dir)).decide(
        [Sample("a", "a", PROMPT, ""), Sample("b", "b", PROMPT, "\n    return x\n")])
    assert decisions[0].score == -math.inf and [d.accepted for d in decisions] == [False, True]


def single_token_words(model_dir):
    tokenizer = load_tokenizer(model_dir)
    words = [w for w in (" x", " return", " True", " False", " None", " for") if
             len(tokenizer.encode(w, add_special_tokens=False)) == 1]
    return tokenizer, words[:2]


@pytest.mark.parametrize("gate", ["binary", "cross"])
def test_binary_score_is_the_logit_margin_of_the_answer_words(tiny_model_dir, gate):
    tokenizer, (yes, no) = single_token_words(tiny_model_dir)
    template = "{prompt}{completion}\n# ok?"
    options = {"yes_word": yes, "no_word": no, "template": template, "keep_fraction": 0.2}
    decisions = GATES.get(gate)(options, model=str(tiny_model_dir)).decide(samples())
    model = load_model(tiny_model_dir)
    yes_id, no_id = tokenizer.encode(yes)[0], tokenizer.encode(no)[0]
    for d, completion in zip(decisions, COMPLETIONS, strict=True):
        ids = tokenizer(template.format(prompt=PROMPT, completion=completion)).input_ids
        with torch.no_grad():
            last = model(torch.tensor([ids])).logits[0, -1].float()
        assert d.score == pytest.approx((last[yes_id] - last[no_id]).item(), abs=1e-4)
    assert sum(d.accepted for d in decisions) == 1


def test_a_multi_token_answer_word_is_rejected_with_its_tokens(tiny_model_dir):
    with pytest.raises(ValueError, match=r"gate_options.binary.yes_word: ' definitely' is \d+ tokens"):
        GATES.get("binary")({"yes_word": " definitely"}, model=str(tiny_model_dir)).decide(samples())


def test_threshold_mode_needs_a_threshold(tiny_model_dir):
    with pytest.raises(ValueError, match="mode 'threshold' needs a threshold"):
        GATES.get("perplexity")({"mode": "threshold"}, model=str(tiny_model_dir)).decide(samples())
