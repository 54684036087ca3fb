"""The results layout: every path the workflow writes under ``results/``, formatted from its keys and parsed back.

One place for the rules and for Python. The rules (``workflow/rules/*.smk``) build their inputs and outputs with
these formatters, Snakemake's wildcards passed as the keys (``pattern("score")`` is
``results/runs/{model}/{gate}/{regime}/seed{seed}/round{round}/score/{benchmark}.json``); the aggregate, the
findings and the manifest format and parse the same paths here, so no other module spells one.

A round's files (``KINDS``) lie in its directory:

* round r >= 1 of a cell: ``runs/{model}/{gate}/{regime}/seed{seed}/round{round}/`` (``RUN``);
* round 0, shared by every gate and regime: ``runs/{model}/base/seed{seed}/round0/`` (``BASE_RUN``: its scores,
  analysis, manifest and the audit samples every gate judges), its model ``base/{model}/model``;
* round 0's audit, once per gate: ``runs/{model}/{gate}/seed{seed}/round0/`` (``BASE_AUDIT``).

A sweep (``Sweep``) lists its files from these; the workflow passes the aggregate the sweep itself, a few hundred
bytes of JSON (``--sweep``), from which it lists the same files. Passing the lists instead would not scale: a shell
command is one argument, and Linux caps one argument at 128 KiB, which the study's sweep at 10 rounds passes (the
file lists of its aggregate were 78 KiB at 5 rounds, 206 KiB for the partial aggregate's).
"""

from __future__ import annotations

import glob
import json
import os
import re
import string
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

RESULTS = "results"
BASE_GATE = "base"  # the gate of round 0's shared directory

# Folders of the whole sweep: an unfinished sweep's tables and figures (table() and figure() with folder PARTIAL),
# the jobs' logs and Snakemake's records of their time and memory.
PARTIAL = f"{RESULTS}/partial"
LOGS = f"{RESULTS}/logs"
BENCHMARKS = f"{RESULTS}/benchmarks"  # Snakemake's per-job benchmark records, not the scored benchmarks
# Training state of running jobs, outside their declared outputs (Snakemake clears those before a rerun).
CHECKPOINTS = f"{RESULTS}/checkpoints"

# Data every round shares.
DATA = f"{RESULTS}/data"
MICROTASKS = f"{DATA}/microtasks"
PROBE = f"{DATA}/probe.jsonl"
PREPARED = f"{DATA}/benchmarks/{{benchmark}}.ready.json"

# Per model: the round-0 model and what it is built from.
BASE = f"{RESULTS}/base/{{model}}"
BASE_MODEL = f"{BASE}/model"
CORPUS = f"{BASE}/corpus.jsonl"
TOKENIZER = f"{BASE}/tokenizer"
HUMAN_POOL = f"{BASE}/human_pool.jsonl"

# Round directories, relative to the results folder (the formatters join a root: "results" for the workflow).
_CELL_DIR = "runs/{model}/{gate}/{regime}/seed{seed}/round{round}"
_BASE_DIR = f"runs/{{model}}/{BASE_GATE}/seed{{seed}}/round0"
_BASE_AUDIT_DIR = "runs/{model}/{gate}/seed{seed}/round0"
_BASE_MODEL = "base/{model}/model"
RUN = f"{RESULTS}/{_CELL_DIR}"
BASE_RUN = f"{RESULTS}/{_BASE_DIR}"
BASE_AUDIT = f"{RESULTS}/{_BASE_AUDIT_DIR}"
# Round 1's samples, generated once per (model, seed) and sample count ({size}: "pool" or a number), then copied into
# each cell's round 1.
_SHARED_ROUND1 = f"runs/{{model}}/{BASE_GATE}/seed{{seed}}/round1/samples.{{size}}.jsonl"
SHARED_ROUND1 = f"{RESULTS}/{_SHARED_ROUND1}"
# One round's prompts where the prompt source draws per round (gatedloop.prompt_sources: file prefixes, a pool cut in
# tokens): per model, as they are cut in its tokens; shared by every gate and regime of that (model, seed, round).
_ROUND_PROMPTS = "prompts/{model}/seed{seed}/round{round}.jsonl"
ROUND_PROMPTS = f"{RESULTS}/{_ROUND_PROMPTS}"

