"""Larix: a versioned SQL database with the interface of the sqlite3 module.

    import larix as sqlite3

    conn = sqlite3.connect("app.db")          # also ":memory:", "", file: URIs
    conn.execute("CREATE TABLE t(x)")
    conn.commit()                             # every commit is a Larix commit
    dev = sqlite3.connect("app.db", branch="dev")

Everything the standard module offers is here, unchanged: it *is* the
standard module underneath.  larix.Connection and larix.Cursor subclass
sqlite3.Connection and sqlite3.Cursor; connect() only chooses where the
database lives (a Larix store, opened through SQLite's "larix" VFS) and the
branch.  Exceptions, constants, adapters, converters, Row, Blob, ... are the
sqlite3 module's own objects, so `except sqlite3.Error` catches Larix errors
and adapters registered through either module apply to both.

Where a path's data goes, and what happens to an existing SQLite file, is
explained in docs/python.md ("Where the data lives").
"""

import sqlite3 as _sqlite3
import sys as _sys
import types as _types

# The standard surface: every public name of sqlite3 (exceptions, constants,
# Row, Blob, register_adapter, adapters, ...), as the very same objects.
# Its submodules and the modules it imported for itself are left out.
globals().update({
    _name: _value for _name, _value in vars(_sqlite3).items()
    if not _name.startswith("_") and not isinstance(_value, _types.ModuleType)
})

from . import _larix  # noqa: E402
from ._connection import (  # noqa: E402
    Branch, BranchComparison, Connection, Cursor, TableComparison, connect)
from . import dbapi2, dump  # noqa: E402,F401  (submodules, as in sqlite3)

__all__ = sorted(
    {_name for _name, _value in vars(_sqlite3).items()
     if not _name.startswith("_")
     and not isinstance(_value, _types.ModuleType)}
    | {"Branch", "BranchComparison", "TableComparison"})


def _check_shared_sqlite():
    """Fails the import unless larix._larix and Python's _sqlite3 call the
    same SQLite library: only then does the VFS the extension registers
    exist for the connections sqlite3.Connection opens."""
    rc = _larix.register()
    if rc != 0:
        raise ImportError(
            f"larix: registering the Larix VFS with SQLite failed (code {rc})")
    try:
        probe = _sqlite3.Connection("file:larix-probe?mode=memory&vfs=larix",
                                    uri=True)
    except _sqlite3.OperationalError as e:
        if "no such vfs" not in str(e):
            raise
        raise ImportError(
            "larix cannot work in this Python: its sqlite3 module carries its "
            f"own copy of SQLite ({_sqlite3.sqlite_version}) instead of using "
            f"the shared library Larix registers its storage with "
            f"({_larix.sqlite_library_path() or 'libsqlite3'}, "
            f"{_larix.sqlite_libversion()}).") from None
    probe.close()


_check_shared_sqlite()


def __getattr__(name):
    # bpo-42264: the deprecated alias sqlite3 still answers, warning as it
    # does (the warning names the caller's file).
    if name == "OptimizedUnicode" and _sys.version_info < (3, 12):
        import warnings
        warnings.warn("OptimizedUnicode is deprecated and will be removed in "
                      "Python 3.12. Since Python 3.3 it has simply been an "
                      "alias for 'str'.", DeprecationWarning, stacklevel=2)
        return str
    raise AttributeError(f"module 'larix' has no attribute '{name}'")
