"""End-to-end tests of the `larix` command: they run the built binary.

Run:  LARIX_BIN=build/larix python3 -m pytest tests/cli -q
(LARIX_BIN defaults to build/larix under the repository root.)

Each test works in its own temporary directory; the REPL tests drive the
binary through a pseudo-terminal, as a user would.
"""

import json
import os
import pty
import re
import select
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LARIX = os.environ.get("LARIX_BIN", str(ROOT / "build" / "larix"))
VERBS = ["init", "sql", "log", "branch", "tag", "merge", "cherry-pick",
         "revert", "reset", "show", "diff", "blame", "import", "export", "fsck",
         "gc"]


def run(*args, input=None, check=None, env=None):
    """Runs larix; returns the CompletedProcess, stdout and stderr decoded
    as UTF-8 with line ends kept as they are (CSV's CRLF stays visible)."""
    proc = subprocess.run(
        [LARIX, *map(str, args)],
        input=input.encode() if input is not None else None,
        capture_output=True,
        timeout=120,
        env=env,
    )
    proc.stdout = proc.stdout.decode()
    proc.stderr = proc.stderr.decode()
    if check is not None:
        assert proc.returncode == check, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def one_error_line(proc):
    """The single stderr line of a failed command."""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture(autouse=True)
def binary_exists():
    if not os.access(LARIX, os.X_OK):
        pytest.skip(f"no larix binary at {LARIX} (set LARIX_BIN)")


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "store"
    run("init", path, check=0)
    return path


def make_sqlite(path):
    """A SQLite file with an index, NULLs, reals, blobs and overflow rows."""
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL,
                           price REAL, data BLOB);
        CREATE INDEX items_name ON items(name);
        CREATE TABLE notes(k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;
        """
    )
    db.executemany(
        "INSERT INTO items(name, price, data) VALUES (?, ?, ?)",
        [(f"item {i}", i * 0.5 if i % 5 else None, os.urandom(i * 37)) for i in range(300)],
    )
    db.execute("INSERT INTO items(name, data) VALUES ('big', ?)", (os.urandom(300_000),))
    db.execute("INSERT INTO notes VALUES ('a', 'comma, \"quote\"'), ('b', NULL)")
    db.commit()
    db.close()


def sqlite_dump(path):
    return subprocess.run(
        ["sqlite3", str(path), ".dump"], capture_output=True, text=True, check=True
    ).stdout


# --- help and usage ---------------------------------------------------------


@pytest.mark.parametrize("verb", VERBS)
def test_help_for_each_verb(verb):
    proc = run(verb, "--help", check=0)
    assert "Example:" in proc.stdout
    assert f"larix {verb}" in proc.stdout
    assert proc.stdout.splitlines()[0].strip()  # the one-line description


def test_top_level_help_and_version():
    proc = run("--help", check=0)
    for verb in VERBS:
        assert verb in proc.stdout
    assert run("--version", check=0).stdout.startswith("larix ")


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["bogus"],
        ["sql"],
        ["sql", "s", "--format", "xml", "-c", "select 1"],
        ["log", "s", "--no-such-flag"],
        ["export", "s", "out.db", "--branch", "a", "--commit", "b"],
        ["branch", "s", "--from", "main"],
        ["branch", "s", "-d", "a", "-m", "b", "c"],
        ["branch", "s", "-m", "only-one"],
        ["tag", "s", "-d", "a", "b"],
        ["diff", "s"],
        ["blame", "s"],
        ["merge", "s", "dev", "--strategy", "bogus"],
        ["merge", "s", "--continue", "--abort"],
        ["cherry-pick", "s"],
        ["revert", "s", "main", "--strategy", "manual"],
        ["reset", "s", "main"],
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, tmp_path):
    proc = run(*args)
    assert proc.returncode == 2
    assert one_error_line(proc).startswith("larix: ")


def test_bad_store_path_gives_one_clear_line(tmp_path):
    missing = tmp_path / "nope"
    for args in (
        ["sql", missing, "-c", "select 1"],
        ["log", missing],
        ["fsck", missing],
        ["gc", missing],
        ["export", missing, tmp_path / "x.db"],
        ["branch", missing],
        ["tag", missing],
        ["show", missing],
        ["diff", missing, "main"],
        ["blame", missing, "t"],
    ):
        proc = run(*args)
        assert proc.returncode == 1, args
        line = one_error_line(proc)
        assert line.startswith("larix: ") and str(missing) in line, line
    assert not missing.exists(), "a failed command must not create a store"


# --- init ---------------------------------------------------------------------


def test_init(tmp_path):
    path = tmp_path / "s"
    proc = run("init", path, check=0)
    assert "initialized" in proc.stdout
    assert (path / "LARIX").exists()
    again = run("init", path)
    assert again.returncode == 1
    assert "already exists" in one_error_line(again)


# --- sql ----------------------------------------------------------------------


def test_sql_table_format(store):
    proc = run("sql", store, "-c", "select 1 as a, 'x' as b", check=0)
    assert proc.stdout == " a | b\n---+---\n 1 | x\n(1 row)\n"


def test_sql_csv_format(store):
    proc = run("sql", store, "-c", "select 1 as a, 'x' as b", "--format", "csv", check=0)
    assert proc.stdout == "a,b\r\n1,x\r\n"
    proc = run(
        "sql", store, "--format", "csv", "-c",
        "select 'a,b' as s, 'say \"hi\"' as q, 'two\nlines' as n, NULL as z, '' as e",
        check=0,
    )
    assert proc.stdout == 's,q,n,z,e\r\n"a,b","say ""hi""","two\nlines",,""\r\n'


def test_sql_json_format(store):
    proc = run("sql", store, "-c", "select 1 as a, 'x' as b", "--format", "json", check=0)
    assert proc.stdout == '[\n{"a":1,"b":"x"}\n]\n'
    proc = run(
        "sql", store, "--format", "json", "-c",
        "select 42 as i, 2.5 as r, 1.0 as whole, 'é\"\n' as t, x'00ff' as b, NULL as n",
        check=0,
    )
    rows = json.loads(proc.stdout)
    assert rows == [{"i": 42, "r": 2.5, "whole": 1.0, "t": 'é"\n', "b": "x'00ff'", "n": None}]
    assert isinstance(rows[0]["whole"], float)
    empty = run("sql", store, "--format", "json", "-c", "select 1 as a where 0", check=0)
    assert json.loads(empty.stdout) == []


def test_sql_table_alignment_and_multiline(store):
    proc = run(
        "sql", store, "-c",
        "select 1 as id, 'apple' as name, 'two\nlines' as note "
        "union all select 100, NULL, 'x'",
        check=0,
    )
    assert proc.stdout == (
        " id  | name  | note\n"
        "-----+-------+-------\n"
        "   1 | apple | two  +\n"
        "     |       | lines\n"
        " 100 |       | x\n"
        "(2 rows)\n"
    )


def test_each_transaction_is_one_commit(store):
    run("sql", store, "-c", "create table t(a); insert into t values (1)", check=0)
    run("sql", store, "-c", "begin; insert into t values (2); insert into t values (3); commit", check=0)
    log = run("log", store, "--oneline", check=0).stdout.splitlines()
    assert len(log) == 4  # init, create, insert, one transaction of two inserts
    assert [line.split("  ")[2] for line in log] == ["txn 4", "txn 3", "txn 2", "txn 1"]
    proc = run("sql", store, "-c", "select group_concat(a) from t", "--format", "csv", check=0)
    assert proc.stdout.splitlines()[1] == '"1,2,3"'


def test_script_from_stdin_stops_at_first_error(store):
    script = (
        "create table t(a integer primary key, b text);\n"
        "insert into t values (1, 'one');\n"
        "\n"
        "select * from\n"
        "   t where nosuchcolumn = 1;\n"
        "insert into t values (2, 'two');\n"
    )
    proc = run("sql", store, input=script)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines[0] == "error: no such column: nosuchcolumn"
    assert lines[1] == "LINE 5:    t where nosuchcolumn = 1;"
    assert lines[2] == " " * lines[1].index("nosuchcolumn") + "^"
    # Statements before the error were committed; those after never ran.
    out = run("sql", store, "-c", "select group_concat(a) from t", "--format", "csv", check=0)
    assert out.stdout.splitlines()[1] == "1"


def test_syntax_error_in_c_names_the_offset(store):
    proc = run("sql", store, "-c", "select 1;\nselec 2")
    assert proc.returncode == 1
    assert proc.stdout == " 1\n---\n 1\n(1 row)\n"
    assert proc.stderr.splitlines() == [
        'error: near "selec": syntax error',
        "LINE 2: selec 2",
        "        ^",
    ]


def test_runtime_error_shows_the_statement(store):
    run("sql", store, "-c", "create table u(a unique); insert into u values (1)", check=0)
    proc = run("sql", store, "-c", "insert into u values (1)")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "error: UNIQUE constraint failed: u.a",
        "LINE 1: insert into u values (1)",
    ]


