import json

import pytest
import torch
from finetune_rounds import PROMPT, run_cli, two_rounds, write_round

from gatedloop import finetune
from gatedloop.models.loading import load_model, load_tokenizer


def test_only_accepted_samples_are_trained_on(tmp_path):
    write_round(tmp_path, accepted=lambda i: i % 2 == 0)
    kept = finetune.accepted_samples(tmp_path / "samples.jsonl", tmp_path / "decisions.jsonl")
    assert [s["id"] for s in kept] == ["t0#0", "t2#0", "t4#0"]


def test_encode_masks_padding_and_optionally_the_prompt(tiny_model_dir):
    tokenizer = load_tokenizer(tiny_model_dir)
    samples = [{"prompt": PROMPT, "completion": "\n    return x + 7\n"}, {"prompt": "def f", "completion": "()"}]
    ids, labels, attention = finetune.encode(samples, tokenizer, finetune.FinetuneConfig())
    assert ids.shape == labels.shape == attention.shape
    assert (labels[attention == 0] == -100).all() and (labels[attention == 1] != -100).all()
    ids, labels, _ = finetune.encode(samples, tokenizer, finetune.FinetuneConfig(loss_on_prompt=False))
    n_prompt = len(tokenizer(PROMPT).input_ids)
    assert (labels[0, :n_prompt] == -100).all() and (labels[0, n_prompt] != -100)


def test_lora_round_changes_the_model_and_saves_adapter_and_merged_weights(tmp_path, tiny_model_dir):
    write_round(tmp_path, accepted=lambda i: True)
    stats = run_cli(tmp_path, tiny_model_dir)
    assert stats["n_train"] == 6 and not stats["skipped"]
    assert (tmp_path / "adapter" / "adapter_config.json").exists()
    before = load_model(tiny_model_dir).state_dict()
    after = load_model(tmp_path / "model").state_dict()
    assert set(before) == set(after)  # merged: a plain model again, no LoRA modules
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed and all(any(m in k for m in ("c_attn", "c_proj", "c_fc")) for k in changed)  # LoRA targets only
    assert not any("wte" in k or "ln_" in k for k in changed)
    assert stats["history"][-1]["loss"] < stats["history"][0]["loss"]


