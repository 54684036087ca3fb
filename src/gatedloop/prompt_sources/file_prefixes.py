"""``file_prefixes``: the study's v1 prompts. Each round draws a fresh, seeded slice of a corpus of human code and
prompts with each file's first ``prompt_tokens`` tokens (the model's tokenizer, decoded back to text); files under
``min_file_tokens`` tokens are skipped, and so is a prefix already drawn that round (the study keeps such repeats;
our pools never weigh a prompt twice); ``per_round`` prompts a round.

Corpora (``prompts.corpus``):

* ``hub``: a Hugging Face dataset, streamed (``prompts.dataset``, ``data_dir``, ``split``; the study's is
  ``bigcode/the-stack-dedup``, ``data/python``); needs the network, or the dataset in the local cache with
  ``HF_DATASETS_OFFLINE=1``;
* ``local``: a directory of JSONL, Parquet or Arrow files (``prompts.corpus_path``; one format), read with
  ``datasets`` offline (a saved copy of the study's corpus, as its ``--local_dataset_path``);
* ``stdlib_heldout``: offline, embedded: the Python standard-library files the pre-training corpus leaves out
  (gatedloop.data.stdlib.heldout_files), less the files the probe set draws its snippets from, so no prompt is
  code the model pre-trained on or code the spectral analysis probes with.

The draw is the study's: the stream shuffled with a buffer of ``shuffle_buffer`` rows and this round's seed
(``Draw.shuffle_seed``: the round number for run seed 0, as the study seeds it), then read in order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gatedloop.core.options import OptionsError, option
from gatedloop.prompt_sources.base import SECTION, Draw, PromptSource, first_tokens, register

# File formats a local corpus may hold, by suffix: the datasets builder that reads them.
LOCAL_FORMATS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".arrow": "arrow"}
# What datasets writes beside the data of a saved dataset (save_to_disk): not data.
DATASETS_METADATA = {"state.json", "dataset_info.json", "dataset_dict.json"}
# The options only some corpora read; the others every corpus reads.
CORPUS_KEYS = {"dataset": ("hub",), "data_dir": ("hub",), "split": ("hub",), "corpus_path": ("local",),
               "field": ("hub", "local"), "probe_snippets": ("stdlib_heldout",)}


@register("file_prefixes")
class FilePrefixes(PromptSource):
    @dataclass(frozen=True)
    class Options:
        corpus: Literal["hub", "local", "stdlib_heldout"] = option(
            "hub", "hub - a Hugging Face dataset, streamed; local - a directory of JSONL/Parquet/Arrow files; "
                   "stdlib_heldout - the standard-library files pre-training and the probe leave out")
        dataset: str = option("bigcode/the-stack-dedup", "corpus hub: the dataset id")
        data_dir: str | None = option("data/python", "corpus hub: the dataset's data_dir")
        split: str = option("train", "corpus hub: the split")
        corpus_path: str | None = option(None, "corpus local: the directory of files")
        field: str = option("content", "corpus hub or local: the column holding a file's code")
        min_file_tokens: int = option(512, "files under this many tokens are skipped", minimum=0)
        prompt_tokens: int = option(1024, "a prompt is a file's first N tokens", minimum=1)
        shuffle_buffer: int = option(50_000, "rows in the shuffle buffer of the stream", minimum=1)
        per_round: int = option(256, "prompts per round", minimum=1)
        probe_snippets: int = option(0, "corpus stdlib_heldout: the probe set's size, whose files are left out",
                                     config=False, minimum=0)

    @classmethod
    def options_in(cls, section: dict) -> dict:
        """Its keys of the section, less those of the corpora not chosen (a job's command, and so whether it reruns,
        depends only on what its corpus reads)."""
        options = super().options_in(section)
        corpus = options.get("corpus", cls.Options.corpus)
        return {key: value for key, value in options.items() if corpus in CORPUS_KEYS.get(key, (corpus,))}

    def counts_tokens(self) -> bool:
        return True

    def tests_every_prompt(self) -> bool | None:
        return False

    def check(self) -> None:
        if self.settings.corpus == "local":
            local_files(self.settings.corpus_path)
            try:
                first = next(iter(self._dataset()), None)  # unshuffled: a shuffle would fill its buffer first
            except StopIteration:  # empty files: some datasets builders end the stream this way
                first = None
            except Exception as exc:  # whatever datasets and pyarrow raise on a file they cannot parse
                raise OptionsError(f"{SECTION}.corpus_path", f"{self.settings.corpus_path}: its files do not read "
                                   f"with datasets ({type(exc).__name__}: {exc})") from None
            if first is None:
                raise OptionsError(f"{SECTION}.corpus_path", f"{self.settings.corpus_path} holds no rows")
            self._file(first)  # its code column is there
        elif self.settings.corpus == "stdlib_heldout" and not self._stdlib_files():
            from gatedloop.data.stdlib import HELD_OUT_DIRS

            raise OptionsError(f"{SECTION}.corpus", f"this Python's standard library has none of "
                               f"{', '.join(HELD_OUT_DIRS)} (some distributions strip them): use corpus local or hub")

    def prompts(self, draw: Draw) -> list[dict]:
        if draw.tokenizer is None:
            raise ValueError("file prefixes are cut in the model's tokenizer: give the model (--model)")
        settings, rows, drawn = self.settings, [], set()
        for name, text in self._stream(draw):
            prompt, n_tokens = first_tokens(draw.tokenizer, text, settings.prompt_tokens)
            if n_tokens < settings.min_file_tokens or prompt.strip() in drawn:
                continue  # short, or a prefix drawn already this round (a shared licence header): none weighs twice
            drawn.add(prompt.strip())
            row = {"task_id": f"r{draw.round}-{len(rows):06d}", "prompt": prompt}
            rows.append({**row, "origin": name} if name else row)
            if len(rows) == settings.per_round:
                return rows
        raise ValueError(f"the corpus ran out: {len(rows)} distinct files of {settings.min_file_tokens} tokens or "
                         f"more, and prompts.per_round asks {settings.per_round}")

    def _stream(self, draw: Draw) -> Iterator[tuple[str | None, str]]:
        """(name or None, code) of each file of the corpus, in this round's shuffled order."""
        dataset = self._dataset().shuffle(seed=draw.shuffle_seed, buffer_size=self.settings.shuffle_buffer)
        rows = iter(dataset)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                if self.settings.corpus != "hub":
                    raise
                raise RuntimeError(hub_failure(self.settings, exc)) from exc
            yield self._file(row)

    def _file(self, row: dict) -> tuple[str | None, str]:
        text = row.get(self.settings.field)
        if not isinstance(text, str):
            raise OptionsError(f"{SECTION}.field", f"the corpus has no text column {self.settings.field!r} "
                               f"(its columns: {', '.join(sorted(row))})")
        name = row.get("name") or row.get("max_stars_repo_path") or row.get("path")
        return (name if isinstance(name, str) else None), text

    def _dataset(self):
        import datasets

        settings = self.settings
        if settings.corpus == "stdlib_heldout":
            return datasets.IterableDataset.from_generator(_stdlib_rows, gen_kwargs={"files": self._stdlib_files()})
        if settings.corpus == "local":
            builder, files = local_files(settings.corpus_path)
            return datasets.load_dataset(builder, data_files=[str(f) for f in files], split="train", streaming=True)
        try:
            return datasets.load_dataset(settings.dataset, data_dir=settings.data_dir, split=settings.split,
                                         streaming=True)
        except Exception as exc:
            raise RuntimeError(hub_failure(settings, exc)) from exc

    def _stdlib_files(self) -> list[tuple[str, str]]:
        """(relative path, file) of the held-out stdlib files the probe leaves alone, in their fixed order."""
        import sysconfig

        from gatedloop.data.stdlib import heldout_files, probe_files

        root = Path(sysconfig.get_paths()["stdlib"])
        probed = probe_files(self.settings.probe_snippets, root) if self.settings.probe_snippets else set()
        named = [(str(path.relative_to(root)), str(path)) for path in heldout_files(root)]
        return [(name, path) for name, path in named if name not in probed]


