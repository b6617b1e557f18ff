"""Branches from Python: connect(branch=...), Larix's branch statements
through execute / executescript, and the branch methods (SPEC.md §2)."""

import datetime
import sqlite3

import pytest

import larix
from larix import _larix
from conftest import rows


@pytest.fixture
def two_branch_store(workdir, make_sqlite_file):
    """A store 'shop' whose main holds t = [1] and dev holds t = [1, 2]."""
    main = make_sqlite_file("main-seed.db", [1])
    dev = make_sqlite_file("dev-seed.db", [1, 2])
    _larix.create_store(b"shop", [("main", main), ("dev", dev)])
    return "shop"


@pytest.fixture
def conn(workdir):
    """app.db: files(path, size) = ('/a', 5), ('/b', 500) on main."""
    con = larix.connect("app.db")
    con.execute("CREATE TABLE files(path TEXT PRIMARY KEY, size INTEGER)")
    con.execute("INSERT INTO files VALUES ('/a', 5), ('/b', 500)")
    con.commit()
    yield con
    con.close()


def branch_names(con):
    return sorted(b.name for b in con.list_branches())


# --- connect(branch=...) ------------------------------------------------------


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


# --- The SPEC's example, as written -------------------------------------------


def test_spec_section_2_as_written(workdir, capsys):
    import larix as sqlite3
    conn = sqlite3.connect('app.db')                    # also ':memory:', '' and uri=True forms
    conn.row_factory = sqlite3.Row
    cur = conn.cursor()
    cur.executescript("CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, mtime REAL, size INTEGER);")
    cur.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?)", ("/x", 1.0, 100))
    conn.commit()

    branch = conn.create_branch('experiment')           # .name
    b = sqlite3.connect('app.db', branch='experiment')
    b.execute('DELETE FROM files WHERE size < 10'); b.commit()
    conn.merge_branch('experiment')                     # or conn.delete_branch('experiment')
    for br in conn.list_branches(): print(br.name, br.created_at, br.size_mb)
    info = conn.get_branch_info('experiment')           # .commits, .divergence_point
    diff = conn.compare_branches('main', 'experiment')  # .tables_modified, .total_row_changes

    assert branch.name == "experiment"
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed] == ["experiment", "main"]
    assert info.commits == 0 and info.divergence_point is not None
    assert diff.tables_modified == [] and diff.total_row_changes == 0
    assert [tuple(r) for r in conn.execute("SELECT path, size FROM files")] \
        == [("/x", 100)]


# --- The statements through execute ---------------------------------------------


def test_branch_statements_through_execute(conn):
    cur = conn.execute("CREATE DATABASE BRANCH dev FROM main AS OF NOW")
    assert type(cur) is larix.Cursor
    # A command returns nothing and describes nothing, like any statement
    # without a result.
    assert cur.fetchall() == [] and cur.description is None
    assert cur.rowcount == -1
    assert not conn.in_transaction  # no implicit BEGIN for a command
    assert branch_names(conn) == ["dev", "main"]
    conn.execute("ALTER DATABASE BRANCH dev RENAME TO dev2")
    conn.execute("USE BRANCH dev2")
    assert conn.current_branch() == "dev2"
    conn.execute("DELETE FROM files WHERE size < 10")
    conn.commit()
    conn.execute("USE BRANCH main")
    assert [r[0] for r in conn.execute("SELECT path FROM files")] == ["/a", "/b"]
    conn.execute("MERGE DATABASE BRANCH dev2 INTO main")
    assert [r[0] for r in conn.execute("SELECT path FROM files")] == ["/b"]
    conn.execute("DROP DATABASE BRANCH dev2")
    conn.execute("DROP DATABASE BRANCH IF EXISTS dev2")
    assert branch_names(conn) == ["main"]