def test_a_gate_that_accepts_nothing_carries_the_model_forward(tmp_path, tiny_model_dir, capsys):
    write_round(tmp_path, accepted=lambda i: False)
    stats = run_cli(tmp_path, tiny_model_dir)
    assert stats["skipped"] and stats["n_train"] == 0
    assert "WARNING: the gate accepted no sample" in capsys.readouterr().err
    before, after = load_model(tiny_model_dir).state_dict(), load_model(tmp_path / "model").state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_a_sample_without_a_decision_is_an_error(tmp_path):
    write_round(tmp_path, accepted=lambda i: True)
    lines = (tmp_path / "decisions.jsonl").read_text().splitlines()
    (tmp_path / "decisions.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(ValueError, match="no decision for sample"):
        finetune.accepted_samples(tmp_path / "samples.jsonl", tmp_path / "decisions.jsonl")


def test_the_budget_caps_training_samples_with_a_seeded_subset():
    accepted = [{"id": str(i)} for i in range(10)]
    subset = finetune.training_subset(accepted, 4, seed=1)
    assert len(subset) == 4 and subset == finetune.training_subset(accepted, 4, seed=1)
    assert subset != finetune.training_subset(accepted, 4, seed=2)
    assert finetune.training_subset(accepted, None, seed=1) == accepted
    assert finetune.training_subset(accepted, 20, seed=1) == accepted


def test_cli_records_accepted_and_trained_counts_under_a_budget(tmp_path, tiny_model_dir):
    write_round(tmp_path, accepted=lambda i: True)
    stats = run_cli(tmp_path, tiny_model_dir, "--max-train", "2")
    assert (stats["n_accepted"], stats["n_train"], stats["max_train"]) == (6, 2, 2)


def test_accumulate_trains_on_every_round_given_and_mix_adds_human_code(tmp_path, tiny_model_dir):
    write_round(tmp_path, accepted=lambda i: i < 4, suffix="1")
    write_round(tmp_path, accepted=lambda i: i < 2, suffix="2")
    pool = tmp_path / "human.jsonl"
    pool.write_text("".join(json.dumps({"id": f"h{i}", "prompt": "", "completion": f"def h{i}():\n    return {i}\n"})
                            + "\n" for i in range(5)))
    stats = run_cli(tmp_path, tiny_model_dir, "--max-train", "3", rounds=("1", "2"))
    assert (stats["n_accepted"], stats["n_train"], stats["rounds_used"]) == (6, 5, 2)  # 3 (capped) + 2
    stats = run_cli(tmp_path, tiny_model_dir, "--human", str(pool), "--human-fraction", "0.5",
                    "--human-round", "2", rounds=("2",))
    assert (stats["n_train_generated"], stats["n_train_human"]) == (2, 2)


def test_human_slice_is_fresh_each_round_and_sized_by_the_fraction():
    pool = [{"id": str(i)} for i in range(10)]
    first = finetune.human_slice(pool, 6, 0.25, 1)
    second = finetune.human_slice(pool, 6, 0.25, 2)
    assert len(first) == 2 and [r["id"] for r in first] == ["0", "1"] and [r["id"] for r in second] == ["2", "3"]
    assert finetune.human_slice(pool, 0, 0.25, 1) == []


def test_all_linear_targets_every_linear_layer_but_the_head(tiny_model_dir):
    from peft import LoraConfig, get_peft_model

    from gatedloop.finetune import lora_targets
    from gatedloop.models.loading import load_model

    assert lora_targets(["c_attn", "c_fc"]) == ["c_attn", "c_fc"]
    assert lora_targets(["all-linear"]) == "all-linear"
    model = get_peft_model(load_model(tiny_model_dir), LoraConfig(r=2, target_modules=lora_targets(["all-linear"]),
                                                                  task_type="CAUSAL_LM"))
    adapted = {name.split(".")[-1] for name, _ in model.named_modules() if name.endswith("lora_A")}
    wrapped = {name.rsplit(".", 2)[-2] for name, _ in model.named_modules() if name.endswith("lora_A")}
    assert adapted == {"lora_A"} and {"c_attn", "c_proj", "c_fc"} <= wrapped and "lm_head" not in wrapped


def test_an_adapter_chain_rebuilds_exactly_the_merged_weights_and_holds_none(tmp_path, tiny_model_dir):
    merged = load_model(two_rounds(tmp_path / "merged", tiny_model_dir)).state_dict()
    chain_dir = two_rounds(tmp_path / "chain", tiny_model_dir, "--adapter-chain")
    assert not any(chain_dir.glob("*.safetensors")) and not any(chain_dir.glob("*.bin"))
    assert json.loads((chain_dir / "chain.json").read_text())["adapters"] == [
        "../../round1/adapter", "../adapter"]
    rebuilt = load_model(chain_dir).state_dict()
    assert set(rebuilt) == set(merged) and all(torch.equal(rebuilt[k], merged[k]) for k in merged)
    assert load_tokenizer(chain_dir)("def f(x):").input_ids == load_tokenizer(tiny_model_dir)("def f(x):").input_ids


def test_an_adapter_chain_survives_a_move_and_names_a_missing_adapter(tmp_path, tiny_model_dir):
    base = tmp_path / "results" / "base"
    import shutil

    shutil.copytree(tiny_model_dir, base)
    two_rounds(tmp_path / "results" / "runs", base, "--adapter-chain")
    moved = tmp_path / "elsewhere"
    shutil.move(tmp_path / "results", moved)
    assert load_model(moved / "runs" / "round2" / "model") is not None
    shutil.rmtree(moved / "runs" / "round1" / "adapter")
    with pytest.raises(FileNotFoundError, match="round1/adapter"):
        load_model(moved / "runs" / "round2" / "model")


def test_a_skipped_round_carries_the_chain_forward(tmp_path, tiny_model_dir):
    round1 = two_rounds(tmp_path / "runs", tiny_model_dir, "--adapter-chain").parent.parent / "round1" / "model"
    skipped = tmp_path / "skip"
    skipped.mkdir()
    write_round(skipped, accepted=lambda i: False)
    run_cli(skipped, round1, "--adapter-chain")
    before, after = load_model(round1).state_dict(), load_model(skipped / "model").state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_an_adapter_chain_under_a_results_folder_that_links_to_scratch_space(tmp_path, tiny_model_dir):
    """Clusters often link results/ to a scratch filesystem, deeper than the checkout: the chain is written and read
    by names (through the link), and read through the link's target too."""
    import shutil

    scratch = tmp_path / "scratch/group/user/project/results"
    scratch.mkdir(parents=True)
    (tmp_path / "checkout").mkdir()
    (tmp_path / "checkout/results").symlink_to(scratch)
    results = tmp_path / "checkout/results"
    shutil.copytree(tiny_model_dir, results / "base")
    two_rounds(results / "runs", results / "base", "--adapter-chain")
    through_link = load_model(results / "runs/round2/model").state_dict()
    through_target = load_model(scratch / "runs/round2/model").state_dict()
    assert all(torch.equal(through_link[k], through_target[k]) for k in through_link)


FULL = ("--method", "full", "--lr", "0.001", "--weight-decay", "0.05")


def test_a_full_finetune_changes_every_weight_lowers_the_loss_and_saves_full_weights(tmp_path, tiny_model_dir,
                                                                                     capsys):
    write_round(tmp_path, accepted=lambda i: True)
    stats = run_cli(tmp_path, tiny_model_dir, *FULL, "--gradient-checkpointing", "true")
    assert "gradient checkpointing" not in capsys.readouterr().err  # GPT-2 supports it
    before = dict(load_model(tiny_model_dir).named_parameters())
    after = dict(load_model(tmp_path / "model").named_parameters())
    assert set(before) == set(after) and all(not torch.equal(before[k], after[k]) for k in before)
    assert stats["method"] == "full" and stats["history"][-1]["loss"] < stats["history"][0]["loss"]
    assert not (tmp_path / "adapter" / "adapter_config.json").exists()
    assert json.loads((tmp_path / "adapter" / "full_finetune.json").read_text())["method"] == "full"
    assert stats["trained"] == {"steps": 6, "sequences": 12, "tokens": stats["trained"]["tokens"], "passes": 2.0}


def test_lora_stays_the_default_and_its_added_settings_at_their_defaults_change_nothing(tmp_path, tiny_model_dir):
    (tmp_path / "plain").mkdir()
    (tmp_path / "explicit").mkdir()
    write_round(tmp_path / "plain", accepted=lambda i: True)
    write_round(tmp_path / "explicit", accepted=lambda i: True)
    plain = run_cli(tmp_path / "plain", tiny_model_dir)
    explicit = run_cli(tmp_path / "explicit", tiny_model_dir, "--method", "lora", "--weight-decay", "0.0",
                       "--grad-accum", "1", "--packing", "false", "--fim-rate", "0.0", "--round", "3")
    assert plain["method"] == "lora" and plain["history"] == explicit["history"]
    for name in ("model/model.safetensors", "adapter/adapter_model.safetensors"):
        assert (tmp_path / "plain" / name).read_bytes() == (tmp_path / "explicit" / name).read_bytes()
    assert finetune.run_settings(finetune.FinetuneConfig()) == finetune.run_settings(
        finetune.FinetuneConfig(method="lora", fim_spm_rate=0.5))
    assert "method" not in finetune.run_settings(finetune.FinetuneConfig())


def test_a_full_finetune_warms_up_in_round_one_only(tmp_path, tiny_model_dir):
    cfg = finetune.FinetuneConfig(method="full", warmup_steps=5)
    assert [finetune.full_warmup_steps(cfg, r) for r in (None, 1, 2, 7)] == [5, 5, 0, 0]
    write_round(tmp_path, accepted=lambda i: True)
    assert run_cli(tmp_path, tiny_model_dir, *FULL, "--round", "2")["warmup_steps"] == 0
    assert run_cli(tmp_path, tiny_model_dir, *FULL, "--round", "1")["warmup_steps"] == 5


def test_packing_trains_on_full_sequences_pass_after_pass_and_records_them(tmp_path, tiny_model_dir):
    write_round(tmp_path, accepted=lambda i: True)
    stats = run_cli(tmp_path, tiny_model_dir, *FULL, "--packing", "true", "--max-len", "16", "--grad-accum", "2")
    available = stats["data"]["sequences_available"]
    assert stats["trained"]["sequences"] == 6 * 2 * 2 and stats["trained"]["tokens"] == 24 * 16
    assert stats["trained"]["passes"] == round(24 / available, 4) and stats["trained"]["passes"] > 1
    assert stats["data"]["fim"] == {"rate": 0.0, "spm_rate": 0.5, "enabled": False, "texts_rearranged": 0}
    again = run_cli(tmp_path, tiny_model_dir, *FULL, "--packing", "true", "--max-len", "16", "--grad-accum", "2")
    assert again["history"] == stats["history"]  # the seeded shuffle draws the same sequences


def test_fim_is_off_with_its_reason_when_the_tokenizer_has_no_fim_tokens(tmp_path, tiny_model_dir, capsys):
    write_round(tmp_path, accepted=lambda i: True)
    stats = run_cli(tmp_path, tiny_model_dir, "--packing", "true", "--max-len", "16", "--fim-rate", "0.5")
    assert stats["data"]["fim"]["enabled"] is False
    assert stats["data"]["fim"]["reason_off"] == "the tokenizer has no FIM tokens"
    assert "FIM is off" in capsys.readouterr().err


def test_fim_uses_the_tokenizers_own_fim_tokens(tiny_model_dir):
    tokenizer = load_tokenizer(tiny_model_dir)
    tokenizer.add_special_tokens({"additional_special_tokens": ["<fim_prefix>", "<fim_middle>", "<fim_suffix>"]})
    samples = [{"prompt": PROMPT, "completion": f"\n    return x + {i}\n"} for i in range(8)]
    cfg = finetune.FinetuneConfig(packing=True, max_len=16, fim_rate=1.0, fim_spm_rate=0.0)
    (ids, labels, attention), info = finetune.packed_rows(samples, tokenizer, cfg)
    prefix = tokenizer.convert_tokens_to_ids("<fim_prefix>")
    assert info["fim"]["enabled"] and info["fim"]["texts_rearranged"] == 8 and info["fim"]["tokens"][0] == prefix
    assert ids[0, 0].item() == prefix and torch.equal(ids, labels) and bool(attention.all())


def test_a_full_round_after_a_full_round_keeps_full_weights_even_without_merged_weights(tmp_path, tiny_model_dir):
    model_dir = two_rounds(tmp_path, tiny_model_dir, *FULL, "--adapter-chain")
    assert any(model_dir.glob("*.safetensors")) and not (model_dir / "chain.json").exists()
    round1 = dict(load_model(tmp_path / "round1" / "model").named_parameters())
    round2 = dict(load_model(model_dir).named_parameters())
    assert all(not torch.equal(round1[k], round2[k]) for k in round1)


@pytest.mark.parametrize("bad, message", [(("--method", "adapter"), "finetune.method"),
                                          (("--packing", "true", "--loss-on-prompt", "false"), "loss_on_prompt"),
                                          (("--fim-rate", "0.5"), "set packing true"),
                                          (("--gradient-checkpointing", "true"), "for method full")])
def test_contradictory_settings_are_refused(tmp_path, tiny_model_dir, bad, message, capsys):
    write_round(tmp_path, accepted=lambda i: True)
    with pytest.raises(SystemExit):
        run_cli(tmp_path, tiny_model_dir, *bad)
    assert message in capsys.readouterr().err


def test_the_full_schedule_is_the_studys_cosine_with_warmup_and_loras_is_unchanged():
    assert [finetune.full_lr_factor(s, 10, 4) for s in (0, 2, 4)] == [0.0, 0.5, 1.0]
    assert finetune.full_lr_factor(7, 10, 4) == pytest.approx(0.5)  # half-way through the decay after warmup
    assert finetune.full_lr_factor(0, 10, 0) == 1.0
    assert finetune.lora_lr_factor(0, 10, 4) == 0.25 and finetune.lora_lr_factor(5, 10, 0) == pytest.approx(0.5)


def test_weight_decay_spares_biases_and_norms(tiny_llama_dir):
    model = load_model(tiny_llama_dir)
    assert finetune.parameter_groups(model, 0.0) == list(model.parameters())
    decayed, spared = finetune.parameter_groups(model, 0.05)
    names = {id(p): name for name, p in model.named_parameters()}
    assert decayed["weight_decay"] == 0.05 and spared["weight_decay"] == 0.0
    assert {names[id(p)] for p in spared["params"]} == {n for n, _ in model.named_parameters() if "norm" in n}
    assert any("q_proj" in names[id(p)] for p in decayed["params"])


def test_selection_in_waves_trains_on_the_first_n_accepted_in_generation_order(tmp_path, tiny_model_dir):
    accepted = [{"id": str(i)} for i in range(10)]
    assert finetune.training_subset(accepted, 4, seed=1, first=True) == accepted[:4]
    assert finetune.training_subset(accepted, 20, seed=1, first=True) == accepted
    write_round(tmp_path, accepted=lambda i: i != 1)  # t0, t2, t3, t4, t5 accepted
    stats = run_cli(tmp_path, tiny_model_dir, "--max-train", "3", "--first-accepted")
    assert stats["train_ids"] == ["t0#0", "t2#0", "t3#0"] and stats["selection"] == "first accepted"
    assert (stats["n_accepted"], stats["n_train"]) == (5, 3)


def test_a_gate_job_that_accepts_fewer_than_the_waves_stopped_at_stops_the_round(tmp_path, tiny_model_dir):
    write_round(tmp_path, accepted=lambda i: i < 2)
    with pytest.raises(SystemExit, match="accepts 2 samples, fewer than the 3 its selection in waves stopped at"):
        run_cli(tmp_path, tiny_model_dir, "--max-train", "3", "--first-accepted")
    assert not (tmp_path / "finetune.json").exists()


def _mixture_files(tmp_path, anchors, extra_anchor=None):
    rows = [{"id": f"a{i}", "content": f"def anchor_{i}():\n    return {i}\n", "verified": True}
            for i in range(anchors)]
    rows += [extra_anchor] if extra_anchor else []
    (tmp_path / "anchors.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (tmp_path / "nl.jsonl").write_text("".join(json.dumps({"content": f"# note {i}: lists are mutable"}) + "\n"
                                               for i in range(5)))
    return ["--anchors", str(tmp_path / "anchors.jsonl"), "--anchor-fraction", "0.25", "--anchor-seed", "3",
            "--nl", str(tmp_path / "nl.jsonl"), "--nl-fraction", "0.25"]