# A round's files by kind: the name inside the round's directory.
KINDS = {
    "samples": "samples.jsonl",
    "decisions": "decisions.jsonl",
    "model": "model",
    "adapter": "adapter",
    "finetune": "finetune.json",  # the fine-tuning stats
    "score": "score/{benchmark}.json",  # the score summary
    "verdicts": "score/{benchmark}.verdicts.jsonl",  # per task, written by the score job
    "audit": "audit.json",
    "audit_samples": "audit_samples.jsonl",
    "audit_generations": "audit_generations.jsonl",  # round 0 only: the samples every gate's audit judges
    "analysis": "analysis.json",
    "spectrum": "spectrum.json",  # written by the analysis job
    "sample_checks": "sample_checks.json",
    "manifest": "manifest.json",
    "generation": "generation.json",  # selection in waves only (gatedloop.gates.waves): the round's counts
}
# Round 0 has no samples, decisions, fine-tuning or sample checks; these of its files are shared by every arm:
ROUND0_SHARED = ("score", "verdicts", "analysis", "spectrum", "manifest", "audit_generations")
ROUND0_PER_GATE = ("audit", "audit_samples")  # judged by each gate, so once per gate
# Snakemake's wildcards, as the keys of the rules' patterns.
WILDCARDS = {"model": "{model}", "gate": "{gate}", "regime": "{regime}", "seed": "{seed}", "round": "{round}",
             "benchmark": "{benchmark}"}
# What a key may hold when a path is parsed: anything but a slash, but seeds and rounds are numbers, and a benchmark
# or a size has no dot (so a score's verdicts never read as a score).
_KEY_PATTERNS = {"seed": r"\d+", "round": r"\d+", "benchmark": r"[^/.]+", "size": r"[^/.]+"}


@dataclass(frozen=True)
class RoundFile:
    """One file of one round, by its keys. ``root`` is the results folder it lies in (the prefix of a parsed path),
    not a key: two files with the same keys are the same file."""

    kind: str
    model: str
    gate: str
    regime: str | None
    seed: int | None
    round: int
    benchmark: str | None = None
    root: str = field(default=RESULTS, compare=False)

    @property
    def path(self) -> str:
        return round_file(self.kind, self.model, self.gate, self.regime, self.seed, self.round, self.benchmark,
                          root=self.root)

    @property
    def cell(self) -> tuple:
        """(model, gate, regime, seed, round): round 0's shared files have gate 'base' and regime None."""
        return self.model, self.gate, self.regime, self.seed, self.round

    def keys(self) -> dict:
        keys = {"model": self.model, "gate": self.gate, "regime": self.regime, "seed": self.seed, "round": self.round}
        return keys if self.benchmark is None else {**keys, "benchmark": self.benchmark}

    def sibling(self, kind: str, benchmark: str | None = None) -> RoundFile:
        """The file of another kind of the same round (a score's verdicts, a round's decisions); a score's
        benchmark carries over unless another is given."""
        if "{benchmark}" not in _name(kind):
            return replace(self, kind=kind, benchmark=None)
        return replace(self, kind=kind, benchmark=benchmark or self.benchmark)


def round_file(kind: str, model: str, gate: str | None, regime: str | None, seed: int | str | None,
               round_: int | str, benchmark: str | None = None, root: str = RESULTS) -> str:
    """The path of a round's file. The keys may be Snakemake wildcards ("{model}", or "{round,1}" with its
    constraint). Round 0's shared files and its model are the same for every arm: their path holds no gate or
    regime (nor seed, for the model), whichever are given."""
    name = _name(kind).replace("{benchmark}", _required(benchmark, "benchmark", kind))
    if kind == "model" and _round0(round_):
        return os.path.join(root, _BASE_MODEL.format(model=model))
    keys = {"model": model, "gate": gate, "regime": regime, "seed": seed, "round": round_}
    return os.path.join(root, _directory(kind, keys), name)


def round_dir(model: str, gate: str, regime: str | None, seed: int | str, round_: int | str,
              root: str = RESULTS) -> str:
    """A round's directory: a cell's round, round 0's shared one (gate 'base') or round 0's audit of a gate."""
    if not _round0(round_):
        return os.path.join(root, _CELL_DIR.format(model=model, gate=gate, regime=regime, seed=seed, round=round_))
    template = _BASE_DIR if gate == BASE_GATE else _BASE_AUDIT_DIR
    return os.path.join(root, template.format(model=model, gate=gate, seed=seed))


def pattern(kind: str, round0: bool = False) -> str:
    """A rule's path of a round's file, Snakemake's wildcards as its keys (round 0: no {regime} or {round})."""
    w = WILDCARDS
    return round_file(kind, w["model"], w["gate"], w["regime"], w["seed"], 0 if round0 else w["round"],
                      w["benchmark"])


