rule finetune:
    """LoRA on the accepted samples of the data regime (replace, accumulate, mix), merged for round r."""
    input:
        unpack(finetune_inputs),
    output:
        model=directory(f"{RUN}/model"),
        adapter=directory(f"{RUN}/adapter"),
        stats=f"{RUN}/finetune.json",
    log:
        f"{LOGS}/finetune/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.log",
    benchmark:
        f"{BENCHMARKS}/finetune/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        settings=cli(config["finetune"]),
        device=config["device"],
        seed=lambda wc: job_seed(wc, "finetune"),
        max_train=max_train(),
        mix=mix_args,
    shell:
        "OMP_NUM_THREADS={threads} python -m gatedloop.finetune --model {input.model} --samples {input.samples}"
        " --decisions {input.decisions} --out-model {output.model} --out-adapter {output.adapter}"
        " --out-stats {output.stats} --device {params.device} --threads {threads} {params.settings}"
        " --seed {params.seed} {params.max_train} {params.mix} > {log} 2>&1"
