"""larix as sqlite3: the standard surface, on the Larix VFS."""

import datetime
import os
import sqlite3
import threading

import pytest

import larix
import larix.dump
from conftest import rows


def test_connections_are_larix_and_on_the_larix_vfs(workdir):
    for database in (":memory:", "", "app.db"):
        con = larix.connect(database)
        assert type(con) is larix.Connection
        assert isinstance(con, sqlite3.Connection)
        assert isinstance(con.cursor(), larix.Cursor)
        # current_branch() answers only on a Larix database file.
        assert con.current_branch() == "main"
        # SQLite's default journal mode (the journal is in memory).
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        con.close()


def test_standard_names_are_the_standard_objects():
    for name in ("Error", "DatabaseError", "OperationalError",
                 "IntegrityError", "ProgrammingError", "InterfaceError",
                 "NotSupportedError", "InternalError", "DataError", "Warning",
                 "Row", "Blob", "PrepareProtocol", "PARSE_DECLTYPES",
                 "PARSE_COLNAMES", "SQLITE_OK", "SQLITE_DENY",
                 "register_adapter", "register_converter", "adapters",
                 "converters", "complete_statement", "sqlite_version",
                 "sqlite_version_info", "version", "version_info",
                 "paramstyle", "apilevel", "threadsafety", "Binary", "Date",
                 "Timestamp"):
        assert getattr(larix, name) is getattr(sqlite3, name), name
    assert larix.dump._iterdump is sqlite3.dump._iterdump
    assert larix.dbapi2.connect is larix.connect
    assert larix.complete_statement("select 1;")


def test_spec_example(workdir):
    conn = larix.connect("app.db")
    conn.row_factory = larix.Row
    cur = conn.cursor()
    cur.executescript("CREATE TABLE IF NOT EXISTS files "
                      "(path TEXT PRIMARY KEY, mtime REAL, size INTEGER);")
    cur.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?)",
                ("/x", 1.0, 100))
    conn.commit()
    conn.close()
    conn = larix.connect("app.db")
    conn.row_factory = larix.Row
    row = conn.execute("SELECT * FROM files").fetchone()
    assert dict(row) == {"path": "/x", "mtime": 1.0, "size": 100}
    assert [r[1] for r in conn.execute("PRAGMA table_info(files)")] == \
        ["path", "mtime", "size"]


def test_transactions_and_context_manager(workdir):
    con = larix.connect("tx.db")
    con.execute("CREATE TABLE t(x)")
    with con:
        con.execute("INSERT INTO t VALUES (1)")
    assert not con.in_transaction
    with pytest.raises(larix.IntegrityError):
        with con:
            con.execute("INSERT INTO t VALUES (2)")
            raise larix.IntegrityError("roll back")
    assert rows(con) == [1]
    con.execute("INSERT INTO t VALUES (3)")
    assert con.in_transaction
    con.rollback()
    assert rows(con) == [1]
    assert con.total_changes >= 1
    cur = con.execute("INSERT INTO t VALUES (4)")
    assert cur.lastrowid == 2 and cur.rowcount == 1
    con.commit()
    other = larix.connect("tx.db")
    assert rows(other) == [1, 4]


def test_isolation_level_none_is_autocommit(workdir):
    a = larix.connect("auto.db", isolation_level=None)
    b = larix.connect("auto.db")
    a.execute("CREATE TABLE t(x)")
    a.execute("INSERT INTO t VALUES (1)")
    assert not a.in_transaction
    assert rows(b) == [1]


def test_types_adapters_converters(workdir):
    con = larix.connect("types.db", detect_types=larix.PARSE_DECLTYPES |
                        larix.PARSE_COLNAMES)
    con.execute("CREATE TABLE t(d date, ts timestamp, p point)")

    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    larix.register_adapter(Point, lambda p: f"{p.x};{p.y}")
    larix.register_converter("point",
                             lambda b: Point(*map(float, b.split(b";"))))
    larix.register_converter("upper", lambda b: b.decode().upper())
    try:
        now = datetime.datetime(2025, 11, 20, 12, 30, 1, 5)
        con.execute("INSERT INTO t VALUES (?, ?, ?)",
                    (now.date(), now, Point(1, 2)))
        d, ts, p = con.execute("SELECT d, ts, p FROM t").fetchone()
        assert d == now.date() and ts == now and (p.x, p.y) == (1.0, 2.0)
        (v,) = con.execute("""SELECT 'larix' AS "v [upper]" """).fetchone()
        assert v == "LARIX"
    finally:
        del larix.adapters[(Point, larix.PrepareProtocol)]
        del larix.converters["POINT"]
        del larix.converters["UPPER"]


