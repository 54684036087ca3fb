rule corpus:
    """Pre-training documents for a from-scratch model: stdlib sources + the pre-training microtasks (+ the prompt
    pool's tasks with their solutions, microtasks.pool_in_pretraining)."""
    input:
        tasks=[f"{MICROTASKS}/pretrain.jsonl"]
        + (
            [f"{MICROTASKS}/pool.jsonl"]
            if config["microtasks"]["pool_in_pretraining"]
            else []
        ),
    output:
        CORPUS,
    log:
        f"{LOGS}/corpus/{{model}}.log",
    benchmark:
        f"{BENCHMARKS}/corpus/{{model}}.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        stdlib_chars=lambda wc: config["models"][wc.model]["corpus"]["stdlib_chars"],
    shell:
        "python -m gatedloop.corpus --tasks {input.tasks} --out {output} --stdlib-chars {params.stdlib_chars}"
        " > {log} 2>&1"
