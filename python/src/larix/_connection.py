"""larix.connect, Connection and Cursor: sqlite3's, opened on a Larix store.

Connection.__init__ translates the database argument into a file: URI on
the Larix VFS (_location.resolve) and hands everything else to
sqlite3.Connection.__init__ untouched, so every parameter (timeout,
detect_types, isolation_level, check_same_thread, cached_statements, uri)
and every behaviour is the standard module's.  connect() calls the factory
exactly as sqlite3.connect does (same arguments, same positions), so
factories written for sqlite3 keep working.

Cursor.execute / executemany / executescript (and Connection's, which make a
larix.Cursor) run Larix's SQL extensions too: _translate.py translates each
statement first, leaving plain SQL untouched.

The branch methods are thin wrappers over Larix's SQL (SPEC.md §1): what a
branch is, and what a merge does, is decided by the SQL layer alone.
"""

import datetime
import json
import sqlite3
import urllib.parse

from . import _location
from . import _translate

_URI_POSITION = 6  # uri's index in Connection(database, *args)
_FACTORY_POSITION = 4

_base_execute = sqlite3.Cursor.execute
_base_executemany = sqlite3.Cursor.executemany
_base_cursor = sqlite3.Connection.cursor
_PLAIN = _translate._PLAIN


# Errors whose message Larix completes with its own reason (SQLite's says
# only "disk I/O error" when a commit is refused, say).
_DETAILED_CODES = frozenset({sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CORRUPT,
                             sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN})


