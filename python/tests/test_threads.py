"""Threads: many connections to one store, and one connection shared."""

import threading

import larix

THREADS = 10
ROWS_PER_THREAD = 50


def run_threads(target):
    errors = []

    def guarded(i):
        try:
            target(i)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_ten_connections_insert_concurrently_with_default_timeout(workdir):
    setup = larix.connect("threads.db")
    setup.execute("CREATE TABLE t(thread INTEGER, n INTEGER)")
    setup.commit()
    start = threading.Barrier(THREADS)

    def insert(i):
        con = larix.connect("threads.db")  # default timeout: 5.0 s
        start.wait()
        for n in range(ROWS_PER_THREAD):
            con.execute("INSERT INTO t VALUES (?, ?)", (i, n))
            con.commit()
        con.close()

    assert run_threads(insert) == []
    counts = dict(setup.execute(
        "SELECT thread, count(*) FROM t GROUP BY thread").fetchall())
    assert counts == {i: ROWS_PER_THREAD for i in range(THREADS)}


def test_one_connection_shared_across_threads(workdir):
    con = larix.connect("shared.db", check_same_thread=False)
    con.execute("CREATE TABLE t(thread INTEGER, n INTEGER)")
    con.commit()
    lock = threading.Lock()

    def insert(i):
        for n in range(ROWS_PER_THREAD):
            # sqlite3 connections are safe to share with check_same_thread=
            # False; a transaction spanning statements needs the program's
            # own lock, as with sqlite3.
            with lock:
                with con:
                    con.execute("INSERT INTO t VALUES (?, ?)", (i, n))
            con.execute("SELECT count(*) FROM t").fetchone()

    assert run_threads(insert) == []
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == \
        THREADS * ROWS_PER_THREAD


def test_check_same_thread_is_enforced(workdir):
    con = larix.connect("same.db")
    errors = run_threads(lambda i: con.execute("SELECT 1"))
    assert len(errors) == THREADS and "ProgrammingError" in errors[0]