def test_a_store_error_says_why_after_sqlites_message(store):
    run("sql", store, "-c", "create table t(a); insert into t values (1)", check=0)
    proc = run("sql", store, "-c", "pragma page_size=512; vacuum")
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0] == (
        "error: disk I/O error: Invalid argument: the page size of a Larix "
        "database cannot change (from 4096 to 512 bytes, as VACUUM after "
        "PRAGMA page_size would do)"
    )
    proc = run("sql", store, "-c", "select count(*) as n from t", check=0)
    assert proc.stdout == " n\n---\n 1\n(1 row)\n"


def test_script_file_and_meta_commands_in_scripts(store, tmp_path):
    script = tmp_path / "setup.sql"
    script.write_text(
        "-- a comment\ncreate table t(a);\ninsert into t values (7);\n\\d\nselect a from t;\n"
    )
    proc = run("sql", store, script, check=0)
    assert " main   | t    | table" in proc.stdout
    assert " a\n---\n 7\n(1 row)\n" in proc.stdout
    bad = tmp_path / "bad.sql"
    bad.write_text("select 1;\n\nselect * from nope;\n")
    proc = run("sql", store, bad)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[1].startswith(f"{bad}:3: select * from nope;")


def test_unterminated_last_statement_runs(store):
    proc = run("sql", store, input="select 5 as five", check=0)
    assert "five" in proc.stdout


def test_store_at_branch(store, tmp_path):
    src = tmp_path / "src.db"
    make_sqlite(src)
    run("import", src, f"{store}@dev", check=0)
    proc = run("sql", f"{store}@dev", "-c", "select count(*) from items", "--format", "csv", check=0)
    assert proc.stdout.splitlines()[1] == "301"
    same = run("sql", store, "--branch", "dev", "-c", "select count(*) from items", "--format", "csv", check=0)
    assert same.stdout == proc.stdout
    # main is still empty.
    main = run("sql", store, "-c", "select count(*) from sqlite_schema", "--format", "csv", check=0)
    assert main.stdout.splitlines()[1] == "0"
    conflict = run("sql", f"{store}@dev", "--branch", "main", "-c", "select 1")
    assert conflict.returncode == 1 and "two branches" in one_error_line(conflict)
    missing = run("sql", f"{store}@nobranch", "-c", "select 1")
    assert missing.returncode == 1
    assert "nobranch" in one_error_line(missing)
    assert run("log", f"{store}@dev", "--oneline", check=0).stdout.count("\n") == 1