def _add_detail(connection, error):
    """Appends to sqlite3 exception `error`, raised by a statement of
    `connection`, the reason the Larix store recorded for it (as `larix sql`
    prints it): "disk I/O error: Invalid argument: the page size of a Larix
    database cannot change ...".  The exception keeps its class and codes."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None or (code & 0xff) not in _DETAILED_CODES or not error.args:
        return
    try:
        # Reads no table, so it starts no transaction and the reason of the
        # failed one is still there (sql/functions.cc, larix_error_detail).
        row = _base_execute(_base_cursor(connection),
                            "SELECT larix_error_detail()").fetchone()
    except sqlite3.Error:
        return
    detail = row[0] if row else None
    if detail and detail not in str(error.args[0]):
        error.args = (f"{error.args[0]}: {detail}",) + error.args[1:]


class Cursor(sqlite3.Cursor):
    """sqlite3.Cursor that also runs Larix's SQL (CREATE DATABASE BRANCH,
    AS OF, ...; see _translate).  The type of cursors a larix.Connection
    makes."""

    # The description tuple of the last statement when it was a Larix
    # command (a SELECT underneath); `description` then reports None, as for
    # any statement without a result.  A later execute makes a new tuple.
    _larix_command_description = None

    def _larix_run(self, plain_run, larix_run, sql, arguments):
        """Runs `sql` with sqlite3's own method when it is plain SQL, else
        with _translate's; either way an error gets Larix's detail."""
        try:
            plain = sql in _PLAIN
        except TypeError:  # unhashable: sqlite3 reports the bad argument
            plain = True
        try:
            return (plain_run if plain else larix_run)(self, sql, arguments)
        except sqlite3.Error as e:
            _add_detail(self.connection, e)
            raise

    def execute(self, sql, parameters=(), /):
        return self._larix_run(_base_execute, _translate.execute, sql,
                               parameters)

    def executemany(self, sql, seq_of_parameters, /):
        return self._larix_run(_base_executemany, _translate.executemany,
                               sql, seq_of_parameters)

    def executescript(self, sql_script, /):
        try:
            return _translate.executescript(self, sql_script)
        except sqlite3.Error as e:
            _add_detail(self.connection, e)
            raise

    @property
    def description(self):
        d = _translate._base_description(self)
        if d is not None and d is self._larix_command_description:
            return None
        return d


class Branch:
    """A branch (or alias) as pg_database_branches() reports it.

    name, parent (the branch it was created from, or None), head (commit
    id), head_txn, created_at (UTC, "YYYY-MM-DD HH:MM:SS.ffffff"),
    size_bytes, size_mb, status ('current' for the connection's branch),
    kind ('branch' or 'alias'), alias_of (an alias's branch), properties
    (the CREATE ... WITH (...) options, a dict).  Every column of
    pg_database_branches() is also an attribute under its own name
    (branch_name, parent_branch, ...).

    get_branch_info() adds commits (how many commits the branch has made
    since it diverged from its parent) and divergence_point (the commit id
    it diverged at; None without a parent); list_branches() leaves both
    None."""

    def __init__(self, name, **columns):
        self.name = name
        self.parent = None
        self.head = None
        self.created_at = None
        self.size_bytes = None
        self.kind = "branch"
        self.alias_of = None
        self.commits = None
        self.divergence_point = None
        self.__dict__.update(columns)
        if "parent_branch" in columns:
            self.parent = columns["parent_branch"]
        if isinstance(self.__dict__.get("properties"), str):
            try:
                self.properties = json.loads(self.properties)
            except ValueError:
                pass

    @property
    def size_mb(self):
        size = self.size_bytes
        return None if size is None else size / (1 << 20)

    def __repr__(self):
        return f"Branch({self.name!r})"

    def __eq__(self, other):
        return isinstance(other, Branch) and vars(self) == vars(other)


class TableComparison:
    """How one table differs between two branches: rows_added (only in the
    other branch), rows_removed (only in the base), rows_modified (same key,
    different values), and whether only one side has the table."""

    def __init__(self, table, rows_added=0, rows_removed=0, rows_modified=0,
                 added=False, removed=False, schema_changed=False):
        self.table = table
        self.rows_added = rows_added
        self.rows_removed = rows_removed
        self.rows_modified = rows_modified
        self.added = added
        self.removed = removed
        self.schema_changed = schema_changed

    @property
    def row_changes(self):
        return self.rows_added + self.rows_removed + self.rows_modified

    def __repr__(self):
        return (f"TableComparison({self.table!r}, +{self.rows_added} "
                f"-{self.rows_removed} ~{self.rows_modified})")


class BranchComparison:
    """compare_branches(base, other): `tables` (a TableComparison per table
    that differs, sorted by name), `tables_modified` (their names) and
    `total_row_changes` (rows added, removed or modified, summed)."""

    def __init__(self, base, other, tables):
        self.base = base
        self.other = other
        self.tables = sorted(tables, key=lambda t: t.table)
        self.tables_modified = [t.table for t in self.tables]
        self.total_row_changes = sum(t.row_changes for t in self.tables)

    def __repr__(self):
        return (f"BranchComparison({self.base!r}, {self.other!r}, "
                f"tables_modified={self.tables_modified!r}, "
                f"total_row_changes={self.total_row_changes})")


class Connection(sqlite3.Connection):
    """A sqlite3.Connection on a Larix store.

    Connection(database, timeout=5.0, detect_types=0, isolation_level="",
               check_same_thread=True, factory=Connection,
               cached_statements=128, uri=False, *, branch=None)

    `branch` picks the branch to open (default: main, or the one named by
    "PATH@branch" or a URI's branch= parameter).
    """

    def __init__(self, database, *args, branch=None, **kwargs):
        uri = kwargs.get("uri", False)
        if len(args) > _URI_POSITION:
            uri = args[_URI_POSITION]
        try:
            uri = bool(uri)
        except Exception:
            uri = False  # sqlite3.Connection reports the bad argument
        target = _location.resolve(database, uri, branch)
        if target is not None:
            database = target
            if len(args) > _URI_POSITION:
                args = (*args[:_URI_POSITION], True, *args[_URI_POSITION + 1:])
            else:
                kwargs["uri"] = True
        try:
            super().__init__(database, *args, **kwargs)
        except sqlite3.OperationalError as e:
            code = getattr(e, "sqlite_errorcode", None)
            if branch is not None and target is not None and \
                    code == sqlite3.SQLITE_CANTOPEN:
                e.args = (f"{e.args[0]} (no branch {branch!r}?)",)
            raise

    def cursor(self, factory=Cursor):
        return super().cursor(factory)

    def commit(self):
        try:
            super().commit()
        except sqlite3.Error as e:
            _add_detail(self, e)
            raise

    # sqlite3.Connection's shortcuts make a plain sqlite3.Cursor in C; these
    # make a larix.Cursor (exactly as sqlite3 does: without calling an
    # overridden cursor()), so Larix's SQL works through them too.

    def execute(self, sql, parameters=(), /):
        return _base_cursor(self, Cursor).execute(sql, parameters)

    def executemany(self, sql, parameters, /):
        return _base_cursor(self, Cursor).executemany(sql, parameters)

    def executescript(self, sql_script, /):
        return _base_cursor(self, Cursor).executescript(sql_script)

    # -- Versioning ----------------------------------------------------------
    #
    # Thin wrappers over Larix's SQL (SPEC.md §1): what a branch is and what
    # a merge does is decided by the SQL layer alone.  Branch operations act
    # on refs, not on this connection's transaction: inside a transaction
    # they see (and branch from) the last commit, not uncommitted changes.

    def current_branch(self):
        """The name of the branch this connection reads and writes."""
        return self._value("SELECT current_branch()")

    def use_branch(self, name):
        """Switches this connection to branch `name` (USE BRANCH): its next
        transaction reads and writes that branch.  Not inside a
        transaction."""
        self._run("USE BRANCH " + _identifier(name))

    def create_branch(self, name, from_branch=None, as_of=None):
        """Creates branch `name` from `from_branch` (default: this
        connection's branch) and returns it as a Branch.

        as_of picks the commit: None for the head (AS OF NOW); an int for
        the state after that transaction number (AS OF TRANSACTION n); a
        datetime, date or str for the state at that time (AS OF TIMESTAMP;
        a naive datetime or a string without a zone is UTC)."""
        source = "CURRENT" if from_branch is None else _identifier(from_branch)
        point, params = _as_of_clause(as_of)
        self._run(f"CREATE DATABASE BRANCH {_identifier(name)} "
                  f"FROM {source} AS OF {point}", params)
        return self.get_branch_info(name)

    def delete_branch(self, name, if_exists=False):
        """Drops branch `name` (its commits stay reachable from the reflog
        until garbage collection)."""
        self._run("DROP DATABASE BRANCH " + ("IF EXISTS " if if_exists else "")
                  + _identifier(name))

    def merge_branch(self, source, into=None, conflict_resolution="fail",
                     delete_branch_after=False):
        """Merges branch `source` into `into` (default: this connection's
        branch); conflict_resolution is 'fail', 'branch_wins' or
        'target_wins'; delete_branch_after drops `source` once merged.
        Returns the target as a Branch."""
        target = self.current_branch() if into is None else into
        options = [f"conflict_resolution = {_literal(conflict_resolution)}"]
        if delete_branch_after:
            options.append("delete_branch_after = true")
        self._run(f"MERGE DATABASE BRANCH {_identifier(source)} "
                  f"INTO {_identifier(target)} WITH ({', '.join(options)})")
        return self.get_branch_info(target)

    def list_branches(self):
        """Every branch and alias of the store, as Branch objects (without
        commits and divergence_point; see get_branch_info)."""
        return [_branch_from_row(row) for row in
                self._run("SELECT * FROM pg_database_branches()")]

    def get_branch_info(self, name):
        """Branch `name` as a Branch, with commits and divergence_point:
        walking both first-parent histories (larix_log), the divergence
        point is the newest commit of the branch that its parent's history
        also holds, and commits counts the branch's commits after it.  A
        branch without a (surviving) parent has divergence_point None and
        counts all its commits.  OperationalError if there is no such
        branch."""
        rows = self._run("SELECT * FROM pg_database_branches() "
                         "WHERE branch_name = ?", (name,))
        if not rows:
            raise sqlite3.OperationalError(f"branch '{name}' does not exist")
        branch = _branch_from_row(rows[0])
        history = [r["commit_id"] for r in self._run(
            "SELECT commit_id FROM larix_log(?)", (name,))]
        inherited = set()
        if branch.parent:
            try:
                inherited = {r["commit_id"] for r in self._run(
                    "SELECT commit_id FROM larix_log(?)", (branch.parent,))}
            except sqlite3.OperationalError:
                pass  # the parent was dropped since
        branch.commits = len(history)
        for i, commit in enumerate(history):
            if commit in inherited:
                branch.commits = i
                branch.divergence_point = commit
                break
        return branch

    def compare_branches(self, base, other):
        """What differs between branches `base` and `other`, row by row, as
        a BranchComparison (see _compare_tables)."""
        return BranchComparison(base, other,
                                _compare_tables(self, base, other))

    # -- Helpers -------------------------------------------------------------

    def _run(self, sql, params=()):
        """Runs one statement (Larix's SQL included) on a cursor of its own,
        with no row factory of the program's, and returns its rows as
        dicts."""
        cur = Cursor(self)
        try:
            cur.execute(sql, params)
            names = [d[0] for d in cur.description or ()]
            rows = cur.fetchall()
        finally:
            cur.close()
        if self.text_factory is not str:
            rows = [tuple(map(_text, row)) for row in rows]
        return [dict(zip(names, row)) for row in rows]

    def _value(self, sql):
        cur = sqlite3.Cursor(self)
        try:
            row = cur.execute(sql).fetchone()
        finally:
            cur.close()
        if row is None:
            return None
        return _text(row[0]) if self.text_factory is bytes else row[0]


def connect(database, *args, **kwargs):
    """Opens a connection to a Larix database; sqlite3.connect's signature
    plus `branch`:

    connect(database, timeout=5.0, detect_types=0, isolation_level="",
            check_same_thread=True, factory=larix.Connection,
            cached_statements=128, uri=False, *, branch=None)

    database: a path (its store is PATH.larix beside it; an existing SQLite
    file is imported, never modified), a Larix store directory, "PATH@branch",
    ":memory:" or "" (a private in-memory store), or with uri=True a file:
    URI (mode=ro|rw|rwc|memory, cache=shared, branch=...).  The factory is
    called with the arguments as given, like sqlite3.connect does.
    """
    if "factory" in kwargs:
        factory = kwargs["factory"]
    elif len(args) > _FACTORY_POSITION:
        factory = args[_FACTORY_POSITION]
    else:
        factory = Connection
    if kwargs.get("branch", "") is None:
        del kwargs["branch"]  # keep the factory's signature sqlite3's
    return factory(database, *args, **kwargs)


def _identifier(name):
    if not isinstance(name, str) or not name:
        raise sqlite3.ProgrammingError("a branch name must be a non-empty str")
    return '"' + name.replace('"', '""') + '"'


def _literal(value):
    return "'" + str(value).replace("'", "''") + "'"


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def _compare_tables(connection, base, other):
    """A TableComparison for each table whose rows or columns differ
    between branches `base` and `other`.

    Until larix_diff (the row-level diff, sql/row_diff.h) is reachable from
    SQL this compares full contents: correct, but its cost follows the
    tables' sizes, not the change; larix_diff will make it proportional to
    the change.  How: a private connection opens `base` and ATTACHes
    `other`, so each branch is read with its own schema (AS OF BRANCH reads
    a branch through the schema of the connection's branch, and cannot
    read a table that branch lacks).  In one read transaction, per table,
    rows are keyed (rowid, or the primary key of a WITHOUT ROWID table) and
    the two sides EXCEPTed both ways: a key on both sides is a modified
    row, a key on one side an added or removed one.  As in Larix's row
    diff, columns are matched by name, a column one side lacks reads as
    NULL, and sqlite_* tables are left out."""
    names = {r["branch_name"] for r in
             connection._run("SELECT branch_name FROM pg_database_branches()")}
    for b in (base, other):
        if b not in names:
            raise sqlite3.OperationalError(f"branch '{b}' does not exist")
    filename = next(r["file"] for r in connection._run("PRAGMA database_list")
                    if r["name"] == "main")
    helper = sqlite3.Connection(_branch_uri(filename, base), uri=True,
                                isolation_level=None)
    try:
        helper.execute("ATTACH ? AS larix_other",
                       (_branch_uri(filename, other),))
        helper.execute("BEGIN")  # one snapshot of each branch
        a_tables = _user_tables(helper, "main")
        b_tables = _user_tables(helper, "larix_other")
        out = []
        for table in sorted(set(a_tables) | set(b_tables)):
            if table not in b_tables:
                out.append(TableComparison(
                    table, rows_removed=_count(helper, "main", table),
                    removed=True))
            elif table not in a_tables:
                out.append(TableComparison(
                    table, rows_added=_count(helper, "larix_other", table),
                    added=True))
            else:
                result = _compare_table(helper, table, a_tables[table],
                                        b_tables[table])
                if result.row_changes or result.schema_changed:
                    out.append(result)
        helper.execute("COMMIT")
        return out
    finally:
        helper.close()


def _branch_uri(filename, branch):
    """A URI opening branch `branch` of the store that PRAGMA
    database_list names `filename` (a store path or larix-memory:NAME)."""
    return ("file:" + urllib.parse.quote(filename, safe="/") + "?" +
            urllib.parse.urlencode({"branch": branch, "vfs": "larix"},
                                   quote_via=urllib.parse.quote))


def _user_tables(db, schema):
    """{table: (stored columns, key columns or None for a rowid table)} of
    database `schema` of `db`, sqlite_* tables and virtual tables left
    out."""
    out = {}
    for name, sql in db.execute(
            f"SELECT name, sql FROM {schema}.sqlite_schema WHERE type = "
            "'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'").fetchall():
        if sql and sql.lstrip().upper().startswith("CREATE VIRTUAL"):
            continue
        # cid, name, type, notnull, dflt_value, pk, hidden; hidden 2 is a
        # virtual generated column (not stored), 3 a stored one.
        info = db.execute(f"PRAGMA {schema}.table_xinfo({_quote(name)})"
                          ).fetchall()
        columns = [r[1] for r in info if r[6] in (0, 3)]
        try:
            db.execute(f"SELECT rowid FROM {schema}.{_quote(name)} LIMIT 0")
            key = None
        except sqlite3.OperationalError:  # WITHOUT ROWID
            key = [c for _, c in sorted((r[5], r[1]) for r in info if r[5])]
        out[name] = (columns, key)
    return out


def _count(db, schema, table):
    return db.execute(f"SELECT count(*) FROM {schema}.{_quote(table)}"
                      ).fetchone()[0]


def _compare_table(db, table, a, b):
    """TableComparison of `table` between main (a = its columns and key)
    and larix_other (b)."""
    (a_columns, a_key), (b_columns, b_key) = a, b
    schema_changed = a_columns != b_columns or a_key != b_key
    if a_key != b_key:
        # Keys are not comparable: every row is removed and re-added.
        return TableComparison(table,
                               rows_removed=_count(db, "main", table),
                               rows_added=_count(db, "larix_other", table),
                               schema_changed=True)
    columns = b_columns + [c for c in a_columns if c not in b_columns]

    def side(schema, have):
        if a_key is None:
            taken = {c.lower() for c in a_columns + b_columns}
            keys = [next(n for n in ("rowid", "_rowid_", "oid")
                         if n not in taken)]
        else:
            keys = [_quote(k) for k in a_key]
        values = [_quote(c) if c in have else "NULL" for c in columns]
        return (f"SELECT {', '.join(keys + values)} "
                f"FROM {schema}.{_quote(table)}")

    nkeys = 1 if a_key is None else len(a_key)
    key_names = [f"k{i}" for i in range(nkeys)]
    names = ", ".join(key_names + [f"c{i}" for i in range(len(columns))])
    keys = ", ".join(key_names)
    key = f"({keys})" if nkeys > 1 else keys
    added, removed, modified = db.execute(
        f"WITH a({names}) AS ({side('main', a_columns)}), "
        f"b({names}) AS ({side('larix_other', b_columns)}), "
        "da AS (SELECT * FROM a EXCEPT SELECT * FROM b), "
        "db AS (SELECT * FROM b EXCEPT SELECT * FROM a) "
        f"SELECT (SELECT count(*) FROM db WHERE {key} NOT IN "
        f"(SELECT {keys} FROM da)), "
        f"(SELECT count(*) FROM da WHERE {key} NOT IN "
        f"(SELECT {keys} FROM db)), "
        f"(SELECT count(*) FROM da WHERE {key} IN (SELECT {keys} FROM db))"
    ).fetchone()
    return TableComparison(table, rows_added=added, rows_removed=removed,
                           rows_modified=modified,
                           schema_changed=schema_changed)


def _quote(name):
    return '"' + name.replace('"', '""') + '"'


def _as_of_clause(as_of):
    """(the AS OF point as SQL, its parameters) for create_branch."""
    if as_of is None:
        return "NOW", ()
    if isinstance(as_of, bool):
        raise TypeError("as_of must be None, an int, a datetime, a date or "
                        "a str, not bool")
    if isinstance(as_of, int):
        return "TRANSACTION ?", (as_of,)
    if isinstance(as_of, datetime.datetime):
        if as_of.tzinfo is not None:
            as_of = as_of.astimezone(datetime.timezone.utc)
        return "TIMESTAMP ?", (as_of.strftime("%Y-%m-%d %H:%M:%S.%f"),)
    if isinstance(as_of, datetime.date):
        return "TIMESTAMP ?", (as_of.isoformat(),)
    if isinstance(as_of, str):
        return "TIMESTAMP ?", (as_of,)
    raise TypeError("as_of must be None, an int, a datetime, a date or a "
                    f"str, not {type(as_of).__name__}")


def _branch_from_row(row):
    row = dict(row)
    name = row.get("branch_name", row.get("name"))
    row.pop("name", None)
    return Branch(name, **row)


# Shown as larix.Connection etc., as sqlite3's types show as sqlite3.*.
for _public in (Connection, Cursor, Branch, BranchComparison,
                TableComparison, connect):
    _public.__module__ = "larix"
del _public
