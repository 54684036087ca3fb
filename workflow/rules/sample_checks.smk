include: "functions/sample_checks.smk"


rule sample_checks:
    """Round r's samples: compile and execution rates (the study's Figure 12); its fine-tuning data: n-gram overlap
    with every scored benchmark (contamination control)."""
    input:
        samples=pattern("samples"),
        decisions=pattern("decisions"),
        data=[
            BENCHMARK_DATA[b]
            for b in config["score"]["benchmarks"]
            if b in BENCHMARK_DATA
        ],
        prepared=[prepared_input(b) for b in config["score"]["benchmarks"]],
        finetune=trained_on(),
    output:
        pattern("sample_checks"),
    log:
        f"{LOGS}/sample_checks/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.log",
    benchmark:
        f"{BENCHMARKS}/sample_checks/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: (1000 + benchmarks_memory_mb()) * attempt,
        runtime=30,
    params:
        benchmarks=benchmark_args(),
        options=" ".join(benchmark_options(b) for b in config["score"]["benchmarks"]),
        checks=lambda wc, input: sample_check_settings(input),
    shell:
        "python -m gatedloop.sample_checks --samples {input.samples} --decisions {input.decisions}"
        " --out {output} {params.benchmarks} {params.options} --threads {threads} {params.checks} > {log} 2>&1"