# --- log ----------------------------------------------------------------------


def test_log(store):
    run("sql", store, "-c", "create table t(a)", check=0)
    proc = run("log", store, check=0)
    blocks = proc.stdout.split("\n\ncommit ")
    assert len(blocks) == 2
    first = proc.stdout.splitlines()
    assert first[0].startswith("commit ") and first[0].endswith(" (main)")
    assert len(first[0].split()[1]) == 64
    assert first[1].startswith("Author: ")
    assert first[2].startswith("Date:   ") and first[2].endswith("Z")
    assert first[3] == "Txn:    2"
    assert first[5] == "    create table t(a)"  # the statement that made it
    assert "    Initialize store" in proc.stdout
    one = run("log", store, "-n", "1", "--oneline", check=0).stdout.splitlines()
    assert len(one) == 1
    commit, when, txn, author, message = one[0].split("  ")
    assert len(commit) == 12 and when.endswith("Z") and txn == "txn 2"
    assert message == "create table t(a)"


def test_sql_at_branch_with_branch_statements(store):
    run("sql", store, "-c", "create table t(a); insert into t values (1)", check=0)
    run("sql", store, "-c", "CREATE DATABASE BRANCH dev FROM main AS OF NOW", check=0)
    run("sql", f"{store}@dev", "-c", "insert into t values (2)", check=0)
    csv = ["--format", "csv", "-c", "select group_concat(a) from t"]
    assert run("sql", f"{store}@dev", *csv, check=0).stdout.splitlines()[1] == '"1,2"'
    assert run("sql", store, *csv, check=0).stdout.splitlines()[1] == "1"
    current = run("sql", f"{store}@dev", "--format", "csv", "-c",
                  "select current_branch()", check=0)
    assert current.stdout.splitlines()[1] == "dev"


# --- branch / tag -------------------------------------------------------------


HEX12 = r"[0-9a-f]{12}"


def oneline_log(store, *args):
    """[(short id, txn, message)] of `larix log --oneline`."""
    out = []
    for line in run("log", store, "--oneline", *args, check=0).stdout.splitlines():
        commit, _, txn, _, message = line.split("  ", 4)
        out.append((commit, int(txn.split()[1]), message))
    return out


def test_branch_list_create_rename_delete(store):
    run("sql", store, "-c", "create table t(a); insert into t values (1)", check=0)
    assert run("branch", store, check=0).stdout == "* main\n"
    head, txn, _ = oneline_log(store)[0]
    created = run("branch", store, "dev", check=0).stdout
    assert created == f"created branch dev from main at {head} (txn {txn})\n"
    assert run("branch", store, check=0).stdout == "  dev\n* main\n"
    verbose = run("branch", store, "-v", check=0).stdout.splitlines()
    assert verbose == [f"  dev   {head}  txn {txn}  from main",
                       f"* main  {head}  txn {txn}"]
    run("sql", store, "-c", "CREATE DATABASE BRANCH ALIAS production FOR dev", check=0)
    assert run("branch", store, check=0).stdout == \
        "  dev\n* main\n  production -> dev\n"
    assert run("branch", store, "-d", "production", check=0).stdout == \
        "deleted alias production (was -> dev)\n"
    assert run("branch", store, "-m", "dev", "dev2", check=0).stdout == \
        "renamed branch dev to dev2\n"
    assert run("branch", store, "-d", "dev2", check=0).stdout == \
        f"deleted branch dev2 (was {head})\n"
    assert run("branch", store, check=0).stdout == "* main\n"

    for args, message in (
        (["main"], "larix: branch 'main' already exists"),
        (["-d", "nope"], "larix: branch 'nope' does not exist"),
        (["-m", "nope", "x"], "larix: branch 'nope' does not exist"),
        (["bad name"], "bad name"),
        (["x", "--from", "nope"], "larix: no branch, tag or commit named 'nope'"),
    ):
        proc = run("branch", store, *args)
        assert proc.returncode == 1, args
        assert message in one_error_line(proc), (args, proc.stderr)


def test_branch_from_a_revision_and_as_of(store):
    run("sql", store, "-c", "create table t(a)", check=0)
    run("sql", store, "-c", "insert into t values (1)", check=0)
    run("sql", store, "-c", "insert into t values (2)", check=0)
    log = oneline_log(store)
    txn_one = log[1][1]  # after "insert ... (1)"

    def rows(branch):
        out = run("sql", f"{store}@{branch}", "--format", "csv", "-c",
                  "select group_concat(a) from t", check=0).stdout
        return out.splitlines()[1].strip('"')

    run("branch", store, "by_txn", "--as-of", str(txn_one), check=0)
    assert rows("by_txn") == "1"
    when = run("log", store, "-n", "2", check=0).stdout
    when = [l for l in when.splitlines() if l.startswith("Date:")][1].split()[1]
    run("branch", store, "by_time", "--from", "main", "--as-of", when, check=0)
    assert rows("by_time") == "1"
    run("branch", store, "by_rev", "--from", "main~1", check=0)
    assert rows("by_rev") == "1"
    run("branch", store, "by_id", "--from", log[2][0], check=0)
    assert rows("by_id") == ""
    run("tag", store, "v1", "main^", check=0)
    run("branch", store, "by_tag", "--from", "v1", check=0)
    assert rows("by_tag") == "1"
    run("branch", store, "now", "--as-of", "now", check=0)
    assert rows("now") == "1,2"
    # STORE@branch: new branches start from that branch.
    run("sql", f"{store}@by_tag", "-c", "insert into t values (9)", check=0)
    assert "from by_tag" in run("branch", f"{store}@by_tag", "child", check=0).stdout
    assert rows("child") == "1,9"
    bad = run("branch", store, "x", "--from", "v1", "--as-of", "3")
    assert bad.returncode == 1
    assert "--as-of needs --from to name a branch" in one_error_line(bad)
    bad = run("branch", store, "x", "--as-of", "not a time")
    assert bad.returncode == 1 and "not a time" in one_error_line(bad)


