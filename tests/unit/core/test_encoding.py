"""One encoding of prompt + completion (gatedloop.core.encoding) for training, every model-scored gate, the audit
and the analysis: one BOS at the start for tokenizers that add one (a tiny Llama-style model), an exact completion
boundary, EOS once; the embedded GPT-2-style tokenizer's ids unchanged."""

import math

import pytest
import torch

from gatedloop import finetune
from gatedloop.core.encoding import TextEncoder, adds_prefix_space, leading_special_ids, single_token
from gatedloop.gates import GATES, Sample
from gatedloop.models.loading import load_model, load_tokenizer

PROMPT = 'def add_value(x):\n    """Return x plus 7."""\n'
COMPLETIONS = ["    return x + 7\n", "    return x - 7\n", "    pass\n", "    return max(0, min(5, x))\n"]


def samples():
    return [Sample(f"t{i}#0", f"t{i}", PROMPT, c) for i, c in enumerate(COMPLETIONS)]


def mean_completion_logprob(model, prompt_ids, completion_ids):
    """By hand: one forward pass over prompt + completion, the completion tokens' mean log-probability."""
    ids = prompt_ids + completion_ids
    with torch.no_grad():
        logprobs = torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), -1)
    n = len(prompt_ids)
    return sum(logprobs[i - 1, ids[i]].item() for i in range(n, len(ids))) / len(completion_ids)


def plain(tokenizer, text):
    return tokenizer(text, add_special_tokens=False).input_ids


def test_the_llama_style_tokenizer_adds_bos_like_llama_and_splits_yes(tiny_llama_dir):
    tokenizer = load_tokenizer(tiny_llama_dir)
    assert tokenizer("def f").input_ids[0] == tokenizer.bos_token_id
    assert tokenizer.bos_token_id != tokenizer.eos_token_id
    assert len(plain(tokenizer, " yes")) == 2
    assert all(len(plain(tokenizer, w)) == 1 for w in (" good", " bad", " True", " False"))
    assert leading_special_ids(tokenizer) == [tokenizer.bos_token_id] and not adds_prefix_space(tokenizer)


def test_an_answer_word_is_one_token_or_an_error_naming_its_key_and_pieces(tiny_llama_dir):
    tokenizer = load_tokenizer(tiny_llama_dir)
    encoder = TextEncoder(tokenizer)
    assert single_token(encoder, " good", "gate_options.binary.yes_word") == plain(tokenizer, " good")[0]
    with pytest.raises(ValueError) as err:
        single_token(encoder, " yes", "gate_options.cross.yes_word")
    assert str(err.value).startswith("gate_options.cross.yes_word: ' yes' is 2 tokens [' y', 'es'] in this model's")
    assert "(per model: models.<name>.gate_options.cross.yes_word)" in str(err.value)


def test_the_embedded_tokenizer_adds_no_bos_and_keeps_todays_training_ids(tiny_model_dir):
    tokenizer = load_tokenizer(tiny_model_dir)
    assert leading_special_ids(tokenizer) == [] and tokenizer(PROMPT).input_ids == plain(tokenizer, PROMPT)
    rows = [{"prompt": PROMPT, "completion": c} for c in COMPLETIONS]
    ids, _, attention = finetune.encode(rows, tokenizer, finetune.FinetuneConfig())
    for row, completion in enumerate(COMPLETIONS):
        before = tokenizer(PROMPT).input_ids + tokenizer(completion).input_ids + [tokenizer.eos_token_id]
        assert ids[row, : int(attention[row].sum())].tolist() == before


def test_training_ids_have_one_bos_first_and_one_eos_last(tiny_llama_dir):
    tokenizer = load_tokenizer(tiny_llama_dir)
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    rows = [{"prompt": PROMPT, "completion": c} for c in COMPLETIONS]
    ids, labels, attention = finetune.encode(rows, tokenizer, finetune.FinetuneConfig(loss_on_prompt=False))
    n_prompt = 1 + len(plain(tokenizer, PROMPT))
    for row, completion in enumerate(COMPLETIONS):
        real = ids[row, : int(attention[row].sum())].tolist()
        assert real[0] == bos and real.count(bos) == 1
        assert real[-1] == eos and real.count(eos) == 1
        # the boundary: exactly the completion's own tokens between the prompt and EOS
        assert real[n_prompt:-1] == plain(tokenizer, completion)
        assert (labels[row, :n_prompt] == -100).all() and labels[row, n_prompt:len(real)].tolist() == real[n_prompt:]
    # the old encoding put a second BOS mid-sample
    old = tokenizer(PROMPT).input_ids + tokenizer(COMPLETIONS[0]).input_ids
    assert old.count(bos) == 2


def test_the_boundary_is_exact_where_joint_encoding_would_merge_across_it(tiny_model_dir, tiny_llama_dir):
    for model_dir in (tiny_model_dir, tiny_llama_dir):
        tokenizer = load_tokenizer(model_dir)
        encoder = TextEncoder(tokenizer)
        prompt, completion = "def f(x):\n", "    return x\n"  # newline + indent is one token when joint
        joint = plain(tokenizer, prompt + completion)
        encoded = encoder.pair(prompt, completion)
        assert encoded.ids[encoded.n_prompt :] == plain(tokenizer, completion)
        assert encoded.ids[: encoded.n_prompt] == tokenizer(prompt).input_ids
        assert tokenizer.decode(encoded.ids, skip_special_tokens=True) == prompt + completion
        assert joint != encoded.ids[len(encoder.leading) :]  # joint encoding would have no clean boundary