def _stdlib_rows(files: list[tuple[str, str]]) -> Iterator[dict]:
    for name, path in files:
        yield {"name": name, "content": Path(path).read_text(encoding="utf-8", errors="replace")}


def local_files(directory: str | None) -> tuple[str, list[Path]]:
    """(datasets builder, files) of a local corpus directory, searched recursively: a saved dataset's metadata and
    the ``cache-*`` files of an Arrow cache (which the study skips too) are not data. No files, or files of two
    formats, are an OptionsError naming the key."""
    key = f"{SECTION}.corpus_path"
    if not directory or not Path(directory).is_dir():
        raise OptionsError(key, f"corpus 'local' needs a directory of JSONL, Parquet or Arrow files; {directory!r} "
                           "is not a directory")
    files = sorted(p for p in Path(directory).rglob("*") if p.is_file() and p.suffix in LOCAL_FORMATS
                   and not p.name.startswith("cache-") and p.name not in DATASETS_METADATA)
    builders = {LOCAL_FORMATS[p.suffix] for p in files}
    if not files:
        raise OptionsError(key, f"{directory} holds no {', '.join(LOCAL_FORMATS)} files")
    if len(builders) > 1:
        raise OptionsError(key, f"{directory} mixes formats ({', '.join(sorted(builders))}); keep one")
    unreadable = [p for p in files if not os.access(p, os.R_OK)]
    if unreadable:
        raise OptionsError(key, f"{unreadable[0]} is not readable")
    return builders.pop(), files


def hub_failure(settings, exc: Exception) -> str:
    offline = os.environ.get("HF_DATASETS_OFFLINE") or os.environ.get("HF_HUB_OFFLINE")
    where = (f"HF_DATASETS_OFFLINE/HF_HUB_OFFLINE is set ({offline}), so only a copy in the datasets cache is read"
             if offline else "this machine may have no network, or the dataset needs a login (it is gated)")
    return (f"prompts.dataset {settings.dataset!r} (data_dir {settings.data_dir!r}) could not be streamed from the "
            f"Hugging Face hub: {type(exc).__name__}: {exc}. {where}. Offline: save a copy of it as JSONL, Parquet or "
            "Arrow files and set prompts.corpus: local with prompts.corpus_path, or run with HF_DATASETS_OFFLINE=1 "
            "once the dataset is in the datasets cache")
