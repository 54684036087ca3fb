"""Memory and time of the analysis bootstrap: the former one (every resample's covariance materialised at once,
reps x d x d float64, then a batched eigendecomposition) against the current one (resamples formed in chunks of
BOOTSTRAP_BUDGET entries on the moments' device). Each variant runs in its own process, so its peak resident memory
is its own.

    python bench/analysis_bootstrap.py [--widths 1024 4096] [--reps 200] [--max-seconds 600]

Moments are synthetic, shaped as gatedloop.analyze.hidden_state_moments shapes them for two layers (MOMENT_BUDGET
split between them): 128 tokens per snippet, 200 snippets. At a width where the former variant cannot fit in this
machine's memory it is not run; its peak is extrapolated from the array sizes. Reps are cut where a full run would
take longer than --max-seconds, and the time is extrapolated linearly (the work per resample is constant).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

SNIPPETS, TOKENS = 200, 128


def moments(width: int, layers: int = 2):
    import numpy as np

    from gatedloop.analyze import MOMENT_BUDGET

    groups = max(2, min(SNIPPETS, MOMENT_BUDGET // (width * width * layers)))
    rng = np.random.default_rng(0)
    scales = np.sqrt(np.linspace(4.0, 0.01, width))
    counts = np.zeros(groups)
    firsts = np.zeros((groups, width))
    seconds = np.zeros((groups, width, width))
    for snippet in range(SNIPPETS):
        g = snippet % groups
        x = rng.normal(size=(TOKENS, width)) * scales
        counts[g] += TOKENS
        firsts[g] += x.sum(0)
        seconds[g] += x.T @ x
    return counts, firsts, seconds


def former(counts, firsts, seconds, reps: int, seed: int = 0):
    """gatedloop.analyze.bootstrap_statistics before the change (resampling part)."""
    import numpy as np

    groups, width = len(counts), firsts.shape[1]
    rng = np.random.default_rng(seed)
    weights = np.stack([np.bincount(rng.integers(0, groups, groups), minlength=groups) for _ in range(reps)])
    weights = weights.astype(np.float64)
    n = weights @ counts
    means = (weights @ firsts) / n[:, None]
    covariances = (weights @ seconds.reshape(groups, -1)).reshape(reps, width, width) / n[:, None, None]
    covariances -= means[:, :, None] * means[:, None, :]
    return list(np.linalg.eigvalsh((covariances + covariances.transpose(0, 2, 1)) / 2))


def current(counts, firsts, seconds, reps: int, seed: int = 0):
    import numpy as np
    import torch

    from gatedloop.analyze import resampled_eigenvalues
    from gatedloop.core.stats import resample_counts

    weights = resample_counts(np.random.default_rng(seed), len(counts), reps)
    tensors = [torch.as_tensor(x) for x in (counts, firsts, seconds)]
    return list(resampled_eigenvalues(weights, *tensors))


def child(variant: str, width: int, reps: int) -> None:
    from gatedloop.core.runtime import set_threads

    set_threads(1)
    data = moments(width)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    values = (former if variant == "former" else current)(*data, reps)
    print(json.dumps({"seconds": time.perf_counter() - start, "moments_mb": sum(x.nbytes for x in data) / 2**20,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "before_mb": before / 1024, "n": len(values), "groups": len(data[0])}))


def run(variant: str, width: int, reps: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, __file__, "--child", variant, str(width), str(reps)], capture_output=True,
                         text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        variant, width, reps = args.child
        return child(variant, int(width), int(reps))
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    print(f"{'width':>6} {'variant':>8} {'reps run':>8} {'peak MB':>9} {'moments MB':>10} {'s/rep':>7} "
          f"{'s for ' + str(args.reps):>10}  (1 thread, float64, CPU)")
    for width in args.widths:
        probe = run("current", width, 1)  # one resample: its time sets how many fit in --max-seconds
        reps = max(1, min(args.reps, int(args.max_seconds / max(probe["seconds"], 1e-3))))
        for variant in ("former", "current"):
            # the former variant holds ~3 reps x d x d float64 arrays at once (product, symmetrised copy, LAPACK's)
            former_mb = probe["moments_mb"] + 3 * args.reps * width * width * 8 / 2**20
            if variant == "former" and former_mb > 0.8 * memory_mb:
                print(f"{width:>6} {variant:>8} {'-':>8} {'~' + format(former_mb, '.0f'):>9} "
                      f"{probe['moments_mb']:>10.0f} {'-':>7} {'-':>10}  not run: > 80% of {memory_mb:.0f} MB")
                continue
            result = run(variant, width, reps)
            per_rep = result["seconds"] / reps
            print(f"{width:>6} {variant:>8} {reps:>8} {result['peak_mb']:>9.0f} {result['moments_mb']:>10.0f} "
                  f"{per_rep:>7.2f} {per_rep * args.reps:>10.0f}")


if __name__ == "__main__":
    main()
