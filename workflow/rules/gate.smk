include: "functions/gate.smk"


# Two rules, so a cluster profile can give a GPU to gates that score with a model (perplexity, binary, cross: rule
# gate) and none to the rest (compile, lint, execution...: rule gate_human), which would hold one idle for hours.


rule gate:
    """The round's gate decides, per sample, whether it is trained on (gates that score with a model)."""
    input:
        unpack(gate_inputs),
    output:
        gate_decisions(scores=True),
    log:
        f"{LOGS}/gate/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.log",
    benchmark:
        f"{BENCHMARKS}/gate/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        options=lambda wc: gate_options_json(wc.model, wc.gate),
        model=lambda wc: f"--model {gate_model(wc)}" if gate_model(wc) else "",
        calibration=lambda wc, input: (
            f"--calibration {input.calibration}"
            if "calibration" in input.keys()
            else ""
        ),
        noise_seed=noise_seed_arg,
    shell:
        "OMP_NUM_THREADS={threads} python -m gatedloop.gate --gate {wildcards.gate} --samples {input.samples}"
        " {params.model} --out {output} --options {params.options:q} --threads {threads} {params.calibration}"
        "{params.noise_seed} > {log} 2>&1"


use rule gate as gate_human with:
    output:
        gate_decisions(scores=False),