def test_commands_leave_the_cursor_and_transaction_alone(conn):
    cur = conn.cursor()
    cur.execute("INSERT INTO files VALUES ('/c', 1)")
    assert cur.lastrowid == 3 and conn.in_transaction
    conn.commit()
    cur.execute("CREATE DATABASE BRANCH IF NOT EXISTS dev FROM CURRENT AS OF NOW")
    assert cur.lastrowid == 3 and cur.description is None
    assert not conn.in_transaction
    # The next statement on the cursor describes its own result again.
    cur.execute("SELECT path FROM files")
    assert [d[0] for d in cur.description] == ["path"]
    # executemany of a command is rejected as sqlite3 rejects a SELECT.
    with pytest.raises(larix.ProgrammingError):
        cur.executemany("DROP DATABASE BRANCH dev", [()])


def test_a_command_inside_an_explicit_transaction(conn):
    conn.execute("BEGIN")
    conn.execute("INSERT INTO files VALUES ('/c', 1)")
    # Branch operations act on refs, not on the open transaction: the
    # branch starts at the last commit, and the transaction goes on.
    conn.execute("CREATE DATABASE BRANCH dev FROM CURRENT AS OF NOW")
    assert conn.in_transaction
    conn.commit()
    dev = larix.connect("app.db", branch="dev")
    assert rows(dev, "SELECT path FROM files") == ["/a", "/b"]
    assert rows(conn, "SELECT path FROM files") == ["/a", "/b", "/c"]
    # Switching branch is refused inside a transaction.
    conn.execute("INSERT INTO files VALUES ('/d', 1)")
    with pytest.raises(larix.OperationalError, match="inside a transaction"):
        conn.execute("USE BRANCH dev")
    conn.rollback()
    conn.execute("USE BRANCH dev")
    assert conn.current_branch() == "dev"


def test_implicit_transactions_with_isolation_level_none(conn):
    conn.isolation_level = None
    conn.execute("CREATE DATABASE BRANCH dev FROM main AS OF NOW")
    conn.execute("INSERT INTO files VALUES ('/c', 1)")  # autocommitted
    conn.execute("MERGE DATABASE BRANCH main INTO dev")
    assert rows(larix.connect("app.db", branch="dev"),
                "SELECT path FROM files") == ["/a", "/b", "/c"]


def test_executescript_with_plain_and_larix_statements(conn):
    conn.execute("INSERT INTO files VALUES ('/pending', 0)")
    assert conn.in_transaction
    cur = conn.cursor()
    result = cur.executescript("""
        CREATE TABLE log(msg TEXT);            -- plain
        INSERT INTO log VALUES ('a;b');
        CREATE DATABASE BRANCH s1 FROM CURRENT AS OF NOW;
        INSERT INTO log VALUES ('after s1');
        BEGIN;
        INSERT INTO log VALUES ('in txn');
        CREATE DATABASE BRANCH s2 FROM CURRENT AS OF NOW;   /* in the txn */
        INSERT INTO log SELECT msg || '!' FROM log AS OF BRANCH 's1';
        COMMIT;
        CREATE TRIGGER tr AFTER INSERT ON log BEGIN
            INSERT INTO files VALUES (new.msg, 0);
        END;
        USE BRANCH s1;
        INSERT INTO log VALUES ('on s1')
    """)
    assert result is cur
    assert not conn.in_transaction  # COMMIT first, as sqlite3 does
    assert conn.current_branch() == "s1"
    assert rows(conn, "SELECT msg FROM log") == ["a;b", "on s1"]
    main = larix.connect("app.db")
    assert rows(main, "SELECT msg FROM log ORDER BY rowid") == \
        ["a;b", "after s1", "in txn", "a;b!"]
    assert "/pending" in rows(main, "SELECT path FROM files")
    # s2 was made inside the script's transaction: from the last commit.
    assert rows(larix.connect("app.db", branch="s2"),
                "SELECT msg FROM log") == ["a;b", "after s1"]


def test_executescript_stops_at_the_first_error(conn):
    with pytest.raises(larix.OperationalError, match="does not exist"):
        conn.executescript("""
            INSERT INTO files VALUES ('/c', 1);
            DROP DATABASE BRANCH nope;
            INSERT INTO files VALUES ('/d', 1);
        """)
    assert rows(conn, "SELECT path FROM files") == ["/a", "/b", "/c"]


