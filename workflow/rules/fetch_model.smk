include: "functions/fetch_model.smk"


rule fetch_model:
    """Round 0 from a hub id, a local directory or a packaged GGUF model (models.<name>.source: hub | local |
    packaged), as a Hugging Face directory like the one pre-training writes, so every later stage treats it alike.
    """
    output:
        directory(BASE_MODEL.format(model=f"{{model,{FETCHED_MODELS}}}")),
    log:
        f"{LOGS}/fetch_model/{{model}}.log",
    benchmark:
        f"{BENCHMARKS}/fetch_model/{{model}}.tsv"
    # On the submit host: downloads need the internet, which cluster compute nodes often lack.
    localrule: True
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=240,
    params:
        source=lambda wc: fetch_args(wc.model),
    shell:
        "OMP_NUM_THREADS={threads} python -m gatedloop.fetch_model {params.source} --threads {threads}"
        " --out {output} > {log} 2>&1"
