"""Larix's SQL extensions through sqlite3's execute, executemany and
executescript.

sqlite3.Cursor.execute prepares the text it is given, and SQLite does not
know CREATE DATABASE BRANCH or `t AS OF TIMESTAMP ...`.  So larix.Cursor
translates each statement first, with the dialect front end every Larix
front end uses (sql/translate.cc), reached through the SQL functions
larix_translate(sql) and larix_parameter_origin(sql) on the same
connection.  What SQLite then prepares is ordinary SQL:

  * a Larix command (CREATE/DROP/ALTER/MERGE DATABASE BRANCH, USE BRANCH,
    CREATE/DROP TAG, ADD SYSTEM VERSIONING) becomes a SELECT calling
    Larix's SQL function; it returns no rows, and the cursor reports no
    description, as for any statement without a result;
  * a table reference with AS OF becomes a snapshot table; the statement
    otherwise keeps its text, its kind (so sqlite3's implicit BEGIN applies
    to an INSERT ... SELECT ... AS OF exactly as to any INSERT) and its
    parameters.

Invariants:

  1. Plain SQL reaches sqlite3.Cursor.execute as the very same object,
     with no query of ours before it.  A statement can hold an extension
     only if it contains one of a few words (_may_hold_extension); a text
     without them, or one the front end found plain, is remembered in
     _PLAIN, so a repeated statement costs one set look-up.  Whether a text
     is plain depends on the text alone, so _PLAIN is shared by all
     connections.
  2. Translation runs on a cursor of its own (no row factory, text as
     UTF-8 bytes whatever the text_factory), with a SELECT, so it never
     starts a transaction, and the user's cursor (rowcount, lastrowid,
     description, pending rows) and the connection's in_transaction are as
     if only the user's statement had run.
  3. Parameters keep their meaning: when the rewrite renumbered them
     (parameter_origin), a sequence is re-ordered (new j-th = original
     origin[j-1]-th; 0 = unused, bound to NULL); names need nothing.
  4. Errors are the SQL layer's, raised as sqlite3 exceptions
     (OperationalError with Larix's message; "database is locked" for
     Busy).
  5. executescript keeps sqlite3's contract: COMMIT first if a transaction
     is open, then every statement in autocommit unless the script opens a
     transaction itself, no implicit BEGIN.  Runs of plain statements go to
     sqlite3's executescript while no transaction is open, one statement at
     a time through execute while one is (executescript would COMMIT it).
"""

import re
import sqlite3

from . import _larix

_base_execute = sqlite3.Cursor.execute
_base_executemany = sqlite3.Cursor.executemany
_base_executescript = sqlite3.Cursor.executescript
_base_description = sqlite3.Cursor.description.__get__

# Texts known to hold no extension.  Bounded: cleared when full, and long
# texts (inline data) are not kept.
_PLAIN = set()
_PLAIN_MAX_ENTRIES = 4096
_PLAIN_MAX_TEXT = 4096

_WORD_OF = re.compile(r"\bof\b")
_WORD_USE = re.compile(r"\buse\b")

_TRANSLATE_SQL = ("SELECT CAST(larix_translate(?1) AS BLOB), "
                  "CAST(larix_parameter_origin(?1) AS BLOB)")


def _may_hold_extension(sql):
    """False when `sql` cannot hold a Larix extension: every extension needs
    DATABASE (branch statements), TAG, the word OF (AS OF), SYSTEM_TIME,
    VERSIONING or the word USE.  larix_ (calls of Larix's own functions)
    goes through the front end too, so a dropped branch is reported
    clearly."""
    low = sql.lower()
    return ("database" in low or "branch" in low or "tag" in low
            or "system_time" in low or "versioning" in low
            or "larix_" in low
            or ("of" in low and _WORD_OF.search(low) is not None)
            or ("use" in low and _WORD_USE.search(low) is not None))


def _remember_plain(sql):
    if len(sql) <= _PLAIN_MAX_TEXT:
        if len(_PLAIN) >= _PLAIN_MAX_ENTRIES:
            _PLAIN.clear()
        _PLAIN.add(sql)


def _first_word(sql):
    """The first keyword of a statement, upper case, after blanks and
    comments ("" if none)."""
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c.isspace():
            i += 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            break
    j = i
    while j < n and (sql[j].isalnum() or sql[j] == "_"):
        j += 1
    return sql[i:j].upper()