@pytest.mark.parametrize("sql, message", [
    ("CREATE DATABASE BRANCH main FROM main AS OF NOW",
     "branch 'main' already exists"),
    ("CREATE DATABASE BRANCH x FORM main",
     r'syntax error near "FORM" at offset 25: expected FROM'),
    ("DROP DATABASE BRANCH nope", "branch 'nope' does not exist"),
    ("MERGE DATABASE BRANCH nope INTO main", "'nope' does not exist"),
    ("USE BRANCH nope", "nope"),
    ("CREATE DATABASE BRANCH x FROM main AS OF TRANSACTION 0",
     "no transaction 0 or older"),
    ("CREATE DATABASE BRANCH x FROM main AS OF TIMESTAMP 'soon'", "soon"),
])
def test_errors_are_operational_errors_with_larix_messages(conn, sql, message):
    with pytest.raises(larix.OperationalError, match=message):
        conn.execute(sql)
    with pytest.raises(larix.OperationalError, match=message):
        conn.executescript(sql)
    assert conn.current_branch() == "main"
    assert branch_names(conn) == ["main"]


def test_sql_without_larix_syntax_reaches_sqlite_untouched(conn):
    traced = []
    conn.set_trace_callback(traced.append)
    sql = "SELECT count(*) FROM files WHERE path <> 'x'"
    for _ in range(3):
        conn.execute(sql).fetchall()
    assert traced == [sql] * 3
    # A word that may start an extension costs one translation, once.
    traced.clear()
    tagged = "SELECT size AS tag FROM files WHERE path = ?"
    for _ in range(3):
        conn.execute(tagged, ("/a",)).fetchall()
    assert traced.count(tagged.replace("?", "'/a'")) == 3
    assert sum("larix_translate" in t for t in traced) <= 1


# --- The methods ---------------------------------------------------------------


def test_create_list_info_merge_delete(conn):
    branch = conn.create_branch("experiment")
    assert isinstance(branch, larix.Branch)
    assert branch.name == "experiment" and branch.parent == "main"
    assert branch.commits == 0
    b = larix.connect("app.db", branch="experiment")
    b.execute("DELETE FROM files WHERE size < 10")
    b.commit()

    assert branch_names(conn) == ["experiment", "main"]
    for br in conn.list_branches():
        assert br.created_at is not None and br.size_mb > 0
        assert br.kind == "branch" and br.alias_of is None
        assert len(br.head) == 64
    info = conn.get_branch_info("experiment")
    assert info.commits == 1
    assert info.divergence_point == conn.get_branch_info("main").head

    target = conn.merge_branch("experiment")  # fast-forward
    assert target.name == "main" and target.head == b.execute(
        "SELECT larix_hashof(NULL)").fetchone()[0]
    assert rows(conn, "SELECT path FROM files") == ["/b"]
    b.close()
    conn.delete_branch("experiment")
    assert branch_names(conn) == ["main"]
    conn.delete_branch("experiment", if_exists=True)
    with pytest.raises(larix.OperationalError, match="does not exist"):
        conn.delete_branch("experiment")


def test_merge_into_another_branch_and_delete_after(conn):
    conn.create_branch("dev")
    conn.create_branch("feature", from_branch="dev")
    f = larix.connect("app.db", branch="feature")
    f.execute("INSERT INTO files VALUES ('/f', 1)")
    f.commit()
    f.close()
    conn.merge_branch("feature", into="dev", delete_branch_after=True)
    assert branch_names(conn) == ["dev", "main"]
    assert rows(larix.connect("app.db", branch="dev"),
                "SELECT path FROM files") == ["/a", "/b", "/f"]
    assert rows(conn, "SELECT path FROM files") == ["/a", "/b"]


def test_merge_of_diverged_branches(conn):
    conn.create_branch("dev")
    dev = larix.connect("app.db", branch="dev")
    dev.execute("INSERT INTO files VALUES ('/dev', 1)")
    dev.commit()
    conn.execute("INSERT INTO files VALUES ('/main', 2)")
    conn.commit()
    conn.merge_branch("dev", conflict_resolution="fail")
    assert rows(conn, "SELECT path FROM files") == ["/a", "/b", "/dev", "/main"]
    head = conn.execute("SELECT parents FROM larix_log LIMIT 1").fetchone()[0]
    assert len(head.split()) == 2  # a merge commit


