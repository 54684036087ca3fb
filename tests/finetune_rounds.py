"""Fine-tuning rounds from tests: a round's samples and decisions on disk, and the finetune CLI run on them."""

import json

from gatedloop import finetune

PROMPT = 'def add_value(x):\n    """Return x plus 7."""'


def write_round(tmp_path, accepted, suffix=""):
    samples = [{"id": f"t{i}#0", "prompt_id": f"t{i}", "prompt": PROMPT, "completion": "\n    return x + 7\n"}
               for i in range(6)]
    decisions = [{"id": s["id"], "prompt_id": s["prompt_id"], "score": 1.0, "accepted": accepted(i), "reason": ""}
                 for i, s in enumerate(samples)]
    (tmp_path / f"samples{suffix}.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    (tmp_path / f"decisions{suffix}.jsonl").write_text("".join(json.dumps(d) + "\n" for d in decisions))


def run_cli(tmp_path, model_dir, *extra, rounds=("",)):
    samples = [str(tmp_path / f"samples{r}.jsonl") for r in rounds]
    decisions = [str(tmp_path / f"decisions{r}.jsonl") for r in rounds]
    finetune.main(["--model", str(model_dir), "--samples", *samples, "--decisions", *decisions,
                   "--out-model", str(tmp_path / "model"),
                   "--out-adapter", str(tmp_path / "adapter"), "--out-stats", str(tmp_path / "finetune.json"),
                   "--steps", "6", "--batch-size", "2", "--lr", "0.01", *extra])
    return json.loads((tmp_path / "finetune.json").read_text())


def two_rounds(root, base_dir, *extra):
    """Round 1 on the base model, round 2 on round 1's model, each in its own directory under ``root``."""
    for r, previous in ((1, base_dir), (2, root / "round1" / "model")):
        round_dir = root / f"round{r}"
        round_dir.mkdir(parents=True)
        write_round(round_dir, accepted=lambda i: True)
        run_cli(round_dir, previous, "--seed", str(r), *extra)
    return root / "round2" / "model"