def parse(path: str | Path, *kinds: str) -> RoundFile:
    """A round's file from its path (any folder before ``runs/`` is its root); with ``kinds``, it must be one of
    them. A path outside the layout is an error that names it."""
    text = Path(path).as_posix()
    for parser in (_parse_round_file, _parse_base_model):
        found = parser(text)
        if found is not None:
            break
    else:
        raise ValueError(f"{path}: not a path like runs/<model>/<gate>/<regime>/seed<N>/round<R>/<file> "
                         f"({', '.join(KINDS)})")
    if kinds and found.kind not in kinds:
        raise ValueError(f"{path}: a {found.kind} file, not {' or '.join(kinds)}")
    return found


def shared_samples(model: str, seed: int | str, size: int | str, root: str = RESULTS) -> str:
    """Round 1's shared generation of ``size`` samples ("pool": one pass over the prompt pool)."""
    return os.path.join(root, _SHARED_ROUND1.format(model=model, seed=seed, size=size))


def parse_shared_samples(path: str | Path) -> dict:
    match = _regex(_SHARED_ROUND1).match(Path(path).as_posix())
    if not match:
        raise ValueError(f"{path}: not a path like runs/<model>/base/seed<N>/round1/samples.<size>.jsonl")
    return {"model": match["model"], "seed": int(match["seed"]), "size": match["size"]}


def round_prompts(model: str, seed: int | str, round_: int | str, root: str = RESULTS) -> str:
    """One round's prompts of a (model, seed), from a prompt source that draws per round."""
    return os.path.join(root, _ROUND_PROMPTS.format(model=model, seed=seed, round=round_))


def parse_round_prompts(path: str | Path) -> dict:
    match = _regex(_ROUND_PROMPTS).match(Path(path).as_posix())
    if not match:
        raise ValueError(f"{path}: not a path like prompts/<model>/seed<N>/round<R>.jsonl")
    return {"model": match["model"], "seed": int(match["seed"]), "round": int(match["round"])}


def find(root: str | Path, kind: str, **keys) -> list[RoundFile]:
    """The files of a kind written under a results folder, in path order; ``keys`` fixes some (benchmark=...)."""
    found = []
    for template in _templates(kind):
        filled = {k: glob.escape(str(keys[k])) if k in keys else "*" for k in _fields(template)}
        for path in sorted(glob.glob(os.path.join(glob.escape(str(root)), template.format(**filled)))):
            try:
                found.append(parse(path, kind))
            except ValueError:  # a "*" matched more than a key may hold (seed*: seedx)
                continue
    # keys a template spells out (round 0's "round0", "base") are checked on the parsed files
    return [f for f in found if all(str(getattr(f, k)) == str(v) for k, v in keys.items())]


def table(name: str, folder: str = RESULTS) -> str:
    """A sweep's table (metrics, spectra, effects, coverage, collapse) in ``folder`` (results/ or results/partial/)."""
    return f"{folder}/{name}.csv"


# The study's results CSV (gatedloop.analysis.study_csv): one per (model, gate, regime, seed), a row per round. The
# study keys its files by (model, filter) only; our regimes and seeds are folders of their own.
_STUDY_CSV = "study_csv/{model}/{gate}/{regime}/seed{seed}.csv"


def study_csv(model: str, gate: str, regime: str, seed: int | str, root: str = RESULTS) -> str:
    return os.path.join(root, _STUDY_CSV.format(model=model, gate=gate, regime=regime, seed=seed))


def parse_study_csv(path: str | Path) -> dict:
    match = _regex(_STUDY_CSV).match(Path(path).as_posix())
    if not match:
        raise ValueError(f"{path}: not a path like study_csv/<model>/<gate>/<regime>/seed<N>.csv")
    return {"model": match["model"], "gate": match["gate"], "regime": match["regime"], "seed": int(match["seed"]),
            "root": match["root"] or ""}


def job_record(rule: str, model: str, gate: str, regime: str | None, seed: int | str, round_: int | str,
               benchmark: str | None = None, root: str = RESULTS) -> str:
    """Snakemake's benchmark record (wall seconds, memory) of a round's job, as the rules name it
    (workflow/rules/<rule>.smk's ``benchmark:``): a cell's round, or round 0's shared directory; a score's is per
    benchmark."""
    where = f"{model}/{BASE_GATE}/seed{seed}/round0" if _round0(round_) else \
        f"{model}/{gate}/{regime}/seed{seed}/round{round_}"
    name = f"{where}/{benchmark}.tsv" if benchmark is not None else f"{where}.tsv"
    return os.path.join(root, "benchmarks", rule, name)


