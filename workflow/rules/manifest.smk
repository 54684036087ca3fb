include: "functions/manifest.smk"


# Cheap file hashing: both run where Snakemake runs, not as cluster jobs (`use rule` does not carry localrule).
localrules:
    manifest,
    manifest_base,


rule manifest:
    """Provenance of round r: the settings that affect it and their hash, stage seeds, hashes of every file the
    round wrote and of the model it started from, benchmark data hashes, code and package versions, hardware.
    """
    input:
        unpack(lambda wc: manifest_inputs(wc, base=False)),
    output:
        pattern("manifest"),
    log:
        f"{LOGS}/manifest/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.log",
    benchmark:
        f"{BENCHMARKS}/manifest/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.tsv"
    localrule: True
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        run_dir=lambda wc: cell_dir(wc.model, wc.gate, wc.regime, wc.seed, wc.round),
        settings=lambda wc: shlex.quote(
            json.dumps(round_settings(wc, base=False), sort_keys=True)
        ),
        seeds=lambda wc: shlex.quote(json.dumps(stage_seeds(wc))),
        data=manifest_data_args,
        start_model=lambda wc: previous_model(wc),
    shell:
        "python -m gatedloop.manifest --run-dir {params.run_dir} --settings {params.settings}"
        " --seeds {params.seeds} --model-dir {params.start_model} {params.data} --out {output} > {log} 2>&1"


use rule manifest as manifest_base with:
    input:
        unpack(lambda wc: manifest_inputs(wc, base=True)),
    output:
        pattern("manifest", round0=True),
    log:
        f"{LOGS}/manifest/{{model}}/base/seed{{seed}}/round0.log",
    benchmark:
        f"{BENCHMARKS}/manifest/{{model}}/base/seed{{seed}}/round0.tsv"
    params:
        run_dir=lambda wc: layout.round_dir(wc.model, BASE_GATE, None, wc.seed, 0),
        settings=lambda wc: shlex.quote(
            json.dumps(round_settings(wc, base=True), sort_keys=True)
        ),
        seeds=lambda wc: shlex.quote(json.dumps(stage_seeds(wc))),
        data=manifest_data_args,
        start_model=lambda wc: model_dir(wc.model, None, None, None, 0),