def test_tag(store):
    run("sql", store, "-c", "create table t(a)", check=0)
    run("sql", store, "-c", "insert into t values (1)", check=0)
    log = oneline_log(store)
    assert run("tag", store, check=0).stdout == ""
    assert run("tag", store, "v2", check=0).stdout == \
        f"tagged {log[0][0]} (main) as v2\n"
    assert run("tag", store, "v1", "main~1", check=0).stdout == \
        f"tagged {log[1][0]} (main~1) as v1\n"
    assert run("tag", store, check=0).stdout == \
        f"v1  {log[1][0]}\nv2  {log[0][0]}\n"
    dup = run("tag", store, "v1")
    assert dup.returncode == 1 and "tag 'v1' already exists" in one_error_line(dup)
    assert run("tag", store, "-d", "v2", check=0).stdout == \
        f"deleted tag v2 (was {log[0][0]})\n"
    missing = run("tag", store, "-d", "v2")
    assert missing.returncode == 1 and "tag 'v2' does not exist" in one_error_line(missing)
    past = run("tag", store, "v0", "main~9")
    assert past.returncode == 1 and "past the first commit" in one_error_line(past)
    # Tags are revisions everywhere.
    assert run("log", store, "--branch", "v1", "--oneline", check=0).stdout \
        .splitlines()[0].startswith(log[1][0])


# --- log --graph, show, diff, blame ---------------------------------------------


@pytest.fixture
def shop(store):
    """main: orders (1, 2, 3); dev, from there: +4, 2 changed, -3, an index;
    main after: +5."""
    run("sql", store, "-c",
        "create table orders(id integer primary key, total real, note text);"
        "insert into orders values (1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c')",
        check=0)
    run("branch", store, "dev", check=0)
    run("sql", f"{store}@dev", "-c",
        "insert into orders values (4, 40, 'new');"
        "update orders set total = 25 where id = 2;"
        "delete from orders where id = 3;"
        "create index orders_note on orders(note)", check=0)
    run("sql", store, "-c", "insert into orders values (5, 50, 'main')", check=0)
    return store


def graph_shape(out):
    """The graph part of `log --graph --oneline` lines, ids replaced."""
    shapes = []
    for line in out.splitlines():
        m = re.match(r"^([*|/\\ ]*?)(?: ([0-9a-f]{12})( \(.*?\))?  .*)?$", line)
        assert m, line
        graph, commit = m.group(1), m.group(2)
        shapes.append(graph + (" C" if commit else ""))
    return shapes


def test_log_graph_of_diverged_branches(shop):
    out = run("log", shop, "--graph", "--all", "--oneline", check=0).stdout
    assert graph_shape(out) == [
        "* C",      # main: +5
        "| * C",    # dev: the index
        "| * C",    # dev: delete
        "| * C",    # dev: update
        "| * C",    # dev: insert
        "|/",
        "* C",      # the branch point
        "* C",
        "* C",      # Initialize store
    ]
    lines = out.splitlines()
    assert re.match(rf"^\* {HEX12} \(main\)  \S+Z  txn 8  ", lines[0])
    assert re.match(rf"^\| \* {HEX12} \(dev\)  ", lines[1])
    # A single branch is a straight line; decorations name branches and tags.
    run("tag", shop, "v1", "dev~1", check=0)
    full = run("log", f"{shop}@dev", "--graph", check=0).stdout
    assert re.match(rf"^\* commit [0-9a-f]{{64}} \(dev\)$", full.splitlines()[0])
    assert "(tag: v1)" in full
    assert all(l == "" or l.startswith(("* ", "|", "  ")) for l in full.splitlines())
    assert run("log", shop, "--all", "--branch", "dev").returncode == 1


def test_log_graph_of_a_merge(shop):
    run("sql", shop, "-c", "MERGE DATABASE BRANCH dev INTO main", check=0)
    out = run("log", shop, "--graph", "--oneline", check=0).stdout
    assert graph_shape(out) == [
        "* C",      # the merge
        "|\\",
        "* | C",    # main: +5
        "| * C",    # dev: the index
        "| * C",
        "| * C",
        "| * C",
        "|/",
        "* C",      # the branch point
        "* C",
        "* C",
    ]
    full = run("log", shop, "--graph", "-n", "1", check=0).stdout.splitlines()
    assert full[1].startswith("| Merge: ")
    show = run("show", shop, check=0).stdout
    assert "changes against the first parent" in show


def test_show(shop):
    log = oneline_log(shop, "--branch", "dev")
    out = run("show", shop, "dev", check=0).stdout.splitlines()
    assert re.match(r"^commit [0-9a-f]{64} \(dev\)$", out[0])
    assert out[1].startswith("Author: ") and out[3] == f"Txn:    {log[0][1]}"
    assert out[5] == "    create index orders_note on orders(note)"
    assert out[7:] == ["schema:", "  + index orders_note on orders", "no row changes"]
    out = run("show", shop, "dev~2", check=0).stdout
    assert out.endswith("table orders: 0 added, 1 modified, 0 removed\n"
                        "1 table changed: 0 rows added, 1 modified, 0 removed\n")
    first = run("show", shop, log[-1][0], check=0).stdout
    assert "Initialize store" in first and first.endswith("no row changes\n")
    created = run("show", shop, "main~2", check=0).stdout
    assert "  + table orders" in created
    default = run("show", shop, check=0).stdout  # HEAD's branch
    assert "(main)" in default.splitlines()[0]
    bad = run("show", shop, "nope")
    assert bad.returncode == 1 and "nope" in one_error_line(bad)


