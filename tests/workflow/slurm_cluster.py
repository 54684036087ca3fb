"""A real single-node SLURM cluster for tests: Debian's slurmctld, slurmd and munge, started directly (these machines
have no systemd), configured in a temporary directory, stopped by PID.

Two partitions on the one node: `cpu` (default) and `gpu`, the names profiles/slurm uses. The node advertises two
fake GPUs (character devices that are /dev/null's twins) so that jobs asking `--gpus=1` are scheduled rather than
refused; nothing uses them. Settings that matter on these machines are in
../shared/notes/snakemake-and-slurm-facts.md: no cgroups (proctrack/linuxproc), no accounting daemon (so job
status comes from squeue), a default memory per CPU (else one job takes the whole node).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
FAKE_GPUS = 2
# Where client commands look for the configuration when SLURM_CONF is not set (slurmd's configless cache): the
# executor plugin strips SLURM_* variables inside jobs, so the `srun` it runs there finds the test cluster only here.
RUNTIME_CONF = Path("/run/slurm/conf")
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")


def installed() -> bool:
    return all(shutil.which(name) for name in (*DAEMONS, "sbatch", "squeue"))


def clashes_with_a_real_cluster() -> bool:
    """A machine with its own SLURM configuration: these tests would take its place, so they do not run."""
    return SYSTEM_CONF.exists() or (RUNTIME_CONF / "slurm.conf").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _memory_mb() -> int:
    with open("/proc/meminfo") as meminfo:
        total_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    return int(total_kb / 1024 * 0.8)


class LocalSlurm:
    """``with LocalSlurm(tmp) as cluster:`` runs a cluster; ``cluster.env`` points client commands at it."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.conf = self.directory / "slurm.conf"
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}

    # ---------------------------------------------------------------------------------------------- config
    def write_config(self) -> None:
        d = self.directory
        for sub in ("state", "spool", "gpus"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        for index in range(FAKE_GPUS):
            device = d / "gpus" / f"fakegpu{index}"
            if not device.exists():
                os.mknod(device, 0o666 | 0o020000, os.makedev(1, 3))  # a character device like /dev/null
        host = socket.gethostname().split(".")[0]
        self.conf.write_text(f"""\
ClusterName=gatedloop-test
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc={d}/jobcomp.txt
MinJobAge=3600
ReturnToService=2
SchedulerParameters=sched_interval=1
GresTypes=gpu
NodeName={host} CPUs={os.cpu_count()} RealMemory={_memory_mb()} Gres=gpu:test:{FAKE_GPUS} State=UNKNOWN
PartitionName=cpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=ALL MaxTime=INFINITE State=UP
""")
        (d / "gres.conf").write_text(f"Name=gpu Type=test File={d}/gpus/fakegpu[0-{FAKE_GPUS - 1}]\n")
        RUNTIME_CONF.mkdir(parents=True, exist_ok=True)
        for name in ("slurm.conf", "gres.conf"):
            (RUNTIME_CONF / name).symlink_to(d / name)

    # ------------------------------------------------------------------------------------- start and stop
    def start(self, timeout_s: float = 60) -> None:
        self.write_config()
        Path("/run/munge").mkdir(exist_ok=True)
        shutil.chown("/run/munge", "munge", "munge")
        munge_log = open(self.directory / "munged.log", "w")  # noqa: SIM115 - kept open for the daemon's life
        self.processes["munged"] = subprocess.Popen(["munged", "--foreground", "--force"], user="munge",
                                                    group="munge", stdout=munge_log, stderr=subprocess.STDOUT)
        self._wait(lambda: Path("/run/munge/munge.socket.2").exists(), timeout_s, "munged")
        for name, command in (("slurmctld", ["slurmctld", "-D", "-c", "-i"]), ("slurmd", ["slurmd", "-D"])):
            log = open(self.directory / f"{name}.out", "w")  # noqa: SIM115
            self.processes[name] = subprocess.Popen([*command, "-f", str(self.conf)], env=self.env, stdout=log,
                                                    stderr=subprocess.STDOUT, start_new_session=True)
        self._wait(self._node_idle, timeout_s, "the node to become idle")

    def _node_idle(self) -> bool:
        result = subprocess.run(["sinfo", "-h", "-o", "%t"], env=self.env, capture_output=True, text=True)
        return result.returncode == 0 and result.stdout.split() and all(s == "idle" for s in result.stdout.split())

    def _wait(self, ready, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode} while waiting for {what}:\n"
                                       + self.logs())
            if ready():
                return
            time.sleep(0.3)
        raise TimeoutError(f"waited {timeout_s} s for {what}:\n" + self.logs())

    def finished_jobs(self) -> list[dict[str, str]]:
        """The controller's completion records (jobcomp/filetxt), one dict of its KEY=VALUE fields per job."""
        path = self.directory / "jobcomp.txt"
        lines = path.read_text().splitlines() if path.exists() else []
        return [dict(field.split("=", 1) for field in line.split() if "=" in field) for line in lines]

    def recent_jobs(self) -> list[dict[str, str]]:
        """What each job asked for (partition, TresPerJob), as `scontrol show job` keeps it for MinJobAge."""
        shown = subprocess.run(["scontrol", "show", "job", "-o"], env=self.env, capture_output=True, text=True,
                               check=True).stdout
        return [dict(field.split("=", 1) for field in line.split() if "=" in field) for line in shown.splitlines()]

    def logs(self) -> str:
        parts = []
        for path in sorted(self.directory.glob("*.log")) + sorted(self.directory.glob("*.out")):
            parts.append(f"--- {path.name}\n" + path.read_text(errors="replace")[-3000:])
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop the daemons this object started, by PID (slurmd first, munged last); remove its config links."""
        for name in ("slurm.conf", "gres.conf"):
            link = RUNTIME_CONF / name
            if link.is_symlink() and Path(os.readlink(link)).parent == self.directory:
                link.unlink()
        for name in reversed(DAEMONS):
            process = self.processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def __enter__(self) -> LocalSlurm:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(Exception):
            subprocess.run(["scancel", "--user", "root"], env=self.env, timeout=20)
        self.stop()
