"""The model stages of one round, through their real CLIs, on tiny models made on the spot: a device check.

    python bench/gpu_smoke.py [--dtype auto] [--archs gpt2 llama qwen2] [--out DIR]

For each architecture (gatedloop.models.tiny: the embedded GPT-2, a BOS-adding Llama, a Qwen2), it saves a
random-weight model as round 0, then runs generate, the perplexity and binary gates, fine-tuning (merged weights,
and again as an adapter chain), scoring on held-out microtasks and the analysis, each as its own
``python -m gatedloop.<stage>`` process as the workflow runs them. It prints one line per stage (seconds, what it
made) and checks what must hold on any device: the merged model is saved in the base model's dtype, and the
adapter chain rebuilds the merged weights exactly. On a GPU machine with ``--dtype auto`` the models run in
bfloat16; on a CPU in float32 (``--dtype bfloat16`` tries bf16 there). A stage that fails is reported with the end
of its log and the rest go on; the exit status says whether all passed. ``bench/gpu_smoke.sh`` wraps it for the
device tool (results under $OUT).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POOL, HELDOUT = 64, 40  # prompts generated per round; held-out tasks scored
ANSWER_PAIRS = [(" good", " bad"), (" True", " False"), (" yes", " no"), (" 1", " 0")]


def stage(log_dir: Path, name: str, *args: str) -> tuple[bool, float]:
    """Run one stage CLI in its own process; (passed, seconds). Its output goes to log_dir/name.log."""
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    log = log_dir / f"{name}.log"
    start = time.perf_counter()
    with log.open("w") as out:
        result = subprocess.run([sys.executable, "-m", *args], stdout=out, stderr=subprocess.STDOUT, env=env)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        print(f"    {name} FAILED ({seconds:.1f} s); end of {log}:\n" + "".join(log.read_text()[-1500:]))
    return result.returncode == 0, seconds


def data_files(root: Path) -> dict[str, Path]:
    """The prompt pool, the held-out tasks and a probe set (held-out solutions as text)."""
    from gatedloop.core.io import read_jsonl, write_jsonl
    from gatedloop.data.task_families import split_tasks

    root.mkdir(parents=True, exist_ok=True)
    splits = split_tasks(0.15, 0, POOL)
    files = {"pool": root / "pool.jsonl", "heldout": root / "heldout.jsonl", "probe": root / "probe.jsonl"}
    write_jsonl(files["pool"], (t.to_json() for t in splits["pool"]))
    write_jsonl(files["heldout"], (t.to_json() for t in splits["heldout"][:HELDOUT]))
    rows = read_jsonl(files["heldout"])
    write_jsonl(files["probe"], ({"id": r["task_id"], "text": r["prompt"] + r["canonical_solution"]} for r in rows))
    return files


def answer_words(model_dir: Path) -> tuple[str, str]:
    """The first (yes, no) pair that is one token each in this tokenizer (the binary gate refuses others)."""
    from gatedloop.core.encoding import TextEncoder
    from gatedloop.models.loading import load_tokenizer

    encoder = TextEncoder(load_tokenizer(model_dir))
    single = [pair for pair in ANSWER_PAIRS if all(len(encoder.continuation(w)) == 1 for w in pair)]
    return single[0] if single else ANSWER_PAIRS[0]


def weights_equal(a: Path, b: Path) -> float:
    """The largest absolute difference between two models' weights (0.0: identical)."""
    from gatedloop.models.loading import load_model

    first, second = load_model(a).state_dict(), load_model(b).state_dict()
    return max(float((first[k].float() - second[k].float()).abs().max()) for k in first)