def test_user_functions_collation_authorizer_hooks():
    con = larix.connect(":memory:")
    con.create_function("twice", 1, lambda x: 2 * x, deterministic=True)

    class Sum:
        def __init__(self):
            self.n = 0

        def step(self, v):
            self.n += v

        def finalize(self):
            return self.n

    class Window(Sum):
        def inverse(self, v):
            self.n -= v

        def value(self):
            return self.n

    con.create_aggregate("mysum", 1, Sum)
    con.create_window_function("wsum", 1, Window)
    con.create_collation("reverse", lambda a, b: (a < b) - (a > b))
    con.execute("CREATE TABLE t(x, s)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(1, "a"), (2, "b"), (3, "c")])
    assert con.execute("SELECT twice(x) FROM t ORDER BY x").fetchall() == \
        [(2,), (4,), (6,)]
    assert con.execute("SELECT mysum(x) FROM t").fetchone() == (6,)
    assert [r[0] for r in con.execute(
        "SELECT wsum(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND CURRENT "
        "ROW) FROM t")] == [1, 3, 5]
    assert [r[0] for r in con.execute(
        "SELECT s FROM t ORDER BY s COLLATE reverse")] == ["c", "b", "a"]

    traced, progress = [], []
    con.set_trace_callback(traced.append)
    con.set_progress_handler(lambda: progress.append(1), 1)
    con.execute("SELECT count(*) FROM t")
    assert "SELECT count(*) FROM t" in traced and progress
    con.set_trace_callback(None)
    con.set_progress_handler(None, 1)

    con.set_authorizer(lambda action, *args: larix.SQLITE_DENY
                       if action == larix.SQLITE_DELETE else larix.SQLITE_OK)
    with pytest.raises(larix.DatabaseError):
        con.execute("DELETE FROM t")
    con.set_authorizer(None)

    con.set_progress_handler(lambda: 1, 1)  # non-zero: interrupt
    with pytest.raises(larix.OperationalError, match="interrupted"):
        con.execute("SELECT count(*) FROM t")
    con.set_progress_handler(None, 1)


def test_interrupt_from_another_thread():
    con = larix.connect(":memory:", check_same_thread=False)
    timer = threading.Timer(0.2, con.interrupt)
    timer.start()
    with pytest.raises(larix.OperationalError, match="interrupted"):
        con.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
                    "SELECT x + 1 FROM c) SELECT count(*) FROM c").fetchone()
    timer.join()


def test_description_row_blob_executescript_iterdump_backup(workdir):
    con = larix.connect("many.db")
    con.executescript("""
        CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, data BLOB);
        INSERT INTO t(name, data) VALUES ('a', zeroblob(8));
    """)
    con.commit()
    cur = con.execute("SELECT id, name FROM t")
    assert [d[0] for d in cur.description] == ["id", "name"]
    con.row_factory = larix.Row
    row = con.execute("SELECT id, name FROM t").fetchone()
    assert row["name"] == "a" and row.keys() == ["id", "name"]
    with con.blobopen("t", "data", 1) as blob:
        blob.write(b"larix!!!")
    con.commit()
    assert con.execute("SELECT data FROM t").fetchone()[0] == b"larix!!!"
    dump = list(con.iterdump())
    assert dump[0] == "BEGIN TRANSACTION;" and any("larix" not in s for s in dump)
    copy = larix.connect(":memory:")
    con.backup(copy)
    assert copy.execute("SELECT name FROM t").fetchone()[0] == "a"
    assert copy.current_branch() == "main"


def test_factories():
    class MyConnection(larix.Connection):
        pass

    class MyCursor(larix.Cursor):
        pass

    con = larix.connect(":memory:", factory=MyConnection)
    assert type(con) is MyConnection and con.current_branch() == "main"
    assert type(con.cursor(MyCursor)) is MyCursor


