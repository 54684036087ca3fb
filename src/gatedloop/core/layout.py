"""The files a sweep writes, round by round: one place that lists them, for the rules and for the aggregate.

A sweep is its axes (models, gates, regimes, seeds, rounds, benchmarks) and which per-round stages are on. The
workflow's rules declare these files as inputs (``workflow/rules/common.smk`` calls these functions) and pass the
aggregate the sweep itself, a few hundred bytes of JSON (``--sweep``), from which it lists the same files. Passing
the lists instead would not scale: a shell command is one argument, and Linux caps one argument at 128 KiB, which
the study's sweep at 10 rounds passes (the file lists of its aggregate were 78 KiB at 5 rounds, 206 KiB for the
partial aggregate's).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

RUN = "results/runs/{model}/{gate}/{regime}/seed{seed}/round{round}"
BASE_RUN = "results/runs/{model}/base/seed{seed}/round0"
BASE_AUDIT = "results/runs/{model}/{gate}/seed{seed}/round0"


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

    @classmethod
    def from_config(cls, config: dict) -> Sweep:
        return cls(models=tuple(config["models"]), gates=tuple(config["gates"]), regimes=tuple(config["regimes"]),
                   seeds=tuple(config["seeds"]), rounds=config["rounds"],
                   benchmarks=tuple(config["score"]["benchmarks"]), audit=config["audit"]["enabled"],
                   analysis=config["analysis"]["enabled"], sample_checks=config["sample_checks"]["enabled"])

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

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

    def cell_dirs(self) -> list[str]:
        return [cell_dir(*cell) for cell in self.cells()]

    def base_dirs(self) -> list[str]:
        """Round 0, once per (model, seed)."""
        return [BASE_RUN.format(model=m, seed=s) for m in self.models for s in self.seeds]

    def score_files(self) -> list[str]:
        """Round 0 once per (model, seed), then every cell's rounds."""
        return [os.path.join(d, "score", f"{b}.json") for d in self.base_dirs() + self.cell_dirs()
                for b in self.benchmarks]

    def analysis_files(self) -> list[str]:
        if not self.analysis:
            return []
        return [os.path.join(d, "analysis.json") for d in self.base_dirs() + self.cell_dirs()]

    def audit_files(self) -> list[str]:
        """Round 0 once per (model, gate, seed), then every cell's rounds; gates only, not the control arm."""
        if not self.audit:
            return []
        base = [os.path.join(BASE_AUDIT.format(model=m, gate=g, seed=s), "audit.json")
                for m in self.models for g in self.gates for s in self.seeds if audited(g)]
        return base + [os.path.join(cell_dir(*cell), "audit.json") for cell in self.cells() if audited(cell[1])]

    def sample_check_files(self) -> list[str]:
        if not self.sample_checks:
            return []
        return [os.path.join(d, "sample_checks.json") for d in self.cell_dirs()]

    def decision_files(self) -> list[str]:
        return [os.path.join(d, "decisions.jsonl") for d in self.cell_dirs()]

    def finetune_stats_files(self) -> list[str]:
        return [os.path.join(d, "finetune.json") for d in self.cell_dirs()]

    def manifest_files(self) -> list[str]:
        return [os.path.join(d, "manifest.json") for d in self.base_dirs() + self.cell_dirs()]

    def aggregated_files(self) -> dict[str, list[str]]:
        """What the aggregate reads, by its flag: scores, audits and analyses joined by key, and the other per-round
        files it reads beside a score (decisions, fine-tuning stats, sample checks, manifests, and the files their
        jobs write first: a score's verdicts, an analysis's spectrum)."""
        scores, analyses = self.score_files(), self.analysis_files()
        return {"scores": scores, "audits": self.audit_files(), "analyses": analyses,
                "round_files": self.decision_files() + self.finetune_stats_files() + self.sample_check_files()
                + self.manifest_files() + [companion(p) for p in scores + analyses]}


def cell_dir(model: str, gate: str, regime: str, seed: int | str, round_: int | str) -> str:
    return RUN.format(model=model, gate=gate, regime=regime, seed=seed, round=round_)


def audited(gate: str) -> bool:
    """Every gate is audited except the control arm, which judges nothing."""
    from gatedloop.gates import GATES

    return GATES.get(gate).kind != "control"


def companion(path: str) -> str:
    """The file its job writes first, beside a score summary (verdicts) or an analysis (spectrum)."""
    if os.path.basename(path) == "analysis.json":
        return os.path.join(os.path.dirname(path), "spectrum.json")
    return path.removesuffix(".json") + ".verdicts.jsonl"


# runs/{model}/{gate}/{regime}/seed{seed}/round{round}/...; round 0 has no regime (it is shared by all of them).
CELL = r"runs/(?P<model>[^/]+)/(?P<gate>[^/]+)/(?:(?P<regime>[^/]+)/)?seed(?P<seed>\d+)/round(?P<round>\d+)"
SCORE_PATH = re.compile(CELL + r"/score/(?P<benchmark>[^/]+)\.json$")


def parse_cell(pattern: re.Pattern, path: str | Path, example: str) -> dict:
    match = pattern.search(Path(path).as_posix())
    if not match:
        raise ValueError(f"{path}: not a path like {example}")
    keys = match.groupdict()
    return {**keys, "seed": int(keys["seed"]), "round": int(keys["round"])}


def parse_score_path(path: str | Path) -> dict:
    return parse_cell(SCORE_PATH, path, "runs/<model>/<gate>/seed<N>/round<R>/score/<benchmark>.json")


def verdicts_path(score_path: str | Path) -> Path:
    return Path(companion(str(score_path)))