def one_round(arch: str, root: Path, data: dict[str, Path], dtype: str) -> list[tuple[str, bool, float, str]]:
    from gatedloop.core import tiny_models
    from gatedloop.core.io import read_jsonl
    from gatedloop.models.loading import saved_dtype

    base = tiny_models.save(arch, root / "round0")
    if dtype == "bfloat16":  # a bf16 base model, as the study's models are stored
        from gatedloop.models.loading import load_model, load_tokenizer, save_model

        save_model(load_model(base, dtype="float32"), load_tokenizer(base), base, dtype="bfloat16")
    logs, rows = root / "logs", []
    logs.mkdir(parents=True, exist_ok=True)
    common = ["--dtype", dtype, "--threads", "4"]

    def run(name, *args, made=""):
        ok, seconds = stage(logs, name, *args)
        rows.append((name, ok, seconds, made if ok else ""))
        return ok

    samples = root / "samples.jsonl"
    run("generate", "gatedloop.generate", "--model", str(base), "--prompts", str(data["pool"]), "--out",
        str(samples), "--seed", "1", "--max-new-tokens", "48", "--batch-size", "64", *common,
        made=f"{POOL} samples")
    yes, no = answer_words(base)
    gates = {"perplexity": {"keep_fraction": 0.5, "dtype": dtype},
             "binary": {"keep_fraction": 0.5, "dtype": dtype, "yes_word": yes, "no_word": no}}
    for gate, options in gates.items():
        decisions = root / f"decisions.{gate}.jsonl"
        if run(f"gate {gate}", "gatedloop.gate", "--gate", gate, "--samples", str(samples), "--model", str(base),
               "--out", str(decisions), "--options", json.dumps(options), "--threads", "4"):
            accepted = sum(d["accepted"] for d in read_jsonl(decisions))
            rows[-1] = (*rows[-1][:3], f"{accepted} accepted")
    targets = {"gpt2": "c_attn c_proj c_fc"}.get(arch, "all-linear").split()
    trained = {}
    for kind, extra in (("merged", []), ("chain", ["--adapter-chain"])):
        out = root / f"round1.{kind}"
        if run(f"finetune ({kind})", "gatedloop.finetune", "--model", str(base), "--samples", str(samples),
               "--decisions", str(root / "decisions.perplexity.jsonl"), "--out-model", str(out / "model"),
               "--out-adapter", str(out / "adapter"), "--out-stats", str(out / "finetune.json"), "--steps", "20",
               "--batch-size", "8", "--target-modules", *targets, *common, *extra,
               made=f"saved as {saved_dtype(base)}" if kind == "merged" else "adapter chain"):
            trained[kind] = out / "model"
    model = trained.get("merged", base)
    if len(trained) == 2:
        difference = weights_equal(trained["merged"], trained["chain"])
        rows.append(("chain == merged", difference == 0.0, 0.0, f"max |diff| {difference:g}"))
        saved = saved_dtype(trained["merged"])
        rows.append(("merged keeps base dtype", saved == saved_dtype(base), 0.0, f"{saved}"))
    score = root / "score.json"
    if run("score", "gatedloop.score", "--model", str(model), "--benchmark", "microtasks", "--data",
           str(data["heldout"]), "--out", str(root / "verdicts.jsonl"), "--summary", str(score),
           "--max-new-tokens", "48", "--temperature", "0", *common):
        rows[-1] = (*rows[-1][:3], f"pass@1 {json.loads(score.read_text())['pass_at_1']:.3f} on {HELDOUT} tasks")
    run("analyze", "gatedloop.analyze", "--model", str(model), "--probe", str(data["probe"]), "--samples",
        str(samples), "--base-model", str(base), "--out", str(root / "analysis.json"), "--spectrum",
        str(root / "spectrum.json"), "--bootstrap", "50", *common, made="spectrum + diversity")
    return rows


def describe_device() -> str:
    import torch

    if torch.cuda.is_available():
        return f"CUDA: {torch.cuda.get_device_name(0)}, bf16 supported: {torch.cuda.is_bf16_supported()}"
    return f"CPU only ({os.cpu_count()} cores)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16", "float16"])
    parser.add_argument("--archs", nargs="+", default=["gpt2", "llama", "qwen2"])
    parser.add_argument("--out", type=Path, default=None, help="keep everything here (default: a temp directory)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO / "src"))
    from gatedloop.core.runtime import device_for, resolve_dtype

    root = args.out or Path(tempfile.mkdtemp(prefix="gpu-smoke-"))
    print(f"{describe_device()}; dtype {args.dtype} -> {resolve_dtype(args.dtype, device_for('auto'))}; in {root}")
    data = data_files(root / "data")
    failed = 0
    for arch in args.archs:
        print(f"{arch}:")
        for name, ok, seconds, made in one_round(arch, root / arch, data, args.dtype):
            failed += not ok
            print(f"  {name:<24} {'ok' if ok else 'FAILED':<7} {seconds:7.1f} s  {made}")
    print("all stages passed" if not failed else f"{failed} stage(s) or check(s) failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