def test_memory_databases_are_private_and_uri_memory_shared():
    a, b = larix.connect(":memory:"), larix.connect(":memory:")
    a.execute("CREATE TABLE t(x)")
    assert b.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    uri = "file:shared_mem?mode=memory&cache=shared"
    c, d = larix.connect(uri, uri=True), larix.connect(uri, uri=True)
    c.execute("CREATE TABLE t(x)")
    c.execute("INSERT INTO t VALUES (7)")
    c.commit()
    assert rows(d) == [7]
    assert d.current_branch() == "main"
    e = larix.connect("file::memory:?cache=shared", uri=True)
    f = larix.connect("file::memory:?cache=shared", uri=True)
    e.execute("CREATE TABLE z(a)")
    assert f.execute("SELECT name FROM sqlite_master").fetchall() == [("z",)]
    assert larix.connect("file::memory:", uri=True).execute(
        "SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_uri_forms(workdir):
    with pytest.raises(larix.OperationalError):
        larix.connect("file:missing.db?mode=ro", uri=True)
    assert not os.path.exists("missing.db")
    con = larix.connect("file:u.db", uri=True)
    con.execute("CREATE TABLE t(x)")
    con.close()
    ro = larix.connect("file:u.db?mode=ro", uri=True)
    assert ro.current_branch() == "main"
    with pytest.raises(larix.OperationalError, match="readonly"):
        ro.execute("INSERT INTO t VALUES (1)")
    assert larix.connect("file:u.db?mode=rw", uri=True).current_branch() == "main"
    with pytest.raises(larix.OperationalError):
        larix.connect("file:nope.db?mode=rw", uri=True)


def test_errors_match_sqlite3(workdir):
    os.mkdir("a_directory")
    with pytest.raises(larix.OperationalError,
                       match="unable to open database file") as info:
        larix.connect("a_directory")
    assert info.value.sqlite_errorcode == larix.SQLITE_CANTOPEN
    with pytest.raises(larix.OperationalError):
        larix.connect("/no/such/dir/x.db")
    with pytest.raises(TypeError):
        larix.connect(42)
    con = larix.connect(":memory:")
    con.execute("CREATE TABLE t(x UNIQUE)")
    con.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError) as info:
        con.execute("INSERT INTO t VALUES (1)")
    assert info.value.sqlite_errorname == "SQLITE_CONSTRAINT_UNIQUE"


def test_import_fails_clearly_without_a_shared_sqlite(monkeypatch):
    class Refusing:
        def __init__(self, *args, **kwargs):
            raise sqlite3.OperationalError("no such vfs: larix")

    monkeypatch.setattr(larix._sqlite3, "Connection", Refusing)
    with pytest.raises(ImportError, match="carries its own copy of SQLite"):
        larix._check_shared_sqlite()


def test_a_store_error_says_why_after_sqlites_message(workdir):
    # SQLite reports a commit the store refused as "disk I/O error"; the
    # exception adds Larix's reason, as `larix sql` prints it, and keeps
    # its class and codes.
    con = larix.connect("s.db", isolation_level=None)
    con.execute("CREATE TABLE t(a)")
    con.execute("INSERT INTO t VALUES (1)")
    con.execute("PRAGMA page_size=512")
    with pytest.raises(sqlite3.OperationalError) as info:
        con.execute("VACUUM")
    assert str(info.value) == (
        "disk I/O error: Invalid argument: the page size of a Larix database "
        "cannot change (from 4096 to 512 bytes, as VACUUM after PRAGMA "
        "page_size would do)")
    assert info.value.sqlite_errorcode & 0xff == sqlite3.SQLITE_IOERR
    assert info.value.sqlite_errorname.startswith("SQLITE_IOERR")
    # Nothing was written, and the next statement has no stale reason.
    assert con.execute("SELECT count(*) FROM t").fetchone() == (1,)
    assert con.execute("SELECT larix_error_detail()").fetchone() == (None,)
    # Errors that are not the store's keep SQLite's message alone.
    with pytest.raises(sqlite3.OperationalError) as info:
        con.execute("SELECT nope FROM t")
    assert str(info.value) == "no such column: nope"
