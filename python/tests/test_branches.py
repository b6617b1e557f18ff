"""Branches from Python: connect(branch=...), current_branch(), and the
branch methods over Larix's SQL (SPEC.md §2)."""


import pytest

import larix
from larix import _larix
from conftest import rows, sql_available

BRANCH_SQL = (
    "CREATE DATABASE BRANCH probe FROM CURRENT AS OF NOW",
    "SELECT * FROM pg_database_branches()",
    "MERGE DATABASE BRANCH probe INTO main",
    "DROP DATABASE BRANCH probe",
)
needs_branch_sql = pytest.mark.xfail(
    not sql_available(*BRANCH_SQL),
    reason="SQL extension not yet available (CREATE/MERGE/DROP DATABASE "
           "BRANCH, pg_database_branches())",
    strict=True)
needs_diff_sql = pytest.mark.xfail(
    not sql_available(BRANCH_SQL[0], "SELECT * FROM larix_diff('main', 'probe')"),
    reason="SQL extension not yet available (CREATE DATABASE BRANCH, "
           "larix_diff())",
    strict=True)


@pytest.fixture
def two_branch_store(workdir, make_sqlite_file):
    """A store 'shop' whose main holds t = [1] and dev holds t = [1, 2]."""
    main = make_sqlite_file("main-seed.db", [1])
    dev = make_sqlite_file("dev-seed.db", [1, 2])
    _larix.create_store(b"shop", [("main", main), ("dev", dev)])
    return "shop"


def test_connect_branch_keyword_path_at_branch_and_uri(two_branch_store):
    main = larix.connect(two_branch_store)
    assert main.current_branch() == "main" and rows(main) == [1]
    for con in (larix.connect(two_branch_store, branch="dev"),
                larix.connect(two_branch_store + "@dev"),
                larix.connect(f"file:{two_branch_store}?branch=dev", uri=True)):
        assert con.current_branch() == "dev"
        assert rows(con) == [1, 2]


def test_writes_stay_on_their_branch(two_branch_store):
    dev = larix.connect(two_branch_store, branch="dev")
    dev.execute("INSERT INTO t VALUES (3)")
    dev.commit()
    assert rows(larix.connect(two_branch_store)) == [1]
    assert rows(larix.connect(two_branch_store, branch="dev")) == [1, 2, 3]


def test_branch_of_a_plain_path(workdir, make_sqlite_file):
    path = make_sqlite_file("app.db", [1])
    larix.connect(path).close()  # creates app.db.larix
    assert larix.connect(path, branch="main").current_branch() == "main"


def test_unknown_branch_is_an_error(two_branch_store):
    with pytest.raises(larix.OperationalError, match="no branch 'nope'"):
        larix.connect(two_branch_store, branch="nope")


@needs_branch_sql
def test_create_list_info_merge_delete(workdir):
    conn = larix.connect("app.db")
    conn.execute("CREATE TABLE files(path TEXT PRIMARY KEY, size INTEGER)")
    conn.execute("INSERT INTO files VALUES ('/a', 5), ('/b', 500)")
    conn.commit()

    branch = conn.create_branch("experiment")
    assert branch.name == "experiment"
    b = larix.connect("app.db", branch="experiment")
    b.execute("DELETE FROM files WHERE size < 10")
    b.commit()

    names = {br.name for br in conn.list_branches()}
    assert {"main", "experiment"} <= names
    for br in conn.list_branches():
        assert br.created_at is not None and br.size_mb is not None
    info = conn.get_branch_info("experiment")
    assert info.name == "experiment"

    conn.merge_branch("experiment")
    assert rows(conn, "SELECT path FROM files") == ["/b"]
    b.close()
    conn.delete_branch("experiment")
    assert "experiment" not in {br.name for br in conn.list_branches()}
    conn.delete_branch("experiment", if_exists=True)


@needs_diff_sql
def test_compare_branches(workdir):
    conn = larix.connect("cmp.db")
    conn.execute("CREATE TABLE t(x)")
    conn.commit()
    conn.create_branch("other")
    other = larix.connect("cmp.db", branch="other")
    other.execute("INSERT INTO t VALUES (1)")
    other.commit()
    diff = conn.compare_branches("main", "other")
    assert diff.tables_modified == ["t"] and diff.total_row_changes == 1