@pytest.mark.parametrize("policy, expected", [
    ("branch_wins", [("/a", 7)]), ("target_wins", [("/a", 6)])])
def test_merge_conflicts(conn, policy, expected):
    conn.create_branch("dev")
    dev = larix.connect("app.db", branch="dev")
    dev.execute("UPDATE files SET size = 7 WHERE path = '/a'")
    dev.commit()
    conn.execute("UPDATE files SET size = 6 WHERE path = '/a'")
    conn.commit()
    with pytest.raises(larix.OperationalError, match="conflict"):
        conn.merge_branch("dev")  # conflict_resolution='fail'
    assert not conn.in_transaction
    conn.merge_branch("dev", conflict_resolution=policy,
                      delete_branch_after=True)
    assert conn.execute("SELECT * FROM files WHERE path = '/a'").fetchall() \
        == expected
    assert branch_names(conn) == ["main"]


def test_merge_conflict_resolution_is_checked(conn):
    conn.create_branch("dev")
    with pytest.raises(larix.OperationalError, match="conflict_resolution"):
        conn.merge_branch("dev", conflict_resolution="whatever")


def test_create_branch_from_a_branch_and_as_of(conn):
    first = conn.execute("SELECT max(txn) FROM larix_log").fetchone()[0]
    conn.execute("INSERT INTO files VALUES ('/c', 1)")
    conn.commit()
    log = conn.execute("SELECT txn, time FROM larix_log").fetchall()
    by_txn = conn.create_branch("by_txn", as_of=first)
    assert rows(larix.connect("app.db", branch="by_txn"),
                "SELECT path FROM files") == ["/a", "/b"]
    assert by_txn.parent == "main"
    # A time: the state after the last commit at or before it.
    when = dict(log)[first]
    for name, as_of in (("by_str", when),
                        ("by_datetime", datetime.datetime.fromisoformat(when)),
                        ("by_aware", datetime.datetime.fromisoformat(when)
                         .replace(tzinfo=datetime.timezone.utc)
                         .astimezone(datetime.timezone(datetime.timedelta(hours=2))))):
        conn.create_branch(name, as_of=as_of)
        assert rows(larix.connect("app.db", branch=name),
                    "SELECT path FROM files") == ["/a", "/b"], name
    conn.create_branch("later", from_branch="by_txn")
    assert conn.get_branch_info("later").parent == "by_txn"
    with pytest.raises(TypeError):
        conn.create_branch("bad", as_of=1.5)
    with pytest.raises(TypeError):
        conn.create_branch("bad", as_of=True)
    with pytest.raises(larix.OperationalError):
        conn.create_branch("bad", as_of="not a time")


def test_use_branch_and_current_branch(conn):
    conn.create_branch("dev")
    conn.use_branch("dev")
    assert conn.current_branch() == "dev"
    conn.execute("INSERT INTO files VALUES ('/dev', 1)")
    conn.commit()
    conn.use_branch("main")
    assert rows(conn, "SELECT path FROM files") == ["/a", "/b"]
    with pytest.raises(larix.OperationalError, match="does not exist"):
        conn.use_branch("nope")
    assert conn.current_branch() == "main"


def test_get_branch_info(conn):
    main = conn.get_branch_info("main")
    assert main.parent is None and main.divergence_point is None
    assert main.commits == 3  # init, CREATE TABLE, INSERT
    assert main.status == "current"
    conn.create_branch("dev")
    dev = larix.connect("app.db", branch="dev")
    for i in range(3):
        dev.execute("INSERT INTO files VALUES (?, ?)", (f"/{i}", i))
        dev.commit()
    conn.execute("INSERT INTO files VALUES ('/m', 1)")  # main moves on too
    conn.commit()
    info = conn.get_branch_info("dev")
    assert info.commits == 3
    assert info.divergence_point == main.head
    with pytest.raises(larix.OperationalError, match="does not exist"):
        conn.get_branch_info("nope")


