"""End-to-end tests of the `larix` command: they run the built binary.

Run:  LARIX_BIN=build/larix python3 -m pytest tests/cli -q
(LARIX_BIN defaults to build/larix under the repository root.)

Each test works in its own temporary directory; the REPL tests drive the
binary through a pseudo-terminal, as a user would.
"""

import json
import os
import pty
import select
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LARIX = os.environ.get("LARIX_BIN", str(ROOT / "build" / "larix"))
VERBS = ["init", "sql", "log", "import", "export", "fsck", "gc"]


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
