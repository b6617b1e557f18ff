"""Where connect() puts a database (docs/python.md, "Where the data lives")."""

import hashlib
import json
import os
import sqlite3

import pytest

import larix
from conftest import rows


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_new_path_creates_placeholder_and_store(workdir):
    con = larix.connect("app.db")
    assert os.path.isfile("app.db") and os.path.getsize("app.db") == 0
    assert os.path.isfile(os.path.join("app.db.larix", "LARIX"))
    con.execute("CREATE TABLE t(x)")
    con.execute("INSERT INTO t VALUES (1)")
    con.commit()
    con.close()
    assert os.path.getsize("app.db") == 0  # the data is in the store
    assert rows(larix.connect("app.db")) == [1]
    assert rows(larix.connect(os.path.abspath("app.db"))) == [1]


def test_existing_sqlite_file_is_imported_and_never_modified(
        workdir, make_sqlite_file):
    path = make_sqlite_file("legacy.db", [1, 2, 3])
    before = sha256(path)
    stat_before = os.stat(path)

    con = larix.connect(path)
    assert rows(con) == [1, 2, 3]
    con.execute("INSERT INTO t VALUES (4)")
    con.execute("DELETE FROM t WHERE x = 1")
    con.commit()
    con.close()
    assert sha256(path) == before
    assert os.stat(path).st_mtime_ns == stat_before.st_mtime_ns

    # The next connect finds the same store, with the program's writes.
    con = larix.connect(path)
    assert rows(con) == [2, 3, 4]
    con.close()
    assert sha256(path) == before
    # The standard module still sees the original file.
    plain = sqlite3.connect(path)
    assert rows(plain) == [1, 2, 3]
    plain.close()
    origin = json.load(open(os.path.join(path + ".larix", "sqlite-origin.json")))
    assert origin["ino"] == stat_before.st_ino and origin["file"] == "legacy.db"


def test_removed_file_starts_a_new_database_and_keeps_history(workdir):
    con = larix.connect("gone.db")
    con.execute("CREATE TABLE t(x)")
    con.commit()
    con.close()
    os.remove("gone.db")
    con = larix.connect("gone.db")
    assert os.path.exists("gone.db")
    assert con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    con.execute("CREATE TABLE t(y)")  # a fresh database: no clash
    con.commit()


def test_file_replaced_by_another_program_is_taken_up(workdir, make_sqlite_file):
    path = make_sqlite_file("swap.db", [1])
    con = larix.connect(path)
    con.execute("INSERT INTO t VALUES (2)")
    con.commit()
    con.close()
    os.remove(path)
    make_sqlite_file("swap.db", [10, 20])
    con = larix.connect(path)
    assert rows(con) == [10, 20]


def test_read_only_uri_on_a_plain_file_reads_the_file(workdir, make_sqlite_file):
    path = make_sqlite_file("ro.db", [5])
    con = larix.connect(f"file:{path}?mode=ro", uri=True)
    assert rows(con) == [5]
    with pytest.raises(larix.OperationalError):
        con.execute("INSERT INTO t VALUES (6)")
    assert not os.path.exists(path + ".larix")  # mode=ro never writes


def test_path_at_branch_and_store_directory(workdir):
    con = larix.connect("shop.db")
    con.execute("CREATE TABLE t(x)")
    con.commit()
    con.close()
    assert larix.connect("shop.db@main").current_branch() == "main"
    # A store directory opens directly.
    assert larix.connect("shop.db.larix").current_branch() == "main"
    # A new file whose name has an '@' is just a name.
    odd = larix.connect("@odd@name.db")
    assert odd.current_branch() == "main"
    assert os.path.isfile("@odd@name.db")
    os.mkdir("plain_dir")
    at_dir = larix.connect("plain_dir@x")  # not a branch of a directory
    assert at_dir.current_branch() == "main"
    assert os.path.isdir("plain_dir@x.larix")


def test_not_a_database(workdir):
    with open("text.db", "w") as f:
        f.write("hello, this is not SQLite" * 100)
    with pytest.raises(larix.DatabaseError, match="not a database"):
        larix.connect("text.db")
    assert not os.path.exists("text.db.larix")


def test_undecodable_and_bytes_paths(workdir):
    name = b"caf\xe9.db"  # not UTF-8
    con = larix.connect(name)
    con.execute("CREATE TABLE t(x)")
    con.commit()
    con.close()
    assert os.path.isfile(name) and os.path.isdir(name + b".larix")
    assert larix.connect(os.fsdecode(name)).execute(
        "SELECT count(*) FROM t").fetchone() == (0,)