class Translation:
    """A statement as SQLite must see it."""

    __slots__ = ("sql", "origin", "is_command")

    def __init__(self, sql, origin, is_command):
        self.sql = sql
        self.origin = origin          # tuple of ints, or None
        self.is_command = is_command  # returns no rows


def translate(connection, sql):
    """The Translation of one statement `sql` on `connection`, or None when
    SQLite takes it as it is.  Raises the SQL layer's error for malformed
    extension syntax."""
    if not _may_hold_extension(sql):
        _remember_plain(sql)
        return None
    cur = sqlite3.Cursor(connection)  # no row factory of the program's
    try:
        try:
            cur.execute(_TRANSLATE_SQL, (sql,))
        except sqlite3.OperationalError as e:
            # Not a Larix connection (a plain SQLite database through a
            # custom factory or another VFS): SQLite judges the text.
            if str(e).startswith("no such function: larix_"):
                return None
            raise
        new_sql, origin = cur.fetchone()
    finally:
        cur.close()
    new_sql = new_sql.decode("utf-8", "surrogateescape")
    if new_sql == sql:
        _remember_plain(sql)
        return None
    if origin is not None:
        origin = tuple(int(n) for n in origin.decode().split(","))
    # A rewrite keeps the statement's kind (only table references and
    # clauses change); a command becomes a SELECT calling Larix.
    is_command = _first_word(new_sql) != _first_word(sql)
    return Translation(new_sql, origin, is_command)


def remap_parameters(parameters, origin):
    """`parameters` for the rewritten statement: a sequence re-ordered by
    `origin`; a dict (bound by name) or anything else unchanged, for
    sqlite3 to judge."""
    if origin is None or isinstance(parameters, dict):
        return parameters
    try:
        values = list(parameters)
    except TypeError:
        return parameters  # sqlite3 reports the unsupported type
    needed = max(origin, default=0)
    if len(values) < needed:
        raise sqlite3.ProgrammingError(
            f"Incorrect number of bindings supplied. The current statement "
            f"uses {needed}, and there are {len(values)} supplied.")
    return tuple(values[n - 1] if n > 0 else None for n in origin)


def execute(cursor, sql, parameters):
    """Cursor.execute after the fast path missed (see the module doc)."""
    if not isinstance(sql, str):
        return _base_execute(cursor, sql, parameters)
    t = translate(cursor.connection, sql)
    if t is None:
        return _base_execute(cursor, sql, parameters)
    _base_execute(cursor, t.sql, remap_parameters(parameters, t.origin))
    if t.is_command:
        cursor._larix_command_description = _base_description(cursor)
    return cursor


def executemany(cursor, sql, seq_of_parameters):
    if not isinstance(sql, str):
        return _base_executemany(cursor, sql, seq_of_parameters)
    t = translate(cursor.connection, sql)
    if t is None:
        return _base_executemany(cursor, sql, seq_of_parameters)
    if t.origin is not None:
        origin = t.origin
        try:
            seq_of_parameters = (remap_parameters(p, origin)
                                 for p in iter(seq_of_parameters))
        except TypeError:
            pass  # not iterable: sqlite3 says so
    return _base_executemany(cursor, t.sql, seq_of_parameters)


def executescript(cursor, script):
    if (not isinstance(script, str) or "\0" in script
            or not _may_hold_extension(script)):
        return _base_executescript(cursor, script)
    connection = cursor.connection
    # sqlite3's own checks (closed cursor or connection, thread) and its
    # COMMIT of an open transaction, before anything of the script runs.
    _base_executescript(cursor, "")
    pending = []  # plain statements not yet run, in order
    for statement in _larix.split_script(script):
        if not _may_hold_extension(statement):
            pending.append(statement)
            continue
        # The translation may depend on what came before (a table the
        # script created, USE BRANCH): run that first.
        _run_plain(cursor, pending)
        pending = []
        t = translate(connection, statement)
        if t is None:
            pending.append(statement)
        else:
            _run_plain(cursor, [t.sql])
    _run_plain(cursor, pending)
    return cursor


def _run_plain(cursor, statements):
    """Runs `statements` as executescript would, without its COMMIT of an
    open transaction."""
    connection = cursor.connection
    i = 0
    while i < len(statements) and connection.in_transaction:
        helper = sqlite3.Cursor(connection)
        try:
            _base_execute(helper, statements[i])
        finally:
            helper.close()
        i += 1
    if i < len(statements):
        # No transaction is open: executescript's COMMIT-first does nothing,
        # and a transaction the statements open stays open across them.
        _base_executescript(cursor, "\n".join(statements[i:]))
