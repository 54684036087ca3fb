"""The end of a run that had failures: which jobs failed (rule, wildcards, log) and the commands that retry them.

With ``keep-going`` (the SLURM profile sets it) one failed job does not stop the other jobs of a sweep, and the
failures scroll by among thousands of finished ones; the ``onerror`` handler prints this summary last. Finished
outputs are kept, so rerunning the same command runs only what failed and what waits on it; the second command
retries the failed jobs alone (their outputs as targets).
"""

from __future__ import annotations

import shlex
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FailedJob:
    rule: str
    wildcards: dict[str, str]
    logs: tuple[str, ...]
    outputs: tuple[str, ...]


def failed_jobs(workflow) -> list[FailedJob]:
    """The jobs Snakemake gave up on in this run (after their retries), group jobs opened up, in a stable order."""
    scheduler = getattr(workflow, "scheduler", None)
    failed = []
    for job in getattr(scheduler, "failed", ()):
        for member in getattr(job, "jobs", None) or [job]:
            failed.append(FailedJob(rule=member.rule.name, wildcards=dict(member.wildcards.items()),
                                    logs=tuple(str(f) for f in member.log),
                                    outputs=tuple(str(f) for f in member.output)))
    return sorted(failed, key=lambda job: (job.rule, sorted(job.wildcards.items())))


def _targets(argv: Sequence[str]) -> set[str]:
    """The targets named on this command line, as Snakemake's own parser reads it (none if it cannot)."""
    from snakemake.cli import get_argument_parser

    try:
        return set(get_argument_parser().parse_known_args(list(argv))[0].targets or [])
    except SystemExit:
        return set()


def retry_commands(failed: Iterable[FailedJob], argv: Sequence[str]) -> tuple[str, str]:
    """(the same command, the same options with the failed jobs' outputs as the only targets). The targets come
    first: options such as --configfile take several values and would swallow targets placed after them."""
    targets = _targets(argv)
    options = [arg for arg in argv if arg not in targets]
    outputs = [output for job in failed for output in job.outputs]
    return shlex.join(["snakemake", *argv]), shlex.join(["snakemake", *outputs, *options])


def summary(failed: Sequence[FailedJob], argv: Sequence[str]) -> str:
    if not failed:
        return ""
    lines = [f"gatedloop: {len(failed)} job(s) failed:"]
    for job in failed:
        wildcards = ", ".join(f"{key}={value}" for key, value in job.wildcards.items())
        where = f" ({wildcards})" if wildcards else ""
        logs = ", ".join(job.logs) or "no log file (see the Snakemake log)"
        lines.append(f"  {job.rule}{where}: log {logs}")
        full = full_disk(job.logs)
        if full:
            lines.append(f"    its log is empty, and the filesystem holding it is full: No space left on device "
                         f"({full}); free space (or a quota), then rerun")
    same, only = retry_commands(failed, argv)
    lines += ["Finished outputs are kept: after fixing the cause, the same command runs only these jobs and the jobs",
              "that wait on them:", f"  {same}"]
    if only != same:
        lines += ["or these jobs alone:", f"  {only}"]
    return "\n".join(lines)


FULL_BELOW = 1 << 20  # bytes free under which a filesystem counts as full: a job's next write would fail


def full_disk(logs: Sequence[str]) -> str:
    """Where a failed job's log is empty because its disk is full, what says so ('<dir>: N bytes free'), else ''.
    A job that fails with ENOSPC often cannot write why into its own log, on the same full disk."""
    for log in logs:
        path = Path(log)
        if path.is_file() and path.stat().st_size > 0:
            continue
        folder = next((p for p in [path.parent, *path.parents] if p.is_dir()), None)
        if folder is None:
            continue
        free = shutil.disk_usage(folder).free
        if free < FULL_BELOW:
            return f"{folder}: {free} bytes free"
    return ""


def print_summary(workflow, argv: Sequence[str] | None = None) -> None:
    text = summary(failed_jobs(workflow), sys.argv[1:] if argv is None else argv)
    if text:
        print(text, file=sys.stderr)
