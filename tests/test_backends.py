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
