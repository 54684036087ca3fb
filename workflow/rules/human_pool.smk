rule human_pool:
    """Human-written code for the `mix` regime: stdlib functions the model's corpus never included."""
    input:
        CORPUS,
    output:
        HUMAN_POOL,
    log:
        f"{LOGS}/human_pool/{{model}}.log",
    benchmark:
        f"{BENCHMARKS}/human_pool/{{model}}.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        size=config["mix"]["pool_size"],
        seed=config["mix"]["seed"],
    shell:
        "python -m gatedloop.human_pool --corpus {input} --out {output} --size {params.size} --seed {params.seed}"
        " > {log} 2>&1"
