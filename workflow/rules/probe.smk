include: "functions/probe.smk"


rule probe:
    """The fixed probe set of human-written code for the spectral analysis (never trained on)."""
    input:
        probe_inputs,
    output:
        PROBE,
    log:
        f"{LOGS}/probe/probe.log",
    benchmark:
        f"{BENCHMARKS}/probe/probe.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        source=config["analysis"]["probe"]["source"],
        n=config["analysis"]["probe"]["n"],
        path=lambda wc, input: (
            f"--heldout {input[0]}"
            if config["analysis"]["probe"]["source"] == "microtasks"
            else f"--path {input[0]}" if input else ""
        ),
    shell:
        "python -m gatedloop.probe --source {params.source} {params.path} --n {params.n} --out {output}"
        " > {log} 2>&1"