def test_aliases_in_list_branches(conn):
    conn.execute("CREATE DATABASE BRANCH blue FROM main AS OF NOW")
    conn.execute("CREATE DATABASE BRANCH ALIAS production FOR blue")
    by_name = {b.name: b for b in conn.list_branches()}
    assert by_name["production"].kind == "alias"
    assert by_name["production"].alias_of == "blue"
    app = larix.connect("app.db", branch="production")
    assert rows(app, "SELECT path FROM files") == ["/a", "/b"]


def test_compare_branches(conn):
    conn.execute("CREATE TABLE kv(k TEXT PRIMARY KEY, v) WITHOUT ROWID")
    conn.execute("INSERT INTO kv VALUES ('a', 1), ('b', 2)")
    conn.execute("CREATE TABLE gone(x)")
    conn.commit()
    conn.create_branch("other")
    other = larix.connect("app.db", branch="other")
    other.executescript("""
        INSERT INTO files VALUES ('/c', 3);
        UPDATE files SET size = 6 WHERE path = '/a';
        DELETE FROM kv WHERE k = 'a';
        UPDATE kv SET v = 3 WHERE k = 'b';
        INSERT INTO kv VALUES ('c', 1);
        CREATE TABLE only_other(x);
        INSERT INTO only_other VALUES (1), (2);
        DROP TABLE gone;
    """)
    diff = conn.compare_branches("main", "other")
    assert diff.tables_modified == ["files", "gone", "kv", "only_other"]
    t = {c.table: c for c in diff.tables}
    assert (t["files"].rows_added, t["files"].rows_modified,
            t["files"].rows_removed) == (1, 1, 0)
    assert (t["kv"].rows_added, t["kv"].rows_modified,
            t["kv"].rows_removed) == (1, 1, 1)
    assert t["only_other"].added and t["only_other"].rows_added == 2
    assert t["gone"].removed and t["gone"].rows_removed == 0
    assert diff.total_row_changes == 2 + 3 + 2
    back = conn.compare_branches("other", "main")
    assert back.total_row_changes == diff.total_row_changes
    assert conn.compare_branches("main", "main").tables_modified == []
    with pytest.raises(larix.OperationalError, match="does not exist"):
        conn.compare_branches("main", "nope")


def test_compare_branches_with_a_changed_schema(conn):
    conn.create_branch("wide")
    wide = larix.connect("app.db", branch="wide")
    wide.execute("ALTER TABLE files ADD COLUMN owner TEXT")
    diff = conn.compare_branches("main", "wide")
    files = diff.tables[0]
    # Columns are matched by name; a missing one reads as NULL.
    assert files.schema_changed and files.row_changes == 0
    wide.execute("UPDATE files SET owner = 'ann' WHERE path = '/a'")
    wide.commit()
    assert conn.compare_branches("main", "wide").tables[0].rows_modified == 1


def test_compare_branches_of_an_in_memory_store():
    con = larix.connect(":memory:")
    con.execute("CREATE TABLE t(x)")
    con.commit()
    con.create_branch("other")
    con.use_branch("other")
    con.execute("INSERT INTO t VALUES (1)")
    con.commit()
    diff = con.compare_branches("main", "other")
    assert diff.tables_modified == ["t"] and diff.total_row_changes == 1


def test_methods_ignore_the_programs_row_and_text_factories(conn):
    conn.row_factory = sqlite3.Row
    conn.text_factory = bytes
    conn.create_branch("dev")
    assert conn.current_branch() == "main"
    assert branch_names(conn) == ["dev", "main"]
    assert conn.get_branch_info("dev").parent == "main"
    assert conn.compare_branches("main", "dev").total_row_changes == 0


def test_names_are_quoted(conn):
    for name in ('feature/login', 'we"ird', "o'brien", "select"):
        conn.create_branch(name)
        assert conn.get_branch_info(name).name == name
        conn.delete_branch(name)
    with pytest.raises(larix.ProgrammingError):
        conn.create_branch("")
