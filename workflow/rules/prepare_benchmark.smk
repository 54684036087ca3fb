rule prepare_benchmark:
    """Fetch and check a benchmark's data (HumanEval+, MBPP+, LiveCodeBench) before any model job: a missing or
    broken file fails here, first, with the message that says how to provide it. Expected outputs are computed once.
    """
    input:
        data=lambda wc: BENCHMARK_DATA.get(wc.benchmark, []),
    output:
        PREPARED,
    log:
        f"{LOGS}/prepare_benchmark/{{benchmark}}.log",
    benchmark:
        f"{BENCHMARKS}/prepare_benchmark/{{benchmark}}.tsv"
    priority: 100
    # On the submit host: downloads need the internet, which cluster compute nodes often lack.
    localrule: True
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        data=lambda wc, input: f"--data {input.data}" if input.data else "",
        options=lambda wc: benchmark_options(wc.benchmark),
    shell:
        "python -m gatedloop.prepare_benchmark --benchmark {wildcards.benchmark} {params.data} {params.options}"
        " --out {output} > {log} 2>&1"
