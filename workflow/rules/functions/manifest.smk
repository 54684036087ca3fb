# Functions of the rules in manifest.smk (their inputs and params). Snakemake's linter wants rules and
# functions in separate files; what several rule files share is in common.smk.
import functools
import shlex


@functools.lru_cache(maxsize=1)
def _round_outputs():
    """Every per-round file the aggregate reads, by its round directory."""
    by_dir = {}
    for path in (
        score_files()
        + decision_files()
        + audit_files()
        + sample_check_files()
        + analysis_files()
    ):
        by_dir.setdefault(layout.round_dir(*layout.parse(path).cell), []).append(path)
    return by_dir


def manifest_inputs(wildcards, base):
    w = wildcards
    if base:
        run_dir = layout.round_dir(w.model, BASE_GATE, None, w.seed, 0)
        return {"outputs": _round_outputs().get(run_dir, [])}
    run_dir = cell_dir(w.model, w.gate, w.regime, w.seed, w.round)
    return {
        "outputs": _round_outputs().get(run_dir, []),
        "finetune": round_file("finetune", w.model, w.gate, w.regime, w.seed, w.round),
    }


def round_settings(wildcards, base):
    """The config values that affect a round's results (other models, gates, seeds and figures do not)."""
    w = wildcards
    sections = [
        "microtasks",
        "generate",
        "score",
        "analysis",
        "audit",
        "sample_checks",
        "device",
        "dtype",
        "vllm",
    ]
    settings = {
        "model": w.model,
        "model_spec": config["models"][w.model],
        "seed": int(w.seed),
    }
    settings.update({name: config[name] for name in sections})
    settings["round"] = _round(w)
    if not base:
        settings.update(
            gate=w.gate,
            gate_options=gate_options_for(config, w.model, w.gate),
            regime=w.regime,
            finetune=config["finetune"],
            budget=budget_settings(),
            mix=config["mix"] if w.regime == "mix" else None,
        )
        # the study's mixture only where on: other sweeps keep their manifests' hashes
        if mixture_files(w.model, w.gate):
            settings["mixture"] = {
                "anchors": config["anchors"],
                "natural_language": config["natural_language"],
                "nl_fraction": nl_fraction_for(config, w.model),
            }
    return settings


def stage_seeds(wildcards):
    stages = ["generate", "finetune", "score", "audit", "analyze"]
    return {stage: job_seed(wildcards, stage) for stage in stages}


def manifest_data_args(wildcards):
    files = [
        f"{b}={BENCHMARK_DATA[b]}"
        for b in config["score"]["benchmarks"]
        if b in BENCHMARK_DATA
    ]
    return ("--data " + " ".join(shlex.quote(f) for f in files)) if files else ""