def test_a_dummy_prefix_space_is_not_added_to_a_continuation():
    """SentencePiece-style tokenizers (Llama-2, CodeLlama) prepend a space to every text they encode: a completion
    or an answer word encoded on its own must not gain it."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE(unk_token="<unk>"))
    # Llama's: a space before the first word only; newlines are tokens of their own (byte fallback in Llama)
    core.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split("\n", "isolated"),
                                                  pre_tokenizers.Metaspace(prepend_scheme="first")])
    core.decoder = decoders.Metaspace(prepend_scheme="first")
    core.train_from_iterator(["return x if x else y\nreturn y\n" * 50], trainer=trainers.BpeTrainer(
        vocab_size=120, special_tokens=["<unk>", "<s>"], show_progress=False))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", bos_token="<s>")
    encoder = TextEncoder(tokenizer)
    assert encoder.prefix_space
    at_start, continued = encoder.plain("return"), encoder.continuation("return")
    assert tokenizer.convert_ids_to_tokens(at_start)[0].startswith("\u2581")  # the dummy space
    assert not tokenizer.convert_ids_to_tokens(continued)[0].startswith("\u2581")
    assert encoder.continuation(" return") == at_start  # a real space is kept


def test_the_perplexity_gate_scores_the_single_bos_sequence(tiny_llama_dir):
    tokenizer, model = load_tokenizer(tiny_llama_dir), load_model(tiny_llama_dir)
    decisions = GATES.get("perplexity")({"keep_fraction": 0.5, "batch_size": 3}, model=str(tiny_llama_dir)).decide(
        samples())
    prompt_ids = [tokenizer.bos_token_id] + plain(tokenizer, PROMPT)
    single = [mean_completion_logprob(model, prompt_ids, plain(tokenizer, c)) for c in COMPLETIONS]
    two_bos = [mean_completion_logprob(model, tokenizer(PROMPT).input_ids, tokenizer(c).input_ids)
               for c in COMPLETIONS]
    assert [d.score for d in decisions] == pytest.approx(single, abs=1e-4)
    assert all(abs(d.score - old) > 1e-3 for d, old in zip(decisions, two_bos, strict=True))


def test_the_binary_gate_asks_with_one_bos_and_refuses_a_two_token_yes(tiny_llama_dir):
    tokenizer, model = load_tokenizer(tiny_llama_dir), load_model(tiny_llama_dir)
    template = "{prompt}{completion}\n# quality:"
    options = {"yes_word": " good", "no_word": " bad", "template": template, "keep_fraction": 0.5}
    decisions = GATES.get("binary")(options, model=str(tiny_llama_dir)).decide(samples())
    good, bad = plain(tokenizer, " good")[0], plain(tokenizer, " bad")[0]
    for decision, completion in zip(decisions, COMPLETIONS, strict=True):
        ids = [tokenizer.bos_token_id] + plain(tokenizer, template.format(prompt=PROMPT, completion=completion))
        with torch.no_grad():
            last = model(torch.tensor([ids])).logits[0, -1].float()
        assert decision.score == pytest.approx((last[good] - last[bad]).item(), abs=1e-4)
    with pytest.raises(ValueError, match=r"gate_options.binary.yes_word: ' yes' is 2 tokens \[' y', 'es'\]"):
        GATES.get("binary")({}, model=str(tiny_llama_dir)).decide(samples())


def test_the_audit_judges_with_the_same_encoding(tiny_llama_dir):
    from gatedloop.audit import judge

    tokenizer, model = load_tokenizer(tiny_llama_dir), load_model(tiny_llama_dir)
    generations = [{"id": s.id, "prompt_id": s.prompt_id, "prompt": s.prompt, "completion": s.completion,
                    "tests": [], "correct": i % 2 == 0} for i, s in enumerate(samples())]
    rows, stats = judge(generations, "perplexity", str(tiny_llama_dir), {"keep_fraction": 0.5}, 1, 10, 0)
    prompt_ids = [tokenizer.bos_token_id] + plain(tokenizer, PROMPT)
    expected = [mean_completion_logprob(model, prompt_ids, plain(tokenizer, c)) for c in COMPLETIONS]
    assert [r["score"] for r in rows] == pytest.approx(expected, abs=1e-4) and stats["n"] == len(COMPLETIONS)


def test_the_analysis_scores_and_probes_with_one_bos(tiny_llama_dir):
    from gatedloop.analyze import base_perplexity, hidden_state_moments

    tokenizer, model = load_tokenizer(tiny_llama_dir), load_model(tiny_llama_dir)
    rows = [{"prompt": PROMPT, "completion": c} for c in COMPLETIONS]
    prompt_ids = [tokenizer.bos_token_id] + plain(tokenizer, PROMPT)
    logprobs = [mean_completion_logprob(model, prompt_ids, plain(tokenizer, c)) for c in COMPLETIONS]
    assert base_perplexity(str(tiny_llama_dir), rows) == pytest.approx(math.exp(-sum(logprobs) / len(logprobs)),
                                                                         rel=1e-4)
    # probe: BOS in front of each snippet, its position left out of the moments
    texts = [PROMPT + c for c in COMPLETIONS]
    moments = hidden_state_moments(model, tokenizer, texts, {"last": 2}, max_tokens=64, batch_size=2)
    counts, firsts, _ = moments["last"]
    by_hand_count, by_hand_sum = 0, torch.zeros(model.config.hidden_size, dtype=torch.float64)
    for text in texts:
        ids = [tokenizer.bos_token_id] + plain(tokenizer, text)[:64]
        with torch.no_grad():
            states = model.base_model(torch.tensor([ids]), output_hidden_states=True).hidden_states[2][0]
        by_hand_count += len(ids) - 1
        by_hand_sum += states[1:].double().sum(0)
    assert counts.sum() == by_hand_count
    assert firsts.sum(0) == pytest.approx(by_hand_sum.numpy(), abs=1e-6)
