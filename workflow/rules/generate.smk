rule generate:
    """Round r: the round r-1 model completes every prompt of the fixed pool (sampling settings from config)."""
    input:
        model=previous_model,
        prompts=f"{MICROTASKS}/pool.jsonl",
    output:
        f"{RUN}/samples.jsonl",
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
        sampling=cli(config["generate"], "backend", "samples_per_prompt"),
        backend=config["generate"]["backend"],
        per_prompt=config["generate"]["samples_per_prompt"],
        device=config["device"],
        seed=lambda wc: job_seed(wc, "generate"),
        n_samples=lambda wc: samples_per_round(wc.gate),
    shell:
        "OMP_NUM_THREADS={threads} python -m gatedloop.generate --model {input.model} --prompts {input.prompts}"
        " --out {output} --seed {params.seed} --samples-per-prompt {params.per_prompt} {params.n_samples}"
        " --backend {params.backend}"
        " --device {params.device} --threads {threads} {params.sampling} > {log} 2>&1"
