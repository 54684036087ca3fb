include: "functions/generate.smk"


rule generate:
    """Round r >= 2: the round r-1 model completes every prompt of the round (sampling settings from config)."""
    input:
        model=previous_model,
        prompts=generation_prompts,
    output:
        LATER_SAMPLES,
    log:
        f"{LOGS}/generate/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.log",
    benchmark:
        f"{BENCHMARKS}/generate/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        sampling=lambda wc: sampling_args("generate", wc.model, "generate"),
        backend=backend_spec(config["generate"]["backend"]),
        per_prompt=config["generate"]["samples_per_prompt"],
        device=config["device"],
        dtype=config["dtype"],
        seed=lambda wc: job_seed(wc, "generate"),
        n_samples=lambda wc: samples_per_round(wc.gate),
    shell:
        "OMP_NUM_THREADS={threads} python -m gatedloop.generate --model {input.model} --prompts {input.prompts}"
        " --out {output} --seed {params.seed} --samples-per-prompt {params.per_prompt} {params.n_samples}"
        " --backend {params.backend}"
        " --device {params.device} --dtype {params.dtype} --threads {threads} {params.sampling} > {log} 2>&1"


rule generate_shared:
    """Round 1's samples: every gate and regime samples from the same base model with the same seed, so each
    sample count is generated once per (model, seed) and copied into the cells that use it.
    """
    input:
        model=lambda wc: model_dir(wc.model, None, None, None, 0),
        prompts=generation_prompts,
    output:
        layout.SHARED_ROUND1,
    log:
        f"{LOGS}/generate/{{model}}/base/seed{{seed}}/round1.{{size}}.log",
    benchmark:
        f"{BENCHMARKS}/generate/{{model}}/base/seed{{seed}}/round1.{{size}}.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        sampling=lambda wc: sampling_args("generate", wc.model, "generate"),
        backend=backend_spec(config["generate"]["backend"]),
        per_prompt=config["generate"]["samples_per_prompt"],
        device=config["device"],
        dtype=config["dtype"],
        seed=lambda wc: round1_seed(wc.seed),
        n_samples=lambda wc: "" if wc.size == "pool" else f"--n-samples {wc.size}",
    shell:
        "OMP_NUM_THREADS={threads} python -m gatedloop.generate --model {input.model} --prompts {input.prompts}"
        " --out {output} --seed {params.seed} --samples-per-prompt {params.per_prompt} {params.n_samples}"
        " --backend {params.backend}"
        " --device {params.device} --dtype {params.dtype} --threads {threads} {params.sampling} > {log} 2>&1"


rule generate_round1:
    """A cell's round-1 samples: a copy of the shared generation of its size (each cell keeps its own file, as in
    later rounds)."""
    input:
        shared_round1_samples,
    output:
        FIRST_SAMPLES,
    log:
        f"{LOGS}/generate/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.log",
    localrule: True
    conda:
        "../../envs/gatedloop.yaml"
    shell:
        "cp {input} {output} 2> {log}"


# A gate that selects in waves generates its own rounds, round 1 included (every gate's round 1 samples the same
# candidate stream from the base model with the same seed, so its waves are a prefix of what any other gate's saw).
ruleorder: generate_waves > generate_round1
ruleorder: generate_waves > generate


rule generate_waves:
    """Selection in waves (budget.selection: waves): the round's model generates wave after wave, judged by the
    gate as they come, until budget.accepted_per_round pass; every candidate and the round's counts are written.
    """
    input:
        unpack(waves_inputs),
    output:
        samples=pattern("samples"),
        stats=pattern("generation"),
    log:
        f"{LOGS}/generate/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.log",
    benchmark:
        f"{BENCHMARKS}/generate/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.tsv"
    wildcard_constraints:
        gate=wave_gate_pattern(),
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        sampling=lambda wc: sampling_args("generate", wc.model, "generate"),
        backend=backend_spec(config["generate"]["backend"]),
        device=config["device"],
        dtype=config["dtype"],
        seed=lambda wc: job_seed(wc, "generate"),
        options=lambda wc: gate_options_json(wc.model, wc.gate),
        waves=waves_args,
    shell:
        "OMP_NUM_THREADS={threads} python -m gatedloop.generate --model {input.model} --prompts {input.prompts}"
        " --out {output.samples} --stats {output.stats} --seed {params.seed} --backend {params.backend}"
        " --device {params.device} --dtype {params.dtype} --threads {threads} {params.sampling}"
        " --gate {wildcards.gate} --gate-options {params.options:q} {params.waves} > {log} 2>&1"
