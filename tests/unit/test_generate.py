from gatedloop.backends import SamplingParams
from gatedloop.generate import expand, generate_samples

POOL = [{"task_id": f"p{i}", "prompt": f"def f{i}(x):", "tests": [f"assert f{i}(1)"]} for i in range(3)]


def test_expand_per_prompt_or_cycling_the_pool():
    assert [(r["task_id"], k) for r, k in expand(POOL, 2)] == [("p0", 0), ("p0", 1), ("p1", 0), ("p1", 1),
                                                               ("p2", 0), ("p2", 1)]
    assert [(r["task_id"], k) for r, k in expand(POOL, 1, n_samples=5)] == [("p0", 0), ("p1", 0), ("p2", 0),
                                                                          ("p0", 1), ("p1", 1)]


def test_samples_carry_ids_prompts_and_tests(tiny_model_dir):
    samples = generate_samples(str(tiny_model_dir), POOL, 1, SamplingParams(max_new_tokens=5), seed=0, n_samples=4)
    assert [s["id"] for s in samples] == ["p0#0", "p1#0", "p2#0", "p0#1"]
    assert samples[3]["prompt"] == "def f0(x):" and samples[3]["tests"] == ["assert f0(1)"]
    assert all(isinstance(s["completion"], str) for s in samples)