def test_diff(shop):
    out = run("diff", shop, "main", "dev", check=0).stdout
    assert out == (
        "schema:\n"
        "  + index orders_note on orders\n"
        "table orders: 1 added, 1 modified, 2 removed\n"
        "~ id=2: total 20.0 -> 25.0\n"
        "- id=3: total=30.0, note='c'\n"
        "+ id=4: total=40.0, note='new'\n"
        "- id=5: total=50.0, note='main'\n"
        "1 table changed: 1 row added, 1 modified, 2 removed\n"
    )
    assert run("diff", shop, "main", "dev", "--stat", check=0).stdout == (
        "schema:\n"
        "  + index orders_note on orders\n"
        "table orders: 1 added, 1 modified, 2 removed\n"
        "1 table changed: 1 row added, 1 modified, 2 removed\n"
    )
    # TO defaults to STORE@branch; --table; revisions with ~ and ^.
    assert run("diff", f"{shop}@dev", "main", "--table", "orders", check=0).stdout \
        == out.split("schema:\n  + index orders_note on orders\n")[1]
    assert run("diff", shop, "main^", "main", check=0).stdout == (
        "table orders: 1 added, 0 modified, 0 removed\n"
        "+ id=5: total=50.0, note='main'\n"
        "1 table changed: 1 row added, 0 modified, 0 removed\n")
    assert run("diff", shop, "main", "main", check=0).stdout == "no row changes\n"
    for args, message in ((["main", "nope"], "nope"),
                          (["main", "dev", "--table", "nope"], "nope")):
        proc = run("diff", shop, *args)
        assert proc.returncode == 1 and message in one_error_line(proc)


def test_diff_keys_schema_changes_and_odd_values(store):
    run("sql", store, "-c",
        "create table kv(k text, n integer, v, primary key (k, n)) without rowid;"
        "insert into kv values ('a', 1, 'x'), ('b', 2, 'y');"
        "create table wide(id integer primary key, a)", check=0)
    run("tag", store, "before", check=0)
    run("sql", store, "-c",
        "update kv set v = 'two\nlines' where k = 'a';"
        "alter table wide add column b;"
        "insert into wide values (1, 'p', x'00ff');"
        "create table fresh(x); insert into fresh values (1)", check=0)
    out = run("diff", store, "before", "main", check=0).stdout
    assert "~ k='a', n=1: v 'x' -> 'two\\nlines'\n" in out
    assert "table wide (schema changed): 1 added, 0 modified, 0 removed\n" in out
    assert "  columns: +b\n" in out
    assert "+ id=1: a='p', b=X'00FF'\n" in out
    assert "table fresh (new): 1 added, 0 modified, 0 removed\n" in out
    assert "  + table fresh\n" in out and "  ~ table wide\n" in out


def test_blame(shop):
    log = dict((message.split(";")[0], commit) for commit, _, message in
               oneline_log(shop, "--branch", "dev"))
    out = run("blame", f"{shop}@dev", "orders", check=0).stdout.splitlines()
    assert len(out) == 3
    fields = [line.split("  ") for line in out]
    owners = {f[-1].split(":")[0]: f[0] for f in fields}
    assert owners == {
        "id=1": log["insert into orders values (1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c')"],
        "id=2": log["update orders set total = 25 where id = 2"],
        "id=4": log["insert into orders values (4, 40, 'new')"],
    }
    assert out[1].endswith("id=2: total=25.0, note='b'")
    assert re.match(rf"^{HEX12}  \S+Z  txn \d+  \S+", out[0])
    main = run("blame", shop, "orders", "--branch", "main", check=0).stdout
    assert main.splitlines()[-1].endswith("id=5: total=50.0, note='main'")
    missing = run("blame", shop, "nope")
    assert missing.returncode == 1
    assert one_error_line(missing) == "larix: no such table: nope (at main)"


# --- merge / cherry-pick / revert / reset -----------------------------------------


def values(store, sql):
    """The first column of `sql`'s rows on STORE[@branch], as strings."""
    out = run("sql", store, "--format", "json", "-c", sql, check=0).stdout
    return [str(next(iter(row.values()))) for row in json.loads(out)]


def head(store, branch="main"):
    return oneline_log(store, "--branch", branch)[0][0]


@pytest.fixture
def conflicting(store):
    """t(id, a): main set row 1 to 'ours', branch side set it to 'theirs';
    side also added row 2."""
    run("sql", store, "-c",
        "create table t(id integer primary key, a);"
        "insert into t values (1, 'x')", check=0)
    run("branch", store, "side", check=0)
    run("sql", f"{store}@side", "-c",
        "update t set a = 'theirs' where id = 1; insert into t values (2, 'new')",
        check=0)
    run("sql", store, "-c", "update t set a = 'ours' where id = 1", check=0)
    return store


