rule gate:
    """The round's gate decides, per sample, whether it is trained on."""
    input:
        unpack(gate_inputs),
    output:
        f"{RUN}/decisions.jsonl",
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
        options=lambda wc: json.dumps(
            gate_options_for(config, wc.model, wc.gate), sort_keys=True
        ),
        model=lambda wc: f"--model {gate_model(wc)}" if gate_model(wc) else "",
        calibration=lambda wc, input: (
            f"--calibration {input.calibration}"
            if "calibration" in input.keys()
            else ""
        ),
    shell:
        "OMP_NUM_THREADS={threads} python -m gatedloop.gate --gate {wildcards.gate} --samples {input.samples}"
        " {params.model} --out {output} --options {params.options:q} --threads {threads} {params.calibration}"
        " > {log} 2>&1"
