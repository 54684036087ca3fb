"""The study's (v2) training mixture per round: the gate's synthetic samples, plus a fresh slice of externally
verified code (anchors), plus code-related natural-language text, the total fixed at N.

Counts (``mixture_counts``): anchors round(N x anchor_fraction), natural language round(N x nl_fraction), synthetic
the rest, as the study rounds them. N is the per-round budget (``budget.accepted_per_round``), so every round's
slice has the same size and the slices can be checked before any job runs.

Anchor file: JSONL, one row per verified program: ``content`` (the code, a non-empty string), ``verified: true``
(every row: a row not verified is refused, as the study refuses it, rather than silently skipped), optional ``id``.
Contents are unique. Round r (1-based) takes slice r of the rows in a seeded order (the run's seed, as the study
shuffles by its run seed): slices of different rounds never share a row, and a file too short for every round's
slice is refused at validation.

Natural-language file: JSONL rows with ``content`` and optionally ``round`` (the study's: a row with a round is
used in that round only; a row without one in any round); each round draws its rows from those eligible, seeded.

Both become training samples of the fine-tuning job with an empty prompt and the content as completion (as the
human pool's rows do), ids ``anchor:<id>`` and ``nl:<id>`` (``<id>``: the row's id, else ``line<N>``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path

from gatedloop.core.io import iter_jsonl

ANCHOR_PREFIX = "anchor:"
NL_PREFIX = "nl:"


def mixture_counts(total: int, anchor_fraction: float, nl_fraction: float) -> tuple[int, int, int]:
    """(synthetic, anchor, natural language) counts of a round of ``total`` training samples."""
    if total < 1 or not 0 <= anchor_fraction < 1 or not 0 <= nl_fraction < 1:
        raise ValueError(f"a mixture of {total} samples with fractions {anchor_fraction} (anchors) and "
                         f"{nl_fraction} (natural language): need total >= 1 and fractions in [0, 1)")
    anchors, natural = round(total * anchor_fraction), round(total * nl_fraction)
    synthetic = total - anchors - natural
    if synthetic <= 0:
        raise ValueError(f"anchor fraction {anchor_fraction} and natural-language fraction {nl_fraction} leave no "
                         f"synthetic sample of {total}: the mixture must hold the gate's samples")
    return synthetic, anchors, natural


def _content_rows(path: str | Path, kind: str) -> list[dict]:
    """The rows of a JSONL file with a non-empty string ``content``, each given its ``id`` (its own or line<N>)."""
    rows = []
    for number, row in iter_jsonl(path):
        where = f"{path}:{number}"
        if not isinstance(row, dict) or not isinstance(row.get("content"), str) or not row["content"].strip():
            raise ValueError(f"{where}: a {kind} row needs a non-empty string 'content'")
        rows.append({**row, "id": str(row.get("id", f"line{number}")), "line": number})
    if not rows:
        raise ValueError(f"{path}: no {kind} row")
    return rows


def read_anchors(path: str | Path) -> list[dict]:
    """The anchor rows; a row not verified, a broken line or a repeated content is refused, naming its line."""
    rows = _content_rows(path, "anchor")
    seen: dict[str, int] = {}
    for row in rows:
        if row.get("verified") is not True:
            raise ValueError(f"{path}:{row['line']}: anchor {row['id']!r} is not 'verified: true'; every anchor row "
                             "must be externally verified (remove it or verify it)")
        key = row["content"].strip()
        if key in seen:
            raise ValueError(f"{path}:{row['line']}: anchor {row['id']!r} repeats the content of line {seen[key]} "
                             "(a repeated anchor would be trained on in two rounds)")
        seen[key] = row["line"]
    return rows


def read_natural_language(path: str | Path) -> list[dict]:
    rows = _content_rows(path, "natural-language")
    for row in rows:
        if "round" in row and not (isinstance(row["round"], int) and row["round"] >= 1):
            raise ValueError(f"{path}:{row['line']}: 'round' must be a round number >= 1")
    return rows


def anchor_order(n_rows: int, seed: int) -> list[int]:
    order = list(range(n_rows))
    random.Random(seed).shuffle(order)
    return order


def anchor_slice(rows: list[dict], per_round: int, round_: int, seed: int) -> list[dict]:
    """Round ``round_``'s (1-based) anchors: slice r of the rows in the seeded order; a slice past the end is an
    error (a fresh slice each round is the point; reusing rows would make them stale)."""
    if per_round == 0:
        return []
    order = anchor_order(len(rows), seed)
    start = (round_ - 1) * per_round
    if start + per_round > len(rows):
        raise ValueError(f"round {round_} needs anchor rows {start + 1}..{start + per_round} (of {per_round} per "
                         f"round), and the file has {len(rows)}")
    return [rows[i] for i in order[start:start + per_round]]


def check_anchor_supply(path: str | Path, rows: list[dict], per_round: int, rounds: int) -> None:
    needed = per_round * rounds
    if len(rows) < needed:
        raise ValueError(f"{path}: {rounds} rounds x {per_round} anchors per round need {needed} verified rows; the "
                         f"file has {len(rows)}")


def eligible_natural_language(rows: list[dict], round_: int) -> list[dict]:
    return [row for row in rows if row.get("round", round_) == round_]


def natural_language_sample(rows: list[dict], count: int, round_: int, seed: int) -> list[dict]:
    """``count`` rows drawn (seeded, without replacement) from those eligible in round ``round_``."""
    if count == 0:
        return []
    eligible = eligible_natural_language(rows, round_)
    if len(eligible) < count:
        raise ValueError(f"round {round_} needs {count} natural-language rows; {len(eligible)} are eligible")
    return random.Random(seed).sample(eligible, count)


def check_natural_language_supply(path: str | Path, rows: list[dict], per_round: int, rounds: int) -> None:
    for round_ in range(1, rounds + 1):
        eligible = len(eligible_natural_language(rows, round_))
        if eligible < per_round:
            raise ValueError(f"{path}: round {round_} needs {per_round} natural-language rows; {eligible} are "
                             "eligible (rows of that round or without a round)")


def pool_overlap(anchors: list[dict], prompts: Iterable[str]) -> dict | None:
    """The first anchor whose content is a prompt of the prompt pool (compared stripped), or None."""
    known = {prompt.strip() for prompt in prompts}
    return next((row for row in anchors if row["content"].strip() in known), None)


def sample_text(sample: dict) -> str:
    """A training sample's text as trained on: prompt + completion."""
    return sample.get("prompt", "") + sample.get("completion", "")


def synthetic_overlap(anchors: list[dict], samples: list[dict]) -> list[tuple[str, str]]:
    """(anchor id, sample id) pairs whose texts are equal (compared stripped)."""
    by_text: dict[str, list[str]] = {}
    for sample in samples:
        by_text.setdefault(sample_text(sample).strip(), []).append(str(sample["id"]))
    return [(row["id"], sample_id) for row in anchors for sample_id in by_text.get(row["content"].strip(), [])]


def as_training_samples(rows: list[dict], prefix: str) -> list[dict]:
    """Rows as the fine-tuning job's samples: the content is the whole text (empty prompt)."""
    return [{"id": f"{prefix}{row['id']}", "source": prefix.rstrip(":"), "prompt": "", "completion": row["content"]}
            for row in rows]
