"""Time travel through sqlite3's API: AS OF clauses in execute, executemany
and executescript, with parameters, and the translation rules behind them
(larix._translate)."""

import sqlite3

import pytest

import larix
from larix import _translate
from conftest import rows


@pytest.fixture
def shop(workdir):
    """orders: txn1 (as of `first`) = [1, 2], later [1, 2, 3] with 2's
    total changed.  Returns (connection, first txn, first commit's time)."""
    con = larix.connect("shop.db")
    con.execute("CREATE TABLE orders(id INTEGER PRIMARY KEY, total REAL)")
    con.executemany("INSERT INTO orders VALUES (?, ?)", [(1, 10.0), (2, 20.0)])
    con.commit()
    first, when = con.execute("SELECT txn, time FROM larix_log LIMIT 1"
                              ).fetchone()
    con.execute("INSERT INTO orders VALUES (3, 30.0)")
    con.execute("UPDATE orders SET total = 25.0 WHERE id = 2")
    con.commit()
    yield con, first, when
    con.close()


def test_as_of_with_positional_parameters(shop):
    con, first, when = shop
    cur = con.cursor()
    cur.execute("SELECT * FROM orders AS OF TIMESTAMP ?", (when,))
    assert cur.fetchall() == [(1, 10.0), (2, 20.0)]
    assert [d[0] for d in cur.description] == ["id", "total"]
    cur.execute("SELECT * FROM orders AS OF TRANSACTION ? WHERE total > ?",
                (first, 15))
    assert cur.fetchall() == [(2, 20.0)]
    cur.execute("SELECT ?, total FROM orders AS OF SCN ? WHERE id = ?",
                ("x", first, 2))
    assert cur.fetchall() == [("x", 20.0)]


def test_as_of_with_named_parameters(shop):
    con, first, _ = shop
    assert con.execute(
        "SELECT total FROM orders AS OF TRANSACTION :t WHERE id = :id",
        {"t": first, "id": 2}).fetchall() == [(20.0,)]


def test_current_and_historical_rows_in_one_query(shop):
    con, _, when = shop
    changed = con.execute("""
        SELECT cur.id, cur.total, old.total
          FROM orders cur
          JOIN orders AS OF TIMESTAMP ? old ON cur.id = old.id
         WHERE cur.total != old.total""", (when,)).fetchall()
    assert changed == [(2, 25.0, 20.0)]


def test_undo_a_deletion_with_insert_select_as_of(shop):
    con, _, when = shop
    con.execute("DELETE FROM orders WHERE id = 1")
    con.commit()
    cur = con.execute("INSERT INTO orders SELECT * FROM orders "
                      "AS OF TIMESTAMP ? WHERE id = 1", (when,))
    # An INSERT stays an INSERT: sqlite3's implicit BEGIN, rowcount and
    # lastrowid as for any INSERT.
    assert con.in_transaction
    assert cur.rowcount == 1 and cur.lastrowid == 1
    con.rollback()
    assert rows(con, "SELECT id FROM orders") == [2, 3]
    con.execute("INSERT INTO orders SELECT * FROM orders "
                "AS OF TIMESTAMP ? WHERE id = 1", (when,))
    con.commit()
    assert rows(con, "SELECT id FROM orders") == [1, 2, 3]


def test_executemany_with_as_of(shop):
    con, first, _ = shop
    con.execute("CREATE TABLE copy(id, total)")
    con.executemany("INSERT INTO copy SELECT * FROM orders AS OF "
                    "TRANSACTION ? WHERE id = ?", [(first, 1), (first, 2)])
    con.commit()
    assert con.execute("SELECT * FROM copy").fetchall() == \
        [(1, 10.0), (2, 20.0)]


def test_as_of_branch_and_tag(shop):
    con, first, _ = shop
    con.execute("CREATE DATABASE BRANCH old FROM main AS OF TRANSACTION ?",
                (first,))
    con.execute("CREATE TAG v1 AS OF TRANSACTION ?", (first,))
    assert rows(con, "SELECT id FROM orders AS OF BRANCH 'old'") == [1, 2]
    assert rows(con, "SELECT id FROM orders AS OF TAG v1") == [1, 2]
    assert [r[0] for r in con.execute(
        "SELECT id FROM orders AS OF BRANCH ?", ("old",))] == [1, 2]


def test_executescript_with_time_travel(shop):
    con, first, _ = shop
    con.executescript(f"""
        CREATE TABLE snapshot AS SELECT * FROM orders AS OF TRANSACTION {first};
        INSERT INTO snapshot SELECT id + 100, total FROM orders AS OF TRANSACTION {first};
    """)
    assert rows(con, "SELECT id FROM snapshot ORDER BY id") == [1, 2, 101, 102]


