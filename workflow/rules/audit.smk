include: "functions/audit.smk"


rule audit:
    """The round's model writes code for held-out tasks; truth by execution; the gate judges; AUROC etc."""
    input:
        unpack(audit_inputs),
    output:
        summary=pattern("audit"),
        samples=pattern("audit_samples"),
    log:
        f"{LOGS}/audit/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.log",
    benchmark:
        f"{BENCHMARKS}/audit/{{model}}/{{gate}}/{{regime}}/seed{{seed}}/round{{round}}.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        sampling=lambda wc: sampling_args("audit", wc.model, "audit"),
        options=lambda wc: gate_options_json(wc.model, wc.gate),
        gate_model=lambda wc: (
            f"--gate-model {audit_gate_model(wc)}" if audit_gate_model(wc) else ""
        ),
        per_task=config["audit"]["samples_per_task"],
        timeout_s=config["audit"]["timeout_s"],
        bootstrap=config["audit"]["bootstrap"],
        backend=backend_spec(config["generate"]["backend"]),
        device=config["device"],
        dtype=config["dtype"],
        seed=lambda wc: job_seed(wc, "audit"),
        generations=lambda wc, input: (
            f"--generations {input.generations}"
            if "generations" in input.keys()
            else ""
        ),
    shell:
        "OMP_NUM_THREADS={threads} python -m gatedloop.audit --model {input.model} --tasks {input.tasks}"
        " {params.generations}"
        " --gate {wildcards.gate} {params.gate_model} --options {params.options:q} --out {output.summary}"
        " --samples-out {output.samples} --samples-per-task {params.per_task} --timeout-s {params.timeout_s}"
        " --bootstrap {params.bootstrap} --backend {params.backend} --device {params.device} --dtype {params.dtype}"
        " --seed {params.seed}"
        " --threads {threads} {params.sampling} > {log} 2>&1"


rule audit_generations_base:
    """Round 0's audit samples and their truth: one base model and one seed, so every gate's round-0 audit judges
    the same samples; generated once here instead of once per gate."""
    input:
        model=this_model,
        tasks=f"{MICROTASKS}/heldout.jsonl",
    output:
        pattern("audit_generations", round0=True),
    log:
        f"{LOGS}/audit/{{model}}/base/seed{{seed}}/round0_generations.log",
    benchmark:
        f"{BENCHMARKS}/audit/{{model}}/base/seed{{seed}}/round0_generations.tsv"
    conda:
        "../../envs/gatedloop.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        sampling=lambda wc: sampling_args("audit", wc.model, "audit"),
        per_task=config["audit"]["samples_per_task"],
        timeout_s=config["audit"]["timeout_s"],
        backend=backend_spec(config["generate"]["backend"]),
        device=config["device"],
        dtype=config["dtype"],
        seed=lambda wc: job_seed(wc, "audit"),
    shell:
        "OMP_NUM_THREADS={threads} python -m gatedloop.audit --model {input.model} --tasks {input.tasks}"
        " --generate-only {output} --samples-per-task {params.per_task} --timeout-s {params.timeout_s}"
        " --backend {params.backend} --device {params.device} --dtype {params.dtype} --seed {params.seed}"
        " --threads {threads}"
        " {params.sampling} > {log} 2>&1"


use rule audit as audit_base with:
    input:
        unpack(audit_base_inputs),
    output:
        summary=pattern("audit", round0=True),
        samples=pattern("audit_samples", round0=True),
    log:
        f"{LOGS}/audit/{{model}}/{{gate}}/seed{{seed}}/round0.log",
    benchmark:
        f"{BENCHMARKS}/audit/{{model}}/{{gate}}/seed{{seed}}/round0.tsv"
