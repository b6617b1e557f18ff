"""Shared fixtures for the larix package tests.

The package must be installed (pip install ./python); these tests import
the installed larix, as a program would.
"""

import os
import sqlite3

import pytest


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A fresh, empty working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def make_sqlite_file(workdir):
    """make_sqlite_file(name, rows) -> path of a plain SQLite file (written by
    the standard module) holding table t(x) with `rows`."""
    def make(name, rows):
        path = os.path.join(str(workdir), name)
        with sqlite3.connect(path) as con:
            con.execute("CREATE TABLE t(x)")
            con.executemany("INSERT INTO t VALUES (?)", [(r,) for r in rows])
        con.close()
        return path
    return make


def rows(con, sql="SELECT x FROM t ORDER BY x"):
    return [r[0] for r in con.execute(sql)]
