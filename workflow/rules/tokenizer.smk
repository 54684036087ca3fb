rule tokenizer:
    """Byte-level BPE trained on the model's corpus, saved in Hugging Face format."""
    input:
        CORPUS,
    output:
        directory(TOKENIZER),
    log:
        f"{LOGS}/tokenizer/{{model}}.log",
    benchmark:
        f"{BENCHMARKS}/tokenizer/{{model}}.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        vocab_size=lambda wc: config["models"][wc.model]["tokenizer"]["vocab_size"],
    shell:
        "OMP_NUM_THREADS={threads} RAYON_NUM_THREADS={threads}"
        " python -m gatedloop.tokenizer --corpus {input} --out {output} --vocab-size {params.vocab_size}"
        " > {log} 2>&1"