def test_merge_fast_forward_and_up_to_date(store):
    run("sql", store, "-c",
        "create table t(id integer primary key, v); insert into t values (1, 'a')",
        check=0)
    run("branch", store, "dev", check=0)
    run("sql", f"{store}@dev", "-c", "insert into t values (2, 'b')", check=0)
    dev = head(store, "dev")
    assert run("merge", store, "dev", check=0).stdout == \
        f"Fast-forward main to {dev}\n"
    assert head(store) == dev
    assert values(store, "select v from t order by id") == ["a", "b"]
    assert run("merge", store, "dev", check=0).stdout == "Already up to date\n"
    # --into, STORE@target and --delete-branch.
    run("branch", store, "feature", check=0)
    run("sql", f"{store}@feature", "-c", "insert into t values (3, 'c')", check=0)
    feature = head(store, "feature")
    out = run("merge", store, "feature", "--into", "dev", "--delete-branch",
              check=0).stdout
    assert out == f"Fast-forward dev to {feature}\nDeleted branch feature (was {feature})\n"
    assert run("branch", store, check=0).stdout == "  dev\n* main\n"
    assert run("merge", f"{store}@main", "dev", check=0).stdout == \
        f"Fast-forward main to {feature}\n"
    missing = run("merge", store, "nope")
    assert missing.returncode == 1 and one_error_line(missing).startswith("larix: ")
    assert "nope" in missing.stderr
    disagree = run("merge", f"{store}@main", "dev", "--into", "dev")
    assert disagree.returncode == 1
    assert one_error_line(disagree) == \
        "larix: two branches given: 'main' (after '@') and 'dev' (--into)"
    no_source = run("merge", store)
    assert no_source.returncode == 1
    assert "name the SOURCE branch" in one_error_line(no_source)


def test_merge_three_way(shop):
    main = head(shop)
    dev = head(shop, "dev")
    out = run("merge", shop, "dev", check=0).stdout
    m = re.fullmatch(rf"Merged dev into main: commit ({HEX12})\n", out)
    assert m, out
    assert head(shop) == m.group(1)
    full = run("log", shop, "-n", "1", check=0).stdout.splitlines()
    merge_line = next(l for l in full if l.startswith("Merge: "))
    assert merge_line.split()[1:] == [main, dev] or \
        [p[:12] for p in merge_line.split()[1:]] == [main, dev]
    assert values(shop, "select id || ':' || total from orders order by id") == \
        ["1:10.0", "2:25.0", "4:40.0", "5:50.0"]
    assert run("merge", shop, "dev", check=0).stdout == "Already up to date\n"


def test_merge_conflict_fails_with_the_conflicts(conflicting):
    store = conflicting
    before = head(store)
    for extra in ([], ["--strategy", "fail"]):
        proc = run("merge", store, "side", *extra)
        assert proc.returncode == 1 and proc.stdout == ""
        line = one_error_line(proc)
        assert line.startswith("larix: 1 conflict: t key 1 column a"), line
        assert "'ours'" in line and "'theirs'" in line
        assert head(store) == before
    out = run("merge", store, "side", "--strategy", "target_wins", check=0).stdout
    assert out.startswith("Merged side into main: commit ")
    assert values(store, "select a from t order by id") == ["ours", "new"]


def test_merge_strategy_branch_wins(conflicting):
    run("merge", conflicting, "side", "-s", "branch_wins", check=0)
    assert values(conflicting, "select a from t order by id") == ["theirs", "new"]


def test_manual_merge_then_continue(conflicting):
    store = conflicting
    before = head(store)
    proc = run("merge", store, "side", "--strategy", "manual")
    assert proc.returncode == 1
    assert one_error_line(proc) == \
        "larix: merge of side into main stopped with 1 conflict to resolve"
    lines = proc.stdout.splitlines()
    assert lines[0] == "Merge of side into main stopped: 1 conflict in 1 table"
    assert lines[1] == "  t  1 conflict  (larix_conflicts_t)"
    assert f"larix merge {store}@main --continue" in proc.stdout
    assert f"larix merge {store}@main --abort" in proc.stdout
    assert head(store) == before  # nothing committed yet
    # The merge state: clean changes in, the conflict in its table.
    assert values(store, "select a from t order by id") == ["ours", "new"]
    assert run("sql", store, "--format", "csv", "-c",
               "select key, base_a, our_a, their_a from larix_conflicts_t",
               check=0).stdout.splitlines()[1] == "1,x,ours,theirs"
    early = run("merge", store, "--continue")
    assert early.returncode == 1
    assert "conflicts remain (1 in larix_conflicts_t)" in one_error_line(early)
    for args in (["merge", store, "side"], ["cherry-pick", store, "side"]):
        busy = run(*args)
        assert busy.returncode == 1 and busy.stdout == ""
        assert one_error_line(busy).startswith(
            "larix: a merge into 'main' is in progress: finish it with "
            f"'larix merge {store}@main --continue'")
    run("sql", store, "-c",
        "update t set a = 'both' where id = 1; delete from larix_conflicts_t",
        check=0)
    out = run("merge", store, "--continue", check=0).stdout
    m = re.fullmatch(rf"Merged side into main: commit ({HEX12})\n", out)
    assert m, out
    assert head(store) == m.group(1)
    assert values(store, "select a from t order by id") == ["both", "new"]
    assert values(store, "select parents from larix_log limit 1")[0].count(" ") == 1
    assert values(store, "select count(*) from sqlite_master "
                         "where name like 'larix_conflicts%'") == ["0"]
    assert run("merge", store, "side", check=0).stdout == "Already up to date\n"
    again = run("merge", store, "--continue")
    assert again.returncode == 1
    assert one_error_line(again) == "larix: no merge into 'main' is in progress"


def test_manual_merge_abort(conflicting):
    store = conflicting
    before = head(store)
    assert run("merge", store, "side", "--strategy", "manual").returncode == 1
    assert run("merge", store, "--abort", check=0).stdout == \
        f"Aborted the merge into main; main stays at {before}\n"
    assert head(store) == before
    assert values(store, "select a from t order by id") == ["ours"]
    gone = run("sql", store, "-c", "select * from larix_conflicts")
    assert gone.returncode == 1
    again = run("merge", store, "--abort")
    assert again.returncode == 1
    assert one_error_line(again) == "larix: no merge into 'main' is in progress"
    both = run("merge", store, "--continue", "--abort")
    assert both.returncode == 2 and one_error_line(both).startswith("larix: ")
    extra = run("merge", store, "side", "--continue")
    assert extra.returncode == 1
    assert "--continue takes no SOURCE" in one_error_line(extra)


