rule fetch_model:
    """Round 0 from a hub id or a local directory (models.<name>.source: hub | local), as a Hugging Face directory
    like the one pre-training writes, so every later stage treats it alike."""
    output:
        directory(f"results/base/{{model,{FETCHED_MODELS}}}/model"),
    log:
        f"{LOGS}/fetch_model/{{model}}.log",
    benchmark:
        f"{BENCHMARKS}/fetch_model/{{model}}.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=240,
    params:
        source=lambda wc: fetch_args(wc.model),
    shell:
        "python -m gatedloop.fetch_model {params.source} --out {output} > {log} 2>&1"
