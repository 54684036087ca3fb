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
