include: "functions/finetune.smk"


rule finetune:
    """Fine-tuning on the accepted samples of the data regime (replace, accumulate, mix) for round r: LoRA merged
    into the model (finetune.method lora), or every weight trained (full). A killed job resumes from its last
    checkpoint (results/checkpoints/finetune/...). With finetune.keep_merged false a LoRA round's model directory
    holds an adapter chain (base + adapters, rebuilt when loaded), not merged weights; a full round always holds
    full weights.
    """
    input:
        unpack(finetune_inputs),
    output:
        model=directory(pattern("model")),
        adapter=directory(pattern("adapter")),
        stats=pattern("finetune"),
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
        settings=finetune_settings,
        merged="" if config["finetune"]["keep_merged"] else "--adapter-chain",
        device=config["device"],
        dtype=config["dtype"],
        seed=lambda wc: job_seed(wc, "finetune"),
        max_train=max_train,
        mix=mix_args,
        checkpoints=lambda wc: f"{CHECKPOINTS}/finetune/{wc.model}/{wc.gate}/{wc.regime}/seed{wc.seed}/round{wc.round}",
    shell:
        "OMP_NUM_THREADS={threads} python -m gatedloop.finetune --model {input.model} --samples {input.samples}"
        " --decisions {input.decisions} --out-model {output.model} --out-adapter {output.adapter}"
        " --out-stats {output.stats} --device {params.device} --dtype {params.dtype} --threads {threads} {params.settings}"
        " --seed {params.seed} {params.max_train} {params.mix} --checkpoint-dir {params.checkpoints} {params.merged} > {log} 2>&1"