def test_cherry_pick_revert_and_reset(store):
    run("sql", store, "-c",
        "create table t(id integer primary key, v); insert into t values (1, 'a')",
        check=0)
    run("branch", store, "side", check=0)
    run("sql", f"{store}@side", "-c", "insert into t values (2, 'picked')", check=0)
    run("sql", f"{store}@side", "-c", "insert into t values (3, 'not picked')",
        check=0)
    pick = head(store, "side~1")
    out = run("cherry-pick", store, "side~1", check=0).stdout
    m = re.fullmatch(rf"Cherry-picked {pick} onto main: commit ({HEX12})\n", out)
    assert m, out
    assert head(store) == m.group(1)
    assert oneline_log(store)[0][2].startswith("Cherry-pick ")
    assert values(store, "select v from t order by id") == ["a", "picked"]

    run("sql", store, "-c", "update t set v = 'oops' where id = 1", check=0)
    oops = head(store)
    run("sql", store, "-c", "insert into t values (4, 'later')", check=0)
    out = run("revert", store, oops, check=0).stdout
    m = re.fullmatch(rf"Reverted {oops} on main: commit ({HEX12})\n", out)
    assert m, out
    assert oneline_log(store)[0][2].startswith("Revert ")
    assert values(store, "select v from t order by id") == ["a", "picked", "later"]

    # --onto: another branch; a conflict under the default policy fails.
    out = run("cherry-pick", store, oops, "--onto", "side", check=0).stdout
    assert re.fullmatch(rf"Cherry-picked {oops} onto side: commit {HEX12}\n", out)
    assert values(f"{store}@side", "select v from t order by id") == \
        ["oops", "picked", "not picked"]
    run("sql", f"{store}@side", "-c", "update t set v = 'side' where id = 1",
        check=0)
    clash = run("revert", f"{store}@side", oops)
    assert clash.returncode == 1 and clash.stdout == ""
    assert one_error_line(clash).startswith("larix: 1 conflict: t key 1 column v")
    run("revert", f"{store}@side", oops, "--strategy", "target_wins", check=0)
    assert values(f"{store}@side", "select v from t where id = 1") == ["side"]

    # reset: old -> new head.
    now = head(store)
    assert run("reset", store, "main", oops, check=0).stdout == \
        f"Reset main: {now} -> {oops}\n"
    assert head(store) == oops
    assert values(store, "select v from t order by id") == ["oops", "picked"]
    assert run("reset", store, "main", now, check=0).stdout == \
        f"Reset main: {oops} -> {now}\n"

    for args, message in (
        (["cherry-pick", store, "nope"], "no branch, tag or commit named 'nope'"),
        (["revert", store, "main", "--onto", "nope"], "nope"),
        (["reset", store, "main", "nope"], "no branch, tag or commit named 'nope'"),
        (["reset", store, "nope", "main"], "nope"),
    ):
        proc = run(*args)
        assert proc.returncode == 1, args
        line = one_error_line(proc)
        assert line.startswith("larix: ") and message in line, (args, line)


# --- import / export ----------------------------------------------------------


def test_import_export_round_trip(tmp_path):
    src = tmp_path / "src.db"
    make_sqlite(src)
    before = src.read_bytes()
    store = tmp_path / "new-store"  # created by import
    proc = run("import", src, store, check=0)
    assert proc.stdout.startswith(f"imported {src} into {store}@main: ")
    assert src.read_bytes() == before, "import must not modify its source"

    out = tmp_path / "out.db"
    proc = run("export", store, out, check=0)
    assert proc.stdout.startswith("exported main ")
    assert out.read_bytes() == before
    assert sqlite_dump(out) == sqlite_dump(src)
    check = subprocess.run(
        ["sqlite3", str(out), "PRAGMA integrity_check"], capture_output=True, text=True
    )
    assert check.stdout.strip() == "ok"

    # Through SQL, and after a change the export follows the branch.
    run("sql", store, "-c", "delete from items where id > 10", check=0)
    out2 = tmp_path / "out2.db"
    run("export", f"{store}@main", out2, check=0)
    count = subprocess.run(
        ["sqlite3", str(out2), "select count(*) from items"], capture_output=True, text=True
    )
    assert count.stdout.strip() == "10"

    # An older commit by id.
    first_import = run("log", store, "--oneline", check=0).stdout.splitlines()[1].split()[0]
    out3 = tmp_path / "out3.db"
    run("export", store, out3, "--commit", first_import, check=0)
    assert out3.read_bytes() == before

    # Never overwrite without --force.
    again = run("export", store, out)
    assert again.returncode == 1 and "already exists" in one_error_line(again)
    run("export", store, out, "--force", check=0)
    assert out.read_bytes() == out2.read_bytes()


def test_import_refuses_a_non_empty_branch_without_force(tmp_path, store):
    src = tmp_path / "src.db"
    make_sqlite(src)
    run("import", src, store, check=0)
    proc = run("import", src, store)
    assert proc.returncode == 1
    assert "--force" in one_error_line(proc)
    run("import", src, store, "--force", check=0)
    assert run("log", store, "--oneline", check=0).stdout.count("\n") == 3


