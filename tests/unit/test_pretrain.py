import json

from gatedloop.data import task_families as microtasks
from gatedloop.models.scratch import train_tokenizer
from gatedloop.pretrain import ModelShape, PretrainConfig, lr_at, pretrain


def test_learning_rate_warms_up_then_decays():
    cfg = PretrainConfig(steps=100, lr=1.0, warmup_steps=10)
    assert lr_at(0, cfg) < lr_at(9, cfg) == 1.0
    assert lr_at(99, cfg) < lr_at(50, cfg) < 1.0 and lr_at(99, cfg) >= 0.1


def test_a_few_steps_lower_the_loss_and_the_result_is_reproducible():
    docs = [{"source": "microtask", "text": t.prompt + t.canonical_solution} for t in microtasks.all_tasks()[:200]]
    tokenizer = train_tokenizer([d["text"] for d in docs], vocab_size=300)
    shape = ModelShape(n_embd=32, n_layer=1, n_head=2, n_positions=64)
    cfg = PretrainConfig(steps=30, batch_size=4, seq_len=32, lr=3e-3, warmup_steps=3)
    model, history = pretrain(docs, tokenizer, shape, cfg, log_every=10)
    assert history[-1]["loss"] < history[0]["loss"] - 1.0
    again, history_again = pretrain(docs, tokenizer, shape, cfg, log_every=10)
    assert json.dumps(history) .split('"seconds"')[0] == json.dumps(history_again).split('"seconds"')[0]
    assert all((a == b).all() for a, b in zip(model.parameters(), again.parameters(), strict=True))