def test_the_mixture_keeps_the_total_and_records_the_rounds_anchor_slice(tmp_path, tiny_model_dir):
    from gatedloop.data import mixture

    write_round(tmp_path, accepted=lambda i: True)
    flags = _mixture_files(tmp_path, anchors=4)
    stats = run_cli(tmp_path, tiny_model_dir, "--max-train", "4", *flags, "--mixture-round", "2")
    assert (stats["n_train"], stats["n_train_generated"], stats["n_train_anchor"], stats["n_train_nl"]) == (4, 2, 1, 1)
    expected = [row["id"] for row in mixture.anchor_slice(mixture.read_anchors(tmp_path / "anchors.jsonl"), 1, 2, 3)]
    assert stats["anchor_slice"]["ids"] == expected and stats["anchor_slice"]["round"] == 2
    added = [i for i in stats["train_ids"] if i.startswith(("anchor:", "nl:"))]
    assert added[0] == f"anchor:{expected[0]}" and len(added) == 2 and added[1].startswith("nl:line")


def test_an_anchor_repeating_a_synthetic_sample_is_refused_naming_both(tmp_path, tiny_model_dir):
    write_round(tmp_path, accepted=lambda i: True)
    copy = {"id": "copied", "content": PROMPT + "\n    return x + 7\n", "verified": True}
    flags = _mixture_files(tmp_path, anchors=0, extra_anchor=copy)
    with pytest.raises(SystemExit, match=r"round 1's slice repeat a synthetic sample .*copied = t0#0"):
        run_cli(tmp_path, tiny_model_dir, "--max-train", "4", *flags, "--mixture-round", "1")


