"""Static checks that CI runs with the tests: ruff, snakefmt and snakemake --lint must report nothing."""

import subprocess
import sys
from pathlib import Path

from conftest import REPO

BIN = Path(sys.executable).parent


def run(*cmd):
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_ruff_is_clean():
    result = run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout


def test_snakefmt_is_clean():
    result = run(str(BIN / "snakefmt"), "--check", ".")
    assert result.returncode == 0, result.stderr


def test_snakemake_lint_is_clean():
    result = run(sys.executable, "-m", "snakemake", "--lint", "--cores", "1")
    assert "Congratulations" in result.stdout + result.stderr, result.stdout + result.stderr