def shared_generation_records(model: str, seed: int | str, root: str = RESULTS) -> list[str]:
    """The benchmark records of round 1's shared generations of a (model, seed), one per sample count."""
    pattern_ = os.path.join(glob.escape(root), "benchmarks", "generate", glob.escape(str(model)), BASE_GATE,
                            f"seed{seed}", "round1.*.tsv")
    return sorted(glob.glob(pattern_))


def figure(kind: str, folder: str = RESULTS) -> str:
    return f"{folder}/figures/{kind}.png"


def _name(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown kind of round file {kind!r}: one of {', '.join(KINDS)}")
    return KINDS[kind]


def _required(value, key: str, kind: str) -> str:
    if value is None and "{" + key + "}" in KINDS[kind]:
        raise ValueError(f"a {kind} file needs its {key}")
    return "" if value is None else str(value)


def _round0(round_: int | str) -> bool:
    return str(round_) == "0"  # a wildcard ("{round}") is a later round


def _directory(kind: str, keys: dict) -> str:
    if not _round0(keys["round"]):
        if kind == "audit_generations":
            raise ValueError("audit generations are round 0's only")
        return _CELL_DIR.format(**keys)
    if kind in ROUND0_SHARED:
        return _BASE_DIR.format(**keys)
    if kind in ROUND0_PER_GATE:
        return _BASE_AUDIT_DIR.format(**keys)
    raise ValueError(f"round 0 has no {kind} file (it generates and trains nothing)")


def _templates(kind: str) -> list[str]:
    """Every path of this kind relative to the results folder, with its keys as fields."""
    name = _name(kind)
    later = [] if kind == "audit_generations" else [f"{_CELL_DIR}/{name}"]
    if kind == "model":
        return [*later, _BASE_MODEL]
    if kind in ROUND0_SHARED:
        return [*later, f"{_BASE_DIR}/{name}"]
    if kind in ROUND0_PER_GATE:
        return [*later, f"{_BASE_AUDIT_DIR}/{name}"]
    return later


def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def _regex(template: str) -> re.Pattern:
    """A template as a regex of a whole path (re.match), each key a named group, any folders before it the root."""
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P<{name}>{_KEY_PATTERNS.get(name, '[^/]+')})")
    return re.compile(r"(?:^|(?P<root>.*)/)" + "".join(parts) + "$")


# (kind, the regex of its path) for every place a round's file may lie.
_ROUND_FILE_REGEXES = [(kind, _regex(template)) for kind in KINDS for template in _templates(kind)
                       if template != _BASE_MODEL]


def _parse_round_file(text: str) -> RoundFile | None:
    for kind, regex in _ROUND_FILE_REGEXES:
        match = regex.match(text)
        if match and _in_its_directory(match.groupdict()):
            keys = match.groupdict()
            return RoundFile(kind, keys["model"], keys.get("gate", BASE_GATE), keys.get("regime"), int(keys["seed"]),
                             int(keys.get("round", 0)), keys.get("benchmark"), root=keys["root"] or "")
    return None


def _in_its_directory(keys: dict) -> bool:
    """Round 0 lies in its own directories, never a cell's ({round} is a cell's key); 'base' is no gate: it names
    round 0's shared directory, whose template spells it."""
    return int(keys.get("round", 1)) != 0 and keys.get("gate") != BASE_GATE


def _parse_base_model(text: str) -> RoundFile | None:
    match = _regex(_BASE_MODEL).match(text)
    if not match:
        return None
    return RoundFile("model", match["model"], BASE_GATE, None, None, 0, root=match["root"] or "")


