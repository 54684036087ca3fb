"""Round 0 from an existing model: a Hugging Face hub id or a local directory, made into
``results/base/<model>/model`` so every later stage loads it like the tiny model trained from scratch.

CLI: ``python -m gatedloop.fetch_model --source hub --id ORG/NAME [--revision REV] --out DIR`` or
``python -m gatedloop.fetch_model --source local --path DIR --out DIR``. A hub model is downloaded into the
Hugging Face cache by ``huggingface_hub.snapshot_download`` (weights, config, tokenizer; no training-state files)
and linked file by file into the output; a local directory is hard-linked (copied across filesystems). Either way
the output appears only when complete (built beside it, then renamed). Offline, a hub id that is not in the cache
fails with a message that says how to provide the model.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from gatedloop.models import check_model_dir
from gatedloop.warm import run_cli

# What a base model needs; optimizer states, other frameworks' weights and repository clutter are left behind.
HUB_PATTERNS = ["*.json", "*.safetensors", "pytorch_model*.bin", "*.model", "*.txt", "*.tiktoken", "*.py"]


def link_tree(source: Path, target: Path) -> None:
    """Hard links where the filesystem allows, copies where it does not."""
    for path in sorted(source.rglob("*")):
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
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError

    try:
        return Path(snapshot_download(repo_id, revision=revision, allow_patterns=HUB_PATTERNS))
    except HFValidationError as exc:
        raise ValueError(f"{repo_id!r} is not a hub id ({exc})") from None
    except Exception as exc:  # offline, not found, gated: whatever the hub client raises
        raise ValueError(
            f"could not fetch {repo_id!r} from the Hugging Face hub ({type(exc).__name__}: {exc}). Offline, "
            f"download it where there is network (huggingface-cli download {repo_id}) and copy the cache "
            f"($HF_HOME/hub) here, or give the model as a local directory: models.<name>: {{source: local, "
            f"path: DIR}}") from None


def fetch(out: Path, source: str, repo_id: str | None = None, revision: str | None = None,
          path: Path | None = None) -> Path:
    origin = hub_snapshot(repo_id, revision) if source == "hub" else Path(path)
    check_model_dir(origin)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
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
    parser.add_argument("--source", choices=["hub", "local"], required=True)
    parser.add_argument("--id", dest="repo_id", help="hub id (source hub)")
    parser.add_argument("--revision", default=None, help="hub branch, tag or commit (source hub)")
    parser.add_argument("--path", type=Path, help="model directory (source local)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.source == "hub" and not args.repo_id:
        parser.error("--id is required with --source hub")
    if args.source == "local" and (args.path is None or not args.path.is_dir()):
        parser.error(f"--path: {args.path} is not a directory")
    try:
        origin = fetch(args.out, args.source, args.repo_id, args.revision, args.path)
    except (ValueError, FileNotFoundError) as exc:
        sys.exit(f"fetch_model: error: {exc}")
    print(f"{args.repo_id or args.path} ({origin}) -> {args.out}")


if __name__ == "__main__":
    run_cli(main)
