include: "functions/reference.smk"


# The control arm (gate "reference"): its round-r "samples" are human-written solutions, not generated code;
# the gate, fine-tuning, scoring and analysis then run as for every other arm.
ruleorder: reference_samples > generate
ruleorder: reference_samples > generate_round1


localrules:
    reference_samples,


rule reference_samples:
    """The control arm's training data for round r: each pool prompt with its human reference solution
    (control.solutions prompts), or as many human-pool functions (human_pool)."""
    input:
        unpack(reference_inputs),
    output:
        round_file("samples", "{model}", "reference", "{regime}", "{seed}", "{round}"),
    log:
        f"{LOGS}/reference/{{model}}/{{regime}}/seed{{seed}}/round{{round}}.log",
    benchmark:
        f"{BENCHMARKS}/reference/{{model}}/{{regime}}/seed{{seed}}/round{{round}}.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        solutions=config["control"]["solutions"],
        human=lambda wc, input: (
            f"--human {input.human} --round {wc.round}"
            if "human" in input.keys()
            else ""
        ),
    shell:
        "python -m gatedloop.reference --prompts {input.prompts} --out {output}"
        " --solutions {params.solutions} {params.human} > {log} 2>&1"
