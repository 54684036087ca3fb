# Figures and the collapse table: local rules (each clone says so: `use rule` does not carry localrule) that read
# only the aggregated tables. Their params are the figure settings alone, so changing one reruns only these rules.


rule figure_pass_at_1:
    """pass@1 against round per benchmark, one line per gate, each model's baseline dashed (Figure 2)."""
    input:
        metrics=table("metrics"),
    output:
        report(
            layout.figure("pass_at_1"),
            caption="../report/pass_at_1.rst",
            category="Figures",
        ),
    log:
        f"{LOGS}/figures/pass_at_1.log",
    benchmark:
        f"{BENCHMARKS}/figures/pass_at_1.tsv"
    localrule: True
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        kind="pass_at_1",
        settings=figure_settings(),
        extra="",
    shell:
        "python -m gatedloop.figures --metrics {input.metrics} --out {output} --kind {params.kind}"
        " {params.extra} {params.settings} > {log} 2>&1"


use rule figure_pass_at_1 as figure_heatmap with:
    output:
        report(
            layout.figure("heatmap"),
            caption="../report/heatmap.rst",
            category="Figures",
        ),
    log:
        f"{LOGS}/figures/heatmap.log",
    benchmark:
        f"{BENCHMARKS}/figures/heatmap.tsv"
    localrule: True
    params:
        kind="heatmap",
        settings=figure_settings(),
        extra="",


use rule figure_pass_at_1 as figure_gate_audit with:
    output:
        report(
            layout.figure("gate_audit"),
            caption="../report/gate_audit.rst",
            category="Figures",
        ),
    log:
        f"{LOGS}/figures/gate_audit.log",
    benchmark:
        f"{BENCHMARKS}/figures/gate_audit.tsv"
    localrule: True
    params:
        kind="gate_audit",
        settings=figure_settings(),
        extra="",


use rule figure_pass_at_1 as figure_spectral with:
    input:
        metrics=table("metrics"),
        spectra=table("spectra"),
    output:
        report(
            layout.figure("spectral"),
            caption="../report/spectral.rst",
            category="Figures",
        ),
    log:
        f"{LOGS}/figures/spectral.log",
    benchmark:
        f"{BENCHMARKS}/figures/spectral.tsv"
    localrule: True
    params:
        kind="spectral",
        settings=figure_settings(),
        extra=f"--spectra {table('spectra')}",


use rule figure_pass_at_1 as figure_execution with:
    output:
        report(
            layout.figure("execution"),
            caption="../report/execution.rst",
            category="Figures",
        ),
    log:
        f"{LOGS}/figures/execution.log",
    benchmark:
        f"{BENCHMARKS}/figures/execution.tsv"
    localrule: True
    params:
        kind="execution",
        settings=figure_settings(),
        extra="",


use rule figure_pass_at_1 as figure_diversity with:
    output:
        report(
            layout.figure("diversity"),
            caption="../report/diversity.rst",
            category="Figures",
        ),
    log:
        f"{LOGS}/figures/diversity.log",
    benchmark:
        f"{BENCHMARKS}/figures/diversity.tsv"
    localrule: True
    params:
        kind="diversity",
        settings=figure_settings(),
        extra="",


use rule figure_pass_at_1 as figure_effect with:
    input:
        metrics=table("effects"),
    output:
        report(
            layout.figure("effect"),
            caption="../report/effect.rst",
            category="Figures",
        ),
    log:
        f"{LOGS}/figures/effect.log",
    benchmark:
        f"{BENCHMARKS}/figures/effect.tsv"
    localrule: True
    params:
        kind="effect",
        settings=figure_settings(),
        extra="",


use rule figure_pass_at_1 as figure_coverage with:
    input:
        metrics=table("coverage"),
    output:
        report(
            layout.figure("coverage"),
            caption="../report/coverage.rst",
            category="Figures",
        ),
    log:
        f"{LOGS}/figures/coverage.log",
    benchmark:
        f"{BENCHMARKS}/figures/coverage.tsv"
    localrule: True
    params:
        kind="coverage",
        settings=figure_settings(),
        extra="",


use rule figure_pass_at_1 as collapse_table with:
    output:
        report(
            table("collapse"),
            caption="../report/collapse.rst",
            category="Tables",
        ),
    log:
        f"{LOGS}/figures/collapse.log",
    benchmark:
        f"{BENCHMARKS}/figures/collapse.tsv"
    localrule: True
    params:
        kind="collapse",
        settings=figure_settings(),
        extra=f"--fraction {config['figures']['collapse_fraction']}",
