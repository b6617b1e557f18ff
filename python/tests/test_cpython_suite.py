"""CPython's own test_sqlite3 passes with larix in place of sqlite3 as it
passes with sqlite3 (run_cpython_suite.py does the work)."""

import os
import subprocess
import sys

import pytest

RUNNER = os.path.join(os.path.dirname(__file__), "run_cpython_suite.py")


def test_cpython_sqlite3_suite_gives_the_same_results_with_larix():
    proc = subprocess.run([sys.executable, RUNNER], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=900)
    if proc.returncode == 2:
        pytest.skip(proc.stdout.strip())
    assert proc.returncode == 0, proc.stdout
