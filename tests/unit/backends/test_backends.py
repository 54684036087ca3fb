import pytest

from gatedloop.backends import BACKENDS, SamplingParams, truncate_at_stop


def test_truncate_at_the_first_stop_sequence():
    assert truncate_at_stop("\n    return 1\ndef g():\n#x", ["\n#", "\ndef "]) == "\n    return 1"
    assert truncate_at_stop("no stop here", ["\ndef "]) == "no stop here"


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(KeyError, match="unknown backend 'tgi'; known: transformers"):
        BACKENDS.get("tgi")


@pytest.fixture(scope="module")
def backend(tiny_model_dir):
    return BACKENDS.get("transformers")(str(tiny_model_dir))


PROMPTS = ['def add_value(x):\n    """Return x plus 7."""', 'def f(xs):\n    """Return the items."""', "def g"]


def test_sampling_is_reproducible_from_the_seed(backend):
    params = SamplingParams(max_new_tokens=12, batch_size=2)
    first = backend.generate(PROMPTS, params, seed=3)
    assert first == backend.generate(PROMPTS, params, seed=3)
    assert len(first) == 3 and all(isinstance(c, str) for c in first)
    assert first != backend.generate(PROMPTS, params, seed=4)


def test_greedy_batched_equals_one_at_a_time(backend):
    """Left padding must not change what the model writes."""
    params = SamplingParams(temperature=0.0, max_new_tokens=12, batch_size=3, stop=[])
    batched = backend.generate(PROMPTS, params, seed=0)
    single = [backend.generate([p], SamplingParams(temperature=0.0, max_new_tokens=12, batch_size=1, stop=[]),
                               seed=0)[0] for p in PROMPTS]
    assert batched == single


def test_completions_are_cut_at_stop_sequences(backend):
    params = SamplingParams(max_new_tokens=30, batch_size=3, temperature=1.0, stop=["e"])
    assert all("e" not in c for c in backend.generate(PROMPTS, params, seed=1))


def test_nucleus_warper_keeps_what_transformers_top_p_keeps():
    import torch
    from transformers.generation.logits_process import TemperatureLogitsWarper, TopPLogitsWarper

    from gatedloop.backends.transformers_backend import nucleus_warper

    torch.manual_seed(0)
    differing, rows = 0, 0
    for scale in (0.05, 1.0, 8.0):  # 0.05: flat rows, where the candidates hold too little mass (full-sort path)
        logits = torch.randn(128, 4096) * scale
        for temperature, top_p in ((0.8, 0.95), (1.0, 0.5), (1.3, 0.99)):
            expected = TopPLogitsWarper(top_p)(None, TemperatureLogitsWarper(temperature)(None, logits.clone()))
            ours = nucleus_warper(temperature, top_p)(None, logits.clone())
            kept_expected, kept_ours = torch.isfinite(expected), torch.isfinite(ours)
            assert torch.allclose(expected[kept_expected & kept_ours], ours[kept_expected & kept_ours])
            differing += (kept_expected != kept_ours).any(dim=1).sum().item()
            rows += len(logits)
    assert differing <= rows // 500  # float rounding exactly at the p boundary, nothing more


def test_a_prompt_longer_than_the_context_keeps_its_end(tiny_model_dir, capsys):
    from gatedloop.backends import BACKENDS

    backend = BACKENDS.get("transformers")(str(tiny_model_dir))
    long_prompt = "x = 1\n" * 400 + "def f(x):\n"  # far beyond the fixture's 128 positions
    (completion,) = backend.generate([long_prompt], SamplingParams(temperature=0.0, max_new_tokens=8), seed=0)
    assert isinstance(completion, str)
    assert "kept their last tokens only" in capsys.readouterr().err


def test_a_backend_spec_carries_engine_options_and_bad_ones_are_named():
    from gatedloop.backends import parse_spec
    from gatedloop.backends.vllm_backend import parse_backend_options

    assert parse_spec("transformers") == ("transformers", {})
    assert parse_spec("vllm:tensor_parallel_size=2,enforce_eager=true") == (
        "vllm", {"tensor_parallel_size": "2", "enforce_eager": "true"})
    assert parse_backend_options({"tensor_parallel_size": "2", "enforce_eager": "true",
                                  "gpu_memory_utilization": "0.9"}) == {
        "tensor_parallel_size": 2, "enforce_eager": True, "gpu_memory_utilization": 0.9}
    with pytest.raises(ValueError, match="option 'tensor_parallel_size' is not KEY=VALUE"):
        parse_spec("vllm:tensor_parallel_size")
    with pytest.raises(ValueError, match="unknown vllm option 'tp'; known: enforce_eager"):
        parse_backend_options({"tp": "2"})
    assert "vllm" in BACKENDS.names()


def test_the_vllm_backend_without_vllm_says_how_to_install_it(tiny_model_dir):
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vLLM is installed here")
    with pytest.raises(RuntimeError, match="the vllm backend needs vLLM.*make vllm-env"):
        BACKENDS.get("vllm")(str(tiny_model_dir))


def test_a_continuation_keeps_the_space_a_sentencepiece_tokenizer_drops_when_decoding_alone():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from gatedloop.backends.base import decode_continuation

    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first")  # Llama's: a dummy space before the text
    core.decoder = decoders.Metaspace(prepend_scheme="first")
    core.train_from_iterator(["x = 1 return x if x else y return y " * 50], trainer=trainers.BpeTrainer(
        vocab_size=120, special_tokens=["<unk>", "<s>"], show_progress=False))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", bos_token="<s>")
    prompt_ids = tokenizer("x = 1").input_ids
    whole = tokenizer("x = 1 return x").input_ids
    assert whole[: len(prompt_ids)] == prompt_ids
    new_ids = whole[len(prompt_ids):]
    assert tokenizer.decode(new_ids) == "return x"  # the first token's space is dropped when decoded alone
    assert decode_continuation(tokenizer, prompt_ids, new_ids) == " return x"


def test_a_byte_level_continuation_decodes_as_before(tiny_model_dir):
    from gatedloop.backends.base import decode_continuation
    from gatedloop.models.loading import load_tokenizer

    tokenizer = load_tokenizer(tiny_model_dir)
    prompt_ids, new_ids = tokenizer("def f(x):").input_ids, tokenizer("\n    return x + 1").input_ids
    assert decode_continuation(tokenizer, prompt_ids, new_ids) == tokenizer.decode(new_ids) == "\n    return x + 1"
