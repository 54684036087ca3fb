rule figures:
    """pass@1 against round, one line per gate, from the metrics table only."""
    input:
        "results/metrics.csv",
    output:
        "results/figures/pass_at_1.png",
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
        dpi=config["figures"]["dpi"],
    shell:
        "python -m gatedloop.figures --metrics {input} --out {output} --dpi {params.dpi} > {log} 2>&1"


rule figure_gate_audit:
    """Per gate: pass@1, training acceptance and held-out audit AUROC against round (the rubber stamp)."""
    input:
        "results/metrics.csv",
    output:
        "results/figures/gate_audit.png",
    log:
        f"{LOGS}/figures/gate_audit.log",
    benchmark:
        f"{BENCHMARKS}/figures/gate_audit.tsv"
    localrule: True
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        dpi=config["figures"]["dpi"],
    shell:
        "python -m gatedloop.figures --metrics {input} --out {output} --kind gate_audit --dpi {params.dpi}"
        " > {log} 2>&1"
