include: "functions/analyze.smk"


rule analyze:
    """Round r: hidden-state spectrum of the round's model on the probe set; diversity of the round's samples
    (written by the round r-1 model), their perplexity under the round-0 model included.
    """
    input:
        model=this_model,
        probe=PROBE,
        samples=pattern("samples"),
        base_model=lambda wc: model_dir(wc.model, None, None, None, 0),
    output:
        analysis=pattern("analysis"),
        spectrum=pattern("spectrum"),
    log:
        f"{LOGS}/analyze/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.log",
    benchmark:
        f"{BENCHMARKS}/analyze/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        settings=cli_for("analysis", config["analysis"], AnalysisSettings),
        seed=lambda wc: job_seed(wc, "analyze"),
        dtype=config["dtype"],
        batch=lambda wc: analyze_batch_args(wc.model),
        samples=lambda wc, input: (
            f"--samples {input.samples} --base-model {input.base_model}"
            if input.samples
            else ""
        ),
    shell:
        "OMP_NUM_THREADS={threads} python -m gatedloop.analyze --model {input.model} --probe {input.probe}"
        " {params.samples} --out {output.analysis} --spectrum {output.spectrum} --seed {params.seed}"
        " --dtype {params.dtype} {params.batch} --threads {threads} {params.settings} > {log} 2>&1"


use rule analyze as analyze_base with:
    input:
        model=this_model,
        probe=PROBE,
        samples=[],
        base_model=[],
    output:
        analysis=pattern("analysis", round0=True),
        spectrum=pattern("spectrum", round0=True),
    log:
        f"{LOGS}/analyze/{{model}}/base/seed{{seed}}/round0.log",
    benchmark:
        f"{BENCHMARKS}/analyze/{{model}}/base/seed{{seed}}/round0.tsv"