@dataclass(frozen=True)
class Sweep:
    models: tuple[str, ...]
    gates: tuple[str, ...]
    regimes: tuple[str, ...]
    seeds: tuple[int, ...]
    rounds: int
    benchmarks: tuple[str, ...]
    audit: bool = True
    analysis: bool = True
    sample_checks: bool = True
    # The rounds scored (config evaluation_rounds); None: every round.
    evaluation_rounds: tuple[int, ...] | None = None
    wave_gates: tuple[str, ...] = ()  # the arms that select in waves: their rounds write generation stats

    @classmethod
    def from_config(cls, config: dict) -> Sweep:
        from gatedloop.gates.waves import wave_gates

        evaluated = config.get("evaluation_rounds")
        return cls(models=tuple(config["models"]), gates=tuple(config["gates"]), regimes=tuple(config["regimes"]),
                   seeds=tuple(config["seeds"]), rounds=config["rounds"],
                   benchmarks=tuple(config["score"]["benchmarks"]), audit=config["audit"]["enabled"],
                   analysis=config["analysis"]["enabled"], sample_checks=config["sample_checks"]["enabled"],
                   evaluation_rounds=None if evaluated is None else tuple(sorted(evaluated)),
                   wave_gates=tuple(wave_gates(config)))

    def to_json(self) -> str:
        fields = asdict(self)
        if fields["evaluation_rounds"] is None:  # left out: the aggregate's command of a sweep without it is as it was
            del fields["evaluation_rounds"]
        if not self.wave_gates:  # likewise without waves
            del fields["wave_gates"]
        return json.dumps(fields, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Sweep:
        fields = json.loads(text)
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})

    def cells(self):
        """Every (model, gate, regime, seed, round) with round 1..R."""
        for model in self.models:
            for seed in self.seeds:
                for gate in self.gates:
                    for regime in self.regimes:
                        for round_ in range(1, self.rounds + 1):
                            yield model, gate, regime, seed, round_

    def base_rounds(self) -> list[tuple]:
        """Round 0, once per (model, seed), as (model, 'base', None, seed, 0)."""
        return [(m, BASE_GATE, None, s, 0) for m in self.models for s in self.seeds]

    def files(self, kind: str, rounds: list[tuple], benchmarks: tuple = (None,)) -> list[str]:
        return [round_file(kind, *cell, benchmark) for cell in rounds for benchmark in benchmarks]

    def evaluated(self, round_: int) -> bool:
        return self.evaluation_rounds is None or round_ in self.evaluation_rounds

    def scored_rounds(self) -> list[tuple]:
        """Round 0 once per (model, seed), then every cell's rounds that are evaluated."""
        return self.base_rounds() + [cell for cell in self.cells() if self.evaluated(cell[4])]

    def score_files(self) -> list[str]:
        """Round 0 once per (model, seed), then every cell's evaluated rounds."""
        return self.files("score", self.scored_rounds(), self.benchmarks)

    def verdict_files(self) -> list[str]:
        return self.files("verdicts", self.scored_rounds(), self.benchmarks)

    def analysis_files(self, kind: str = "analysis") -> list[str]:
        return self.files(kind, self.base_rounds() + list(self.cells())) if self.analysis else []

    def audit_files(self) -> list[str]:
        """Round 0 once per (model, gate, seed), then every cell's rounds; gates only, not the control arm."""
        if not self.audit:
            return []
        base = [(m, g, None, s, 0) for m in self.models for g in self.gates for s in self.seeds if audited(g)]
        return self.files("audit", base + [cell for cell in self.cells() if audited(cell[1])])

    def sample_check_files(self) -> list[str]:
        return self.files("sample_checks", list(self.cells())) if self.sample_checks else []

    def decision_files(self) -> list[str]:
        return self.files("decisions", list(self.cells()))

    def finetune_stats_files(self) -> list[str]:
        return self.files("finetune", list(self.cells()))

    def generation_files(self) -> list[str]:
        """The generation stats of the rounds that select in waves."""
        return self.files("generation", [cell for cell in self.cells() if cell[1] in self.wave_gates])

    def manifest_files(self) -> list[str]:
        return self.files("manifest", self.base_rounds() + list(self.cells()))

    def study_csv_files(self) -> list[str]:
        """The study's results CSVs: one per (model, gate, regime, seed)."""
        return [study_csv(m, g, r, s) for m in self.models for g in self.gates for r in self.regimes
                for s in self.seeds]

    def aggregated_files(self) -> dict[str, list[str]]:
        """What the aggregate reads, by its flag, and nothing else: scores, audits and analyses joined by key, and
        the other per-round files of their rounds (decisions, fine-tuning stats, sample checks, manifests, and the
        files their jobs write first: a score's verdicts, an analysis's spectrum)."""
        return {"scores": self.score_files(), "audits": self.audit_files(), "analyses": self.analysis_files(),
                "round_files": self.decision_files() + self.finetune_stats_files() + self.sample_check_files()
                + self.manifest_files() + self.verdict_files() + self.analysis_files("spectrum")
                + self.generation_files()}


def cell_dir(model: str, gate: str, regime: str, seed: int | str, round_: int | str) -> str:
    return round_dir(model, gate, regime, seed, round_)


def audited(gate: str) -> bool:
    """Every gate is audited except the control arm, which judges nothing."""
    from gatedloop.gates import GATES

    return GATES.get(gate).kind != "control"
