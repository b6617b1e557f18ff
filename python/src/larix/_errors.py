"""Larix Status errors as sqlite3 exceptions.

The C++ core raises larix._larix.StoreError(code, message) with a Status
code name; programs written for sqlite3 expect sqlite3.Error subclasses
carrying sqlite_errorcode / sqlite_errorname, with SQLite's own wording in
front ("database is locked: ...").
"""

import sqlite3

# Status code -> (exception class, SQLite result code name, SQLite's words).
_MAPPING = {
    "Busy": (sqlite3.OperationalError, "SQLITE_BUSY", "database is locked"),
    "Conflict": (sqlite3.OperationalError, "SQLITE_BUSY",
                 "database is locked"),
    "NotFound": (sqlite3.OperationalError, "SQLITE_CANTOPEN",
                 "unable to open database file"),
    "InvalidArgument": (sqlite3.DatabaseError, "SQLITE_NOTADB",
                        "file is not a database"),
    "Corruption": (sqlite3.DatabaseError, "SQLITE_CORRUPT",
                   "database disk image is malformed"),
    "Full": (sqlite3.OperationalError, "SQLITE_FULL",
             "database or disk is full"),
    "NotSupported": (sqlite3.OperationalError, "SQLITE_CANTOPEN",
                     "unable to open database file"),
}
_DEFAULT = (sqlite3.OperationalError, "SQLITE_IOERR", "disk I/O error")


def error_from_store(error, what):
    """The sqlite3 exception for StoreError `error` met while opening
    `what` (a path, for the message)."""
    code, message = error.args
    cls, name, words = _MAPPING.get(code, _DEFAULT)
    e = cls(f"{words}: {message}" if message else f"{words}: {what}")
    e.sqlite_errorcode = getattr(sqlite3, name)
    e.sqlite_errorname = name
    return e
