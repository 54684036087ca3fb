"""Process set-up shared by every CLI: honour the rule's thread count before torch spins up its pools."""

from __future__ import annotations

import contextlib
import os
import random


def set_threads(threads: int) -> None:
    """Pin every thread pool to ``threads``: oversubscribing 2 cores made training ~10x slower."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TOKENIZERS_PARALLELISM"):
        os.environ[var] = "false" if var == "TOKENIZERS_PARALLELISM" else str(threads)
    import torch

    torch.set_num_threads(threads)
    if torch.get_num_interop_threads() != 1:
        with contextlib.suppress(RuntimeError):  # it can be set only once per process
            torch.set_num_interop_threads(1)


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def device_for(name: str) -> str:
    """'auto' picks CUDA when present; an explicit 'cpu' or 'cuda:N' is taken as is."""
    if name != "auto":
        return name
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


DTYPES = ("auto", "float32", "bfloat16", "float16")


def resolve_dtype(name: str, device: str) -> str:
    """The precision models load in. 'auto': bfloat16 on a CUDA device that supports it (the study's precision;
    float32 weights of CodeLlama-7B alone take 27 GB), float32 elsewhere (CPUs gain nothing from bf16 and lose
    accuracy). An explicit name is taken as is."""
    if name not in DTYPES:
        raise ValueError(f"dtype {name!r}: use one of {', '.join(DTYPES)}")
    if name != "auto":
        return name
    if not str(device).startswith("cuda"):
        return "float32"
    import torch

    return "bfloat16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "float32"


def enable_tf32() -> None:
    """TF32 tensor cores for the float32 matmuls left on GPUs (the LoRA adapters, float32 runs): ~8x faster on
    Ampere and later, with bf16-level rounding of the inputs only."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
