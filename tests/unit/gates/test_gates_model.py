"""Gates that score with a model (perplexity, binary, cross), on a real tiny transformers model."""

import math

import pytest
import torch

from gatedloop.gates import GATES, Sample
from gatedloop.gates.self_gates import quantile_count, quantile_pool, select
from gatedloop.models.loading import load_model, load_tokenizer

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


@pytest.mark.parametrize(("accepted", "keep"), [(5000, 0.25), (12, 0.5), (3, 0.1), (7, 0.2), (7, 0.07), (5, 1.0)])
def test_a_quantile_keeps_exactly_n_of_a_pool_of_n_over_keep(accepted, keep):
    pool = quantile_pool(accepted, keep)
    assert pool == round(accepted / keep)  # the study's 20,000 for 5,000 at 0.25
    kept = select([float(i % 97) for i in range(pool)], {"mode": "quantile", "keep_fraction": keep})
    assert sum(kept) == accepted


def test_the_quantile_count_is_the_old_ceiling_but_where_float_noise_added_a_sample():
    for n in range(1, 2000):
        for keep in (0.1, 0.2, 0.25, 0.3, 0.5, 0.75, 1.0):
            assert quantile_count(keep, n) == math.ceil(keep * n)  # unchanged wherever the product is clean
    assert 0.07 * 100 == 7.000000000000001 and (math.ceil(0.07 * 100), quantile_count(0.07, 100)) == (8, 7)


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


def test_calibrated_mode_is_the_quantile_in_round_one_then_a_fixed_threshold():
    from gatedloop.gates.self_gates import CALIBRATED, calibrated_threshold

    scores = [0.1, 0.9, 0.5, 0.9, -1.0]
    first = select(scores, {"mode": "calibrated", "keep_fraction": 0.4})
    assert first == select(scores, {"mode": "quantile", "keep_fraction": 0.4})
    round1 = [{"score": s, "accepted": a} for s, a in zip(scores, first, strict=True)]
    threshold = calibrated_threshold(round1)
    assert threshold == 0.9
    # Later rounds: whatever their score distribution, the same bar; a round whose scores all rise passes whole.
    assert select([1.0, 2.0, 0.95], {"mode": "calibrated", "keep_fraction": 0.4, CALIBRATED: threshold}) == [
        True, True, True]
    assert select([0.1, 0.2], {"mode": "calibrated", "keep_fraction": 0.4, CALIBRATED: threshold}) == [False, False]
    with pytest.raises(ValueError, match="accepted no sample"):
        calibrated_threshold([{"score": 1.0, "accepted": False}])


def test_the_gate_cli_applies_round_one_threshold(tiny_model_dir, tmp_path):
    import json
    import subprocess
    import sys

    rows = [{"id": f"t{i}#0", "prompt_id": f"t{i}", "prompt": PROMPT, "completion": c}
            for i, c in enumerate(COMPLETIONS)]
    (tmp_path / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    options = json.dumps({"mode": "calibrated", "keep_fraction": 0.4})

    def gate(out, *extra):
        result = subprocess.run([sys.executable, "-m", "gatedloop.gate", "--gate", "perplexity", "--samples",
                                 str(tmp_path / "samples.jsonl"), "--model", str(tiny_model_dir), "--out",
                                 str(tmp_path / out), "--options", options, *extra],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in (tmp_path / out).read_text().splitlines()]

    round1 = gate("round1.jsonl")
    assert sum(d["accepted"] for d in round1) == 2  # the quantile: ceil(0.4 * 5)
    bar = min(d["score"] for d in round1 if d["accepted"])
    later = gate("round2.jsonl", "--calibration", str(tmp_path / "round1.jsonl"))
    assert [d["accepted"] for d in later] == [d["score"] >= bar for d in later]
    assert all("calibrated on round 1" in d["reason"] for d in later)


def test_the_gates_scores_are_the_backends_numbers_exactly(tiny_model_dir):
    """The gates ask; the backend scores: a perplexity score is the backend's mean log-likelihood and a binary score
    its next-token margin, the same floats (the gate adds no arithmetic of its own)."""
    from gatedloop.backends import open_backend

    backend = open_backend("transformers", str(tiny_model_dir))
    options = {"batch_size": 2}
    perplexity = GATES.get("perplexity")(options, model=str(tiny_model_dir)).decide(samples())
    scored = backend.loglikelihood([(PROMPT, c) for c in COMPLETIONS], batch_size=2)
    assert [d.score for d in perplexity] == [r.mean_logprob for r in scored]
    tokenizer, (yes, no) = single_token_words(tiny_model_dir)
    template = "{prompt}{completion}\n# ok?"
    binary = GATES.get("binary")({**options, "yes_word": yes, "no_word": no, "template": template},
                                 model=str(tiny_model_dir)).decide(samples())
    ids = [tokenizer.encode(word, add_special_tokens=False)[0] for word in (yes, no)]
    margins = backend.next_token_margin([template.format(prompt=PROMPT, completion=c) for c in COMPLETIONS], *ids,
                                        batch_size=2)
    assert [d.score for d in binary] == margins
