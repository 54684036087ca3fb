include: "functions/partial.smk"


# An unfinished sweep's tables and figures: `make figures` (`snakemake --nolock figures`) aggregates the rounds on
# disk and draws them into results/partial/, never results/ itself, so a partial table is not taken for the
# finished one. The per-round files are not inputs: no job is planned to make or redo one. Beside a running sweep
# run it with --nolock (make figures does): any Snakemake run that locks the directory removes the whole lock folder
# when it ends, the sweep's locks too. Every rule here runs where Snakemake runs.


rule figures:
    """The partial aggregate's tables and figures, marked with what is missing."""
    input:
        table("metrics", PARTIAL),
        figure_files(PARTIAL),
    localrule: True


rule aggregate_partial:
    """The aggregate of the files written so far; the missing ones named in its `missing` column."""
    output:
        metrics=table("metrics", PARTIAL),
        spectra=table("spectra", PARTIAL),
        effects=table("effects", PARTIAL),
        coverage=table("coverage", PARTIAL),
    log:
        f"{LOGS}/partial/aggregate.log",
    benchmark:
        f"{BENCHMARKS}/partial/aggregate.tsv"
    localrule: True
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        # the sweep, from which the aggregate lists every file the finished sweep will have
        sweep=SWEEP.to_json(),
        # What is written so far, so the next `snakemake figures` reruns this when a file is written or rewritten.
        on_disk=lambda wc: on_disk_state(),
        prompts=lambda wc: (
            f"--prompts {shlex.quote(PROMPT_POOL)}"
            if os.path.isfile(PROMPT_POOL)
            else ""
        ),
        bootstrap=config["figures"]["bootstrap"],
    shell:
        "python -m gatedloop.aggregate --partial --sweep {params.sweep:q} {params.prompts} --out {output.metrics}"
        " --spectra {output.spectra} --effects {output.effects} --coverage {output.coverage}"
        " --bootstrap {params.bootstrap} > {log} 2>&1"


rule figure_partial:
    """One figure of the finished cells, with 'partial: N of M cells finished; not yet: ...' on top."""
    input:
        unpack(partial_figure_input),
    output:
        layout.figure("{kind}", PARTIAL),
    log:
        f"{LOGS}/partial/figures/{{kind}}.log",
    benchmark:
        f"{BENCHMARKS}/partial/figures/{{kind}}.tsv"
    wildcard_constraints:
        kind="pass_at_1|heatmap|gate_audit|spectral|execution|diversity|effect|coverage",
    localrule: True
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        kind=lambda wc: wc.kind,
        settings=figure_settings(),
        extra=lambda wc, input: (
            f"--spectra {input.spectra}" if wc.kind == "spectral" else ""
        ),
    shell:
        "python -m gatedloop.figures --metrics {input.table} --partial {input.metrics} --out {output}"
        " --kind {params.kind} {params.extra} {params.settings} > {log} 2>&1"


use rule figure_partial as collapse_table_partial with:
    input:
        table=table("metrics", PARTIAL),
        metrics=table("metrics", PARTIAL),
    output:
        table("collapse", PARTIAL),
    log:
        f"{LOGS}/partial/figures/collapse.log",
    benchmark:
        f"{BENCHMARKS}/partial/figures/collapse.tsv"
    localrule: True
    params:
        kind="collapse",
        settings=figure_settings(),
        extra=f"--fraction {config['figures']['collapse_fraction']}",
