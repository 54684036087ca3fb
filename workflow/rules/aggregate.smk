rule aggregate:
    """One row per (model, gate, seed, round, benchmark) -> results/metrics.csv (round 0 under every gate); the
    paired effects (gate minus control, round r minus round 0) -> effects.csv; per task family -> coverage.csv; the
    study's results CSV per (model, gate, regime, seed) -> study_csv/ (gatedloop.analysis.study_csv).
    Its inputs are exactly the files the aggregate reads (it lists them from the sweep, params.sweep), but for the
    jobs' benchmark records the study CSV takes its times from where they exist (Snakemake writes them, no rule).
    """
    input:
        unpack(lambda wc: SWEEP.aggregated_files()),
        prompts=PROMPT_POOL,
    output:
        metrics=table("metrics"),
        spectra=table("spectra"),
        effects=table("effects"),
        coverage=table("coverage"),
        study_csv=SWEEP.study_csv_files(),
    log:
        f"{LOGS}/aggregate/aggregate.log",
    benchmark:
        f"{BENCHMARKS}/aggregate/aggregate.tsv"
    localrule: True
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        # the sweep, from which the aggregate lists the files above (a list of them would not fit a command line)
        sweep=SWEEP.to_json(),
        bootstrap=config["figures"]["bootstrap"],
    shell:
        "python -m gatedloop.aggregate --sweep {params.sweep:q}"
        " --out {output.metrics} --spectra {output.spectra} --prompts {input.prompts} --effects {output.effects}"
        " --coverage {output.coverage} --bootstrap {params.bootstrap} --study-csv {output.study_csv}"
        " > {log} 2>&1"
