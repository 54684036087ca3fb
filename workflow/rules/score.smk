include: "functions/score.smk"


rule score:
    """Score a round's model on one held-out benchmark; every completion runs in the sandbox."""
    input:
        model=this_model,
        data=lambda wc: BENCHMARK_DATA.get(wc.benchmark, []),
        prepared=lambda wc: prepared_input(wc.benchmark),
    output:
        summary=pattern("score"),
        verdicts=pattern("verdicts"),
    log:
        f"{LOGS}/score/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}/{{benchmark}}.log",
    benchmark:
        f"{BENCHMARKS}/score/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}/{{benchmark}}.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        sampling=score_sampling,
        prepared=lambda wc, input: (
            f"--prepared {input.prepared}" if input.prepared else ""
        ),
        max_tasks=(
            f"--max-tasks {config['score']['max_tasks']}"
            if config["score"]["max_tasks"]
            else ""
        ),
        backend=backend_spec(config["score"]["backend"]),
        timeout_s=config["score"]["timeout_s"],
        device=config["device"],
        dtype=config["dtype"],
        data=lambda wc, input: f"--data {input.data}" if input.data else "",
        seed=lambda wc: job_seed(wc, "score"),
        options=lambda wc: benchmark_options(wc.benchmark),
        prompt_format=lambda wc: config["models"][wc.model]["prompt_format"],
    shell:
        "OMP_NUM_THREADS={threads} python -m gatedloop.score --model {input.model} --benchmark {wildcards.benchmark}"
        " {params.data} --out {output.verdicts} --summary {output.summary} --backend {params.backend}"
        " --device {params.device} --dtype {params.dtype} --seed {params.seed} --timeout-s {params.timeout_s} --threads {threads}"
        " --prompt-format {params.prompt_format} {params.prepared} {params.options} {params.max_tasks} {params.sampling} > {log} 2>&1"


use rule score as score_base with:
    output:
        summary=pattern("score", round0=True),
        verdicts=pattern("verdicts", round0=True),
    log:
        f"{LOGS}/score/{{model}}/base/seed{{seed}}/round0/{{benchmark}}.log",
    benchmark:
        f"{BENCHMARKS}/score/{{model}}/base/seed{{seed}}/round0/{{benchmark}}.tsv"
