"""The backends' scoring side (Backend.loglikelihood, Backend.next_token_margin) on the transformers backend, against
hand computations from the model's logits, on a tiny GPT-2 (no BOS) and a tiny Llama (one BOS at the start)."""

import math

import pytest
import torch

from gatedloop.backends import BACKENDS, LogLikelihood

CONTEXT = 'def add_value(x):\n    """Return x plus 7."""\n'
CONTINUATIONS = ["    return x + 7\n", "    pass\n", "    return max(0, min(5, x)) if x else [y for y in x]\n",
                 "    return x\n"]


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def backend(request, tiny_model_dir, tiny_llama_dir):
    model_dir = {"gpt2": tiny_model_dir, "llama": tiny_llama_dir}[request.param]
    return BACKENDS.get("transformers")(str(model_dir))


def plain(tokenizer, text):
    return tokenizer(text, add_special_tokens=False).input_ids


def logprobs_by_hand(model, ids):
    """One unpadded forward pass: row j holds log p(next token | ids[: j + 1])."""
    with torch.no_grad():
        return torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), -1)


def by_hand(backend, context, continuation):
    """The continuation's summed log-probability and token count, from the tokenizer called directly: the context
    as the tokenizer encodes a text (its BOS, if any, in front), then the continuation's own tokens."""
    context_ids = backend.tokenizer(context).input_ids
    ids = context_ids + plain(backend.tokenizer, continuation)
    logprobs = logprobs_by_hand(backend.model, ids)
    picked = [logprobs[j - 1, ids[j]].item() for j in range(len(context_ids), len(ids))]
    return sum(picked), len(picked)


def test_the_loglikelihood_of_a_continuation_is_the_sum_of_its_tokens_log_probabilities(backend):
    scored = backend.loglikelihood([(CONTEXT, c) for c in CONTINUATIONS], batch_size=4)
    for result, continuation in zip(scored, CONTINUATIONS, strict=True):
        total, n_tokens = by_hand(backend, CONTEXT, continuation)
        assert result.n_tokens == n_tokens > 0
        assert result.logprob == pytest.approx(total, abs=1e-4)
        assert result.mean_logprob == pytest.approx(total / n_tokens, abs=1e-5)


def test_batching_and_order_do_not_change_the_scores(backend):
    requests = [(CONTEXT, c) for c in CONTINUATIONS] + [("def f(xs):\n", "    return sorted(xs)\n")]
    one_batch = backend.loglikelihood(requests, batch_size=len(requests))
    one_at_a_time = [backend.loglikelihood([r], batch_size=1)[0] for r in requests]
    reversed_pairs = backend.loglikelihood(requests[::-1], batch_size=2)[::-1]
    for batched, single, backwards in zip(one_batch, one_at_a_time, reversed_pairs, strict=True):
        assert batched.n_tokens == single.n_tokens == backwards.n_tokens
        # padding changes float32 rounding in the attention, nothing more
        assert batched.mean_logprob == pytest.approx(single.mean_logprob, abs=1e-5)
        assert backwards.mean_logprob == pytest.approx(single.mean_logprob, abs=1e-5)


def test_the_llama_scores_one_bos_then_the_continuations_own_tokens(tiny_llama_dir):
    backend = BACKENDS.get("transformers")(str(tiny_llama_dir))
    tokenizer = backend.tokenizer
    bos = tokenizer.bos_token_id
    assert backend.encoder.leading == [bos]
    (result,) = backend.loglikelihood([(CONTEXT, CONTINUATIONS[0])])
    ids = [bos] + plain(tokenizer, CONTEXT) + plain(tokenizer, CONTINUATIONS[0])
    logprobs = logprobs_by_hand(backend.model, ids)
    n_context = 1 + len(plain(tokenizer, CONTEXT))
    expected = [logprobs[j - 1, ids[j]].item() for j in range(n_context, len(ids))]
    assert result.n_tokens == len(expected) and result.logprob == pytest.approx(sum(expected), abs=1e-4)
    # encoding each part with its specials would score a second BOS, log p(<s>), as part of the continuation
    two_bos = tokenizer(CONTEXT).input_ids + tokenizer(CONTINUATIONS[0]).input_ids
    assert two_bos.count(bos) == 2 and result.n_tokens == len(two_bos) - len(tokenizer(CONTEXT).input_ids) - 1


def test_an_empty_or_cut_off_continuation_has_no_tokens_and_the_worst_mean(tiny_model_dir):
    backend = BACKENDS.get("transformers")(str(tiny_model_dir))
    context_length = backend.model.config.n_positions
    long_context = "x = 1\n" * context_length  # its tokens alone fill the context
    empty, cut_off, partly = backend.loglikelihood(
        [(CONTEXT, ""), (long_context, "    return x\n"), ("def f(x):\n", "    y = x + 1\n" * 60)])
    assert empty == cut_off == LogLikelihood(0.0, 0, -math.inf)
    n_context = len(backend.tokenizer("def f(x):\n").input_ids)
    assert partly.n_tokens == context_length - n_context and math.isfinite(partly.mean_logprob)


def test_the_next_token_margin_is_the_logit_difference_after_the_context(backend):
    tokenizer = backend.tokenizer
    first, second = plain(tokenizer, " x")[0], plain(tokenizer, " return")[0]
    contexts = [CONTEXT + c + "\n# ok?" for c in CONTINUATIONS]
    margins = backend.next_token_margin(contexts, first, second, batch_size=3)
    for margin, context in zip(margins, contexts, strict=True):
        logprobs = logprobs_by_hand(backend.model, tokenizer(context).input_ids)[-1]
        assert margin == pytest.approx((logprobs[first] - logprobs[second]).item(), abs=1e-4)
    assert backend.next_token_margin(contexts, second, first) == pytest.approx([-m for m in margins], abs=1e-6)


def test_a_context_past_the_model_length_keeps_its_end_and_its_bos(tiny_llama_dir):
    backend = BACKENDS.get("transformers")(str(tiny_llama_dir))
    tokenizer, bos = backend.tokenizer, backend.tokenizer.bos_token_id
    context_length = backend.model.config.max_position_embeddings
    context = "x = 1\n" * context_length + "def f(x):\n    return"
    first, second = plain(tokenizer, " x")[0], plain(tokenizer, " y")[0]
    (margin,) = backend.next_token_margin([context], first, second)
    kept = [bos] + plain(tokenizer, context)[-(context_length - 1):]
    last = logprobs_by_hand(backend.model, kept)[-1]
    assert margin == pytest.approx((last[first] - last[second]).item(), abs=1e-4)


def test_a_text_with_no_context_scores_every_token_after_its_first(backend):
    """An empty context (the control arm's human code, an anchor): with a BOS every token of the text is scored;
    without one, the first token has nothing before it and is left out."""
    text = CONTINUATIONS[2]
    (result,) = backend.loglikelihood([("", text)])
    ids = backend.tokenizer("").input_ids + plain(backend.tokenizer, text)
    logprobs = logprobs_by_hand(backend.model, ids)
    picked = [logprobs[j - 1, ids[j]].item() for j in range(1, len(ids))]
    assert result.n_tokens == len(picked) == len(plain(backend.tokenizer, text)) - (not backend.tokenizer("").input_ids)
    assert result.logprob == pytest.approx(sum(picked), abs=1e-4)