def test_import_refuses_non_sqlite_and_hot_journal(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello" * 100)
    store = tmp_path / "s"
    proc = run("import", text, store)
    assert proc.returncode == 1
    assert "not a SQLite database" in one_error_line(proc)
    assert not store.exists(), "no store is created for a file that cannot be imported"

    src = tmp_path / "src.db"
    make_sqlite(src)
    (tmp_path / "src.db-journal").write_bytes(b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7" + b"\1" * 504)
    proc = run("import", src, store)
    assert proc.returncode == 1
    assert "hot journal" in one_error_line(proc)


def test_import_wal_mode_file(tmp_path):
    src = tmp_path / "wal.db"
    db = sqlite3.connect(src)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("create table t(a)")
    db.execute("insert into t values (1)")
    db.commit()
    db.close()
    assert src.read_bytes()[18] == 2
    store = tmp_path / "s"
    run("import", src, store, check=0)
    out = tmp_path / "out.db"
    run("export", store, out, check=0)
    exported = out.read_bytes()
    assert exported[18] == 1 and exported[19] == 1
    original = bytearray(src.read_bytes())
    original[18] = original[19] = 1
    assert exported == bytes(original)


def test_progress_flag(tmp_path):
    src = tmp_path / "src.db"
    make_sqlite(src)
    store = tmp_path / "s"
    proc = run("import", src, store, "--progress", check=0)
    assert "\r" in proc.stderr and "pages (100%)" in proc.stderr
    quiet = run("import", src, f"{store}@other", check=0)
    assert quiet.stderr == ""  # stderr is not a terminal
    proc = run("fsck", store, "--progress", check=0)
    assert "fsck:" in proc.stderr


# --- fsck / gc ------------------------------------------------------------------


def test_fsck_clean(store):
    run("sql", store, "-c", "create table t(a); insert into t values (1)", check=0)
    proc = run("fsck", store, check=0)
    assert proc.stdout.startswith("checked ")
    assert proc.stdout.rstrip().endswith("no problems")


def test_gc_runs(store):
    run("sql", store, "-c", "create table t(a); insert into t values (1)", check=0)
    proc = run("gc", store, "--retention", "0", check=0)
    assert proc.stdout.startswith("gc: ")
    assert "removed" in proc.stdout
    run("fsck", store, check=0)
    bad = run("gc", store, "--retention", "5 parsecs")
    assert bad.returncode == 1 and "invalid duration" in one_error_line(bad)


def test_second_process_gets_a_clear_busy_error(store, tmp_path):
    # The REPL holds the store open; a second larix names the holder.
    repl = Repl(store, tmp_path)
    proc = run("log", store)
    assert proc.returncode == 1
    assert "in use by process" in one_error_line(proc)
    assert repl.quit() == 0


# --- REPL ---------------------------------------------------------------------


class Repl:
    """`larix sql STORE` on a pseudo-terminal."""

    def __init__(self, store, home):
        env = dict(os.environ, HOME=str(home), TERM="dumb")
        env.pop("LARIX_HISTORY", None)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(LARIX, [LARIX, "sql", str(store)], env)
        self.out = b""
        self.out += self.read_until(self.fd, b"larix> ")

    @staticmethod
    def read_until(fd, token, timeout=10):
        data = b""
        end = time.time() + timeout
        while time.time() < end and token not in data:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
        assert token in data, data.decode(errors="replace")
        return data

    def send(self, line, expect=b"> "):
        """Types `line`; returns the output up to the next prompt."""
        os.write(self.fd, line.encode() + b"\r")
        data = self.read_until(self.fd, expect)
        self.out += data
        return data.decode(errors="replace").replace("\r\n", "\n")

    def quit(self):
        os.write(self.fd, b"\\q\r")
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)


def test_repl(store, tmp_path):
    run("sql", store, "-c",
        "create table t(a integer primary key, b text not null default 'q', c real);"
        "create index t_b on t(b desc);"
        "create view v as select a from t;"
        "insert into t values (1, 'one', 1.5)", check=0)
    repl = Repl(store, tmp_path)
    assert "Type \\h for help" in repl.out.decode()

    listing = repl.send("\\d", b"larix> ")
    assert "List of relations" in listing
    assert " main   | t    | table" in listing
    assert " main   | v    | view" in listing
    assert "sqlite_schema" not in listing
    assert "sqlite_schema" in repl.send("\\dS", b"larix> ")

    described = repl.send("\\d t", b"larix> ")
    assert 'Table "main.t"' in described
    assert " Column |  Type   | Nullable | Default | Primary key" in described
    assert " b      | TEXT    | not null | 'q'     |" in described
    assert '"t_b" (b DESC)' in described
    assert "View definition:" in repl.send("\\d v", b"larix> ")
    assert "did not find" in repl.send("\\d nope", b"larix> ")

    # A statement over several lines: continuation prompts, then the result.
    assert "...> " in repl.send("select a,", b"...> ")
    repl.send("  b", b"...> ")
    result = repl.send("from t;", b"larix> ")
    assert " a |  b\n---+-----\n 1 | one\n(1 row)" in result

    err = repl.send("selec 1;", b"larix> ")
    assert 'error: near "selec": syntax error' in err
    assert "^" in err
    # After an error the session goes on.
    assert "(1 row changed)" in repl.send("insert into t(a, b) values (2, 'two');", b"larix> ")
    assert "\\q" in repl.send("\\h", b"larix> ")
    assert repl.quit() == 0
    history = (tmp_path / ".larix_history").read_text()
    assert "from t;" in history.replace("\\040", " ")


def test_repl_ctrl_c_discards_the_pending_statement(store, tmp_path):
    repl = Repl(store, tmp_path)
    repl.send("select 1", b"...> ")
    os.write(repl.fd, b"\x03")
    repl.read_until(repl.fd, b"larix> ")
    assert " two\n-----\n   2\n(1 row)" in repl.send("select 2 as two;", b"larix> ")
    assert repl.quit() == 0
