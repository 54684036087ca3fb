rule microtasks:
    """Render the templated tasks and split them by (family, parameters) into pre-training, pool, held-out."""
    output:
        pretrain=f"{MICROTASKS}/pretrain.jsonl",
        pool=f"{MICROTASKS}/pool.jsonl",
        heldout=f"{MICROTASKS}/heldout.jsonl",
    log:
        f"{LOGS}/microtasks/microtasks.log",
    benchmark:
        f"{BENCHMARKS}/microtasks/microtasks.tsv"
    localrule: True
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        heldout_fraction=config["microtasks"]["heldout_fraction"],
        pool_size=config["microtasks"]["pool_size"],
        seed=config["microtasks"]["seed"],
        out_dir=lambda wc, output: os.path.dirname(output.pool),
    shell:
        "python -m gatedloop.microtasks --out-dir {params.out_dir} --heldout-fraction {params.heldout_fraction}"
        " --pool-size {params.pool_size} --seed {params.seed} > {log} 2>&1"