def test_a_mixture_needs_the_rounds_total(tmp_path, tiny_model_dir, capsys):
    write_round(tmp_path, accepted=lambda i: True)
    with pytest.raises(SystemExit):
        run_cli(tmp_path, tiny_model_dir, *_mixture_files(tmp_path, anchors=4))
    assert "give it as --max-train" in capsys.readouterr().err


def test_without_a_mixture_the_stats_record_none(tmp_path, tiny_model_dir):
    write_round(tmp_path, accepted=lambda i: True)
    stats = run_cli(tmp_path, tiny_model_dir, "--max-train", "3")
    assert (stats["n_train"], stats["n_train_anchor"], stats["n_train_nl"], stats["anchor_slice"]) == (3, 0, 0, None)


def _finetune_commands(tmp_path, config):
    import shlex

    import yaml
    from workflow_runs import snakemake

    tmp_path.mkdir()
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"models": {"tiny": {"source": "scratch"}}, "gates": ["none"], "rounds": 2,
                                    "control": {"enabled": False}, **config}))
    result = snakemake(tmp_path / "run", "-n", "-p", configfile=path)
    assert result.returncode == 0, result.stderr[-3000:]
    return [shlex.split(line.split("python -m gatedloop.finetune")[1].split(">")[0])
            for line in result.stdout.splitlines() if "python -m gatedloop.finetune" in line]


