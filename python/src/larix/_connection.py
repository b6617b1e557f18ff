"""larix.connect, Connection and Cursor: sqlite3's, opened on a Larix store.

Connection.__init__ translates the database argument into a file: URI on
the Larix VFS (_location.resolve) and hands everything else to
sqlite3.Connection.__init__ untouched, so every parameter (timeout,
detect_types, isolation_level, check_same_thread, cached_statements, uri)
and every behaviour is the standard module's.  connect() calls the factory
exactly as sqlite3.connect does (same arguments, same positions), so
factories written for sqlite3 keep working.

The branch methods are thin wrappers over Larix's SQL (SPEC.md §1): what a
branch is, and what a merge does, is decided by the SQL layer alone.
"""

import sqlite3

from . import _location

_URI_POSITION = 6  # uri's index in Connection(database, *args)
_FACTORY_POSITION = 4


class Cursor(sqlite3.Cursor):
    """sqlite3.Cursor; the type of cursors a larix.Connection makes."""


class Branch:
    """A branch as Larix reports it: `name` plus every column of
    pg_database_branches() as an attribute (created_at, parent_branch,
    size_bytes, status, ...); `size_mb` is size_bytes in MiB."""

    def __init__(self, name, **columns):
        self.name = name
        self.__dict__.update(columns)

    @property
    def size_mb(self):
        size = getattr(self, "size_bytes", None)
        return None if size is None else size / (1 << 20)

    def __repr__(self):
        return f"Branch({self.name!r})"

    def __eq__(self, other):
        return isinstance(other, Branch) and vars(self) == vars(other)


class BranchComparison:
    """compare_branches(): the rows of the comparison as `changes`, plus
    `tables_modified` (sorted table names) and `total_row_changes`."""

    def __init__(self, base, other, changes):
        self.base = base
        self.other = other
        self.changes = changes
        self.tables_modified = sorted({c["table_name"] for c in changes})
        self.total_row_changes = sum(c.get("row_changes", 1) for c in changes)


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
            if branch is not None and target is not None and \
                    getattr(e, "sqlite_errorcode", None) == sqlite3.SQLITE_CANTOPEN:
                e.args = (f"{e.args[0]} (no branch {branch!r}?)",)
            raise

    def cursor(self, factory=Cursor):
        return super().cursor(factory)

    # -- Versioning ----------------------------------------------------------

    def current_branch(self):
        """The name of the branch this connection reads and writes."""
        return self._value("SELECT current_branch()")

    def create_branch(self, name, from_branch=None):
        """Creates branch `name` at the head of `from_branch` (default: this
        connection's branch) and returns it as a Branch."""
        source = "CURRENT" if from_branch is None else _identifier(from_branch)
        self._run(f"CREATE DATABASE BRANCH {_identifier(name)} "
                  f"FROM {source} AS OF NOW")
        return self.get_branch_info(name)

    def delete_branch(self, name, if_exists=False):
        """Drops branch `name` (its commits stay reachable from the reflog
        until garbage collection)."""
        self._run("DROP DATABASE BRANCH " + ("IF EXISTS " if if_exists else "")
                  + _identifier(name))

    def merge_branch(self, source, into=None, conflict_resolution=None,
                     delete_branch_after=False):
        """Merges branch `source` into `into` (default: this connection's
        branch).  conflict_resolution: 'branch_wins', 'target_wins' or
        'fail' (default: the SQL layer's).  Returns the rows the MERGE
        statement reports, as dicts."""
        target = self.current_branch() if into is None else into
        options = []
        if conflict_resolution is not None:
            options.append(f"conflict_resolution = {_literal(conflict_resolution)}")
        if delete_branch_after:
            options.append("delete_branch_after = true")
        sql = (f"MERGE DATABASE BRANCH {_identifier(source)} "
               f"INTO {_identifier(target)}")
        if options:
            sql += " WITH (" + ", ".join(options) + ")"
        return self._run(sql)

    def list_branches(self):
        """Every branch of the store, as Branch objects."""
        return [_branch_from_row(row) for row in
                self._run("SELECT * FROM pg_database_branches()")]

    def get_branch_info(self, name):
        """Branch `name` as a Branch (with .commits and .divergence_point
        when the SQL layer reports them); raises OperationalError if there
        is no such branch."""
        rows = self._run("SELECT * FROM pg_database_branches() "
                         "WHERE branch_name = ?", (name,))
        if not rows:
            raise sqlite3.OperationalError(f"no such branch: {name}")
        return _branch_from_row(rows[0])

    def compare_branches(self, base, other):
        """What differs between branches `base` and `other`, row by row,
        as a BranchComparison."""
        rows = self._run("SELECT * FROM larix_diff(?, ?)", (base, other))
        return BranchComparison(base, other, rows)

    # -- Helpers -------------------------------------------------------------

    def _run(self, sql, params=()):
        """Runs one statement on a cursor of its own (no row factory of the
        program's) and returns its rows as dicts."""
        cur = sqlite3.Cursor(self)
        try:
            cur.execute(sql, params)
            names = [d[0] for d in cur.description or ()]
            rows = cur.fetchall()
        finally:
            cur.close()
        if self.text_factory is bytes:
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


def _branch_from_row(row):
    row = dict(row)
    name = row.get("branch_name", row.get("name"))
    row.pop("name", None)
    return Branch(name, **row)


# Shown as larix.Connection etc., as sqlite3's types show as sqlite3.*.
for _public in (Connection, Cursor, Branch, BranchComparison, connect):
    _public.__module__ = "larix"
del _public