def test_add_system_versioning_is_accepted(shop):
    con, _, _ = shop
    cur = con.execute("ALTER TABLE orders ADD SYSTEM VERSIONING")
    assert cur.description is None and cur.fetchall() == []
    with pytest.raises(larix.OperationalError, match="no such table"):
        con.execute("ALTER TABLE nope ADD SYSTEM VERSIONING")


def test_time_travel_errors(shop):
    con, _, _ = shop
    with pytest.raises(larix.OperationalError, match="no such table: nope"):
        con.execute("SELECT * FROM nope AS OF TRANSACTION 1")
    with pytest.raises(larix.OperationalError, match="not a time"):
        con.execute("SELECT * FROM orders AS OF TIMESTAMP 'not a time'"
                    ).fetchall()
    with pytest.raises(larix.ProgrammingError, match="Incorrect number of "
                       "bindings"):
        con.execute("SELECT * FROM orders AS OF TRANSACTION ? WHERE id = ?",
                    (1,))


def test_audit_trail_with_parameters(shop):  # SPEC.md §1, as written
    con, _, _ = shop
    trail = con.execute(
        "SELECT system_time, id, total FROM orders WHERE id = ?\n"
        "  FOR SYSTEM_TIME BETWEEN ? AND ? ORDER BY system_time;",
        (2, "2000-01-01 00:00:00", "2100-01-01 00:00:00")).fetchall()
    assert [r[1:] for r in trail] == [(2, 20.0), (2, 25.0)]


def test_renumbered_parameters_are_reordered(shop):
    # The clause moves into the FROM clause, so :b is bound first there:
    # the values of a sequence follow their parameters.
    con, _, _ = shop
    sql = ("SELECT id, total FROM orders FOR SYSTEM_TIME BETWEEN :a AND :b "
           "WHERE id = ? ORDER BY system_time")
    origin = con.execute("SELECT larix_parameter_origin(?)", (sql,)
                         ).fetchone()[0]
    assert origin == "2,1,3"
    values = ("2000-01-01", "2100-01-01", 2)
    assert con.execute(sql, values).fetchall() == [(2, 20.0), (2, 25.0)]
    assert con.execute(sql.replace("?", ":id"),
                       {"a": values[0], "b": values[1], "id": 2}
                       ).fetchall() == [(2, 20.0), (2, 25.0)]


# --- The translation rules --------------------------------------------------


@pytest.mark.parametrize("sql", [
    "SELECT * FROM t",
    "INSERT INTO t VALUES (?, ?)",
    "SELECT * FROM offers WHERE professor = 'x'",
    "UPDATE t SET x = 1",
])
def test_plain_statements_are_recognized_cheaply(sql):
    assert not _translate._may_hold_extension(sql)


@pytest.mark.parametrize("sql", [
    "CREATE DATABASE BRANCH dev FROM main AS OF NOW",
    "select * from t as\tof\ntimestamp '2025-01-01'",
    "SELECT * FROM t AS/**/OF TRANSACTION 3",
    "use branch dev",
    "USE\tBRANCH dev",
    "CREATE TAG v1",
    "SELECT * FROM u FOR SYSTEM_TIME ALL",
    "ALTER TABLE t ADD SYSTEM VERSIONING",
    "SELECT * FROM larix_log",
])
def test_every_extension_passes_the_cheap_check(sql):
    assert _translate._may_hold_extension(sql)


def test_remap_parameters():
    remap = _translate.remap_parameters
    assert remap((1, 2, 3), None) == (1, 2, 3)
    assert remap(("ts", "a", "b"), (0, 2, 3)) == (None, "a", "b")
    assert remap(["a", "ts", "b"], (2, 0, 3, 1)) == ("ts", None, "b", "a")
    named = {"a": 1}
    assert remap(named, (2, 1)) is named
    with pytest.raises(sqlite3.ProgrammingError, match="uses 3"):
        remap((1,), (1, 3))


def test_first_word():
    assert _translate._first_word("  -- c\n /* x */ select 1") == "SELECT"
    assert _translate._first_word("/* open") == ""


def test_translation_of_a_plain_sqlite_connection(workdir):
    # A larix.Cursor on a plain SQLite database (sqlite3's own connection):
    # plain SQL runs; Larix's statements say why they cannot.
    plain = sqlite3.connect(":memory:")
    cur = larix.Cursor(plain)
    assert cur.execute("SELECT 'tag'").fetchall() == [("tag",)]
    with pytest.raises(sqlite3.OperationalError,
                       match="not on a Larix store"):
        cur.execute("CREATE DATABASE BRANCH x FROM main AS OF NOW")