def test_the_workflow_passes_the_mixture_only_where_a_fraction_is_on(tmp_path):
    off = _finetune_commands(tmp_path / "off", {"budget": {"accepted_per_round": 10}})
    assert len(off) == 2 and not any("--anchors" in c or "--nl" in c or "--mixture-round" in c for c in off)
    _mixture_files(tmp_path, anchors=4)
    on = _finetune_commands(tmp_path / "on", {
        "budget": {"accepted_per_round": 10}, "anchors": {"path": str(tmp_path / "anchors.jsonl"), "fraction": 0.2},
        "natural_language": {"path": str(tmp_path / "nl.jsonl"), "fraction": 0.1},
        "models": {"tiny": {"source": "scratch", "nl_fraction": 0.3}}})
    by_round = {c[c.index("--mixture-round") + 1]: c for c in on}
    assert set(by_round) == {"1", "2"}
    for words in on:
        flags = dict(zip(words, words[1:], strict=False))
        assert flags["--anchors"].endswith("anchors.jsonl") and flags["--anchor-fraction"] == "0.2"
        assert flags["--nl-fraction"] == "0.3" and flags["--max-train"] == "10"  # the model's own share


def test_anchors_reach_only_the_arms_anchors_arms_names(tmp_path):
    _mixture_files(tmp_path, anchors=8)
    import yaml
    from workflow_runs import snakemake

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({
        "models": {"tiny": {"source": "scratch"}}, "gates": ["none", "compile", "compile@anchor"], "rounds": 2,
        "control": {"enabled": False}, "budget": {"accepted_per_round": 10},
        "anchors": {"path": str(tmp_path / "anchors.jsonl"), "fraction": 0.2, "arms": ["compile@anchor"]}}))
    result = snakemake(tmp_path / "run", "-n", "-p", configfile=path)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if "python -m gatedloop.finetune" in line]
    anchored = [line for line in lines if "/compile@anchor/" in line]
    assert len(lines) == 6 and len(anchored) == 2
    assert all("--anchors" in line for line in anchored)
    assert not any("--anchors" in line for line in lines if line not in anchored)


def test_train_text_completion_leaves_the_prompt_out_of_the_text(tiny_model_dir):
    from gatedloop.core.encoding import TextEncoder

    tokenizer = load_tokenizer(tiny_model_dir)
    samples = [{"prompt": PROMPT, "completion": f"\n    return x + {i}\n"} for i in range(8)]
    encoder = TextEncoder(tokenizer)
    for packing in (False, True):
        both = finetune.FinetuneConfig(packing=packing, max_len=16)
        alone = finetune.FinetuneConfig(packing=packing, max_len=16, train_text="completion")
        (with_prompt, *_), _ = finetune.training_rows(samples, tokenizer, both)
        (without, *_), info = finetune.training_rows(samples, tokenizer, alone)
        head = encoder.text(PROMPT)[:6]  # the prompt's first tokens: in the text with it, nowhere without it

        def holds(rows, part=head):
            flat = rows.flatten().tolist()
            return any(flat[i:i + len(part)] == part for i in range(len(flat)))

        assert holds(with_prompt) and not holds(without)
    with pytest.raises(ValueError, match="finetune.train_text 'prompt'"):
        finetune.check_settings(finetune.FinetuneConfig(train_text="prompt"))
