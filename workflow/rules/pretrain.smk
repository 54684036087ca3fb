include: "functions/pretrain.smk"


rule pretrain:
    """Train the tiny round-0 model from scratch; saved as a plain Hugging Face model directory. A killed job
    resumes from its last checkpoint (results/checkpoints/pretrain/<model>)."""
    input:
        corpus=CORPUS,
        tokenizer=TOKENIZER,
    output:
        directory(BASE_MODEL.format(model=f"{{model,{SCRATCH_MODELS}}}")),
    log:
        f"{LOGS}/pretrain/{{model}}.log",
    benchmark:
        f"{BENCHMARKS}/pretrain/{{model}}.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        shape=lambda wc: model_settings(wc.model, "shape", ModelShape),
        pretrain=lambda wc: model_settings(wc.model, "pretrain", PretrainConfig),
        checkpoints=lambda wc: f"{CHECKPOINTS}/pretrain/{wc.model}",
    shell:
        "OMP_NUM_THREADS={threads} python -m gatedloop.pretrain --corpus {input.corpus}"
        " --tokenizer {input.tokenizer} --out {output} --threads {threads} {params.shape} {params.pretrain}"
        " --checkpoint-dir {params.checkpoints} > {log} 2>&1"
