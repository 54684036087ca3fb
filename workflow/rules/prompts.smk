include: "functions/prompts.smk"


rule prompts:
    """One round's prompts of a (model, seed), for prompt sources that draw per round or cut in the model's tokens
    (gatedloop.prompt_sources): every gate and regime of that round generates from them.
    """
    input:
        unpack(prompt_source_inputs),
    output:
        layout.ROUND_PROMPTS,
    log:
        f"{LOGS}/prompts/{{model}}/seed{{seed}}/round{{round}}.log",
    benchmark:
        f"{BENCHMARKS}/prompts/{{model}}/seed{{seed}}/round{{round}}.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        source=config["prompts"]["source"],
        options=prompt_source_options(),
    shell:
        "OMP_NUM_THREADS={threads} python -m gatedloop.prompts --source {params.source} --options {params.options:q}"
        " --model {input.model} --seed {wildcards.seed} --round {wildcards.round} --out {output} > {log} 2>&1"
