"""Where connect() finds a database: the argument -> a Larix URI.

resolve() turns what a program passes to connect() into the file: URI that
opens it on the Larix VFS, creating the store (and importing an existing
SQLite file) on first use.  The rules, and why, are in docs/python.md
("Where the data lives"); in short, for a plain path P:

  1. P is a Larix store (a directory with a LARIX file): open it.
  2. Otherwise the database's store is the directory P + ".larix" beside P,
     and P itself is never written after Larix created it:
       - P does not exist: create P as an empty file (an empty SQLite
         database: the name stays taken, os.path.exists(P) is true, removing
         P removes the database) and a new, empty store;
       - P exists and no store does: import P (larix::ImportSqliteFile) into
         a new store as main's first commit.  P is only read.
  3. The store records the identity of P it was made for (device, inode,
     size, mtime) in STORE/sqlite-origin.json.  When P is later removed,
     replaced or changed by another program, the next connect() brings main
     up to date with P's content again in a new commit (the history and the
     other branches stay) and records the new identity.
  4. Anything else (a directory that is not a store, a device, a path whose
     parent does not exist, ...) is handed to SQLite unchanged, so SQLite
     reports its own error ("unable to open database file").

":memory:" and "" become private in-memory stores ("larix-memory:py-N"),
URI mode=memory likewise (shared by name with cache=shared).

Invariant: a store directory exists only once complete: a new store is
created and filled under a temporary name and renamed into place, so a
crash or a racing process never leaves a half-imported store behind.

Thread-safety: resolve() serialises on a process-wide lock; another process
racing to create the same store loses the rename and uses the winner's.
"""

import itertools
import json
import os
import shutil
import stat
import threading
import urllib.parse

import sqlite3

from . import _larix
from ._errors import error_from_store

STORE_SUFFIX = b".larix"
ORIGIN_FILE = b"sqlite-origin.json"
ORIGIN_FORMAT = 1
RESYNC_TIMEOUT = 5.0  # seconds; sqlite3's default busy timeout

_lock = threading.RLock()
_counter = itertools.count(1)


def resolve(database, uri, branch):
    """The URI (to open with uri=True) for connect(database, uri=uri,
    branch=branch), or None when the arguments go to SQLite unchanged: a
    database argument of the wrong type (SQLite raises TypeError), a URI
    naming its own vfs=, or a path SQLite must report an error for.

    Raises sqlite3.OperationalError / DatabaseError when the store cannot
    be prepared (the message says why)."""
    try:
        name = os.fsencode(os.fspath(database))
    except TypeError:
        return None
    if b"\0" in name:
        return None
    if branch is not None and not isinstance(branch, str):
        raise TypeError(f"branch must be a str, not {type(branch).__name__}")
    if uri and name.startswith(b"file:"):
        return _resolve_uri(name, branch)
    if name in (b":memory:", b""):
        return _memory_uri(None, branch, {})
    return _resolve_path(name, "rwc", branch, {})


def store_uri(store_path, branch=None, params=None):
    """A URI opening the store at `store_path` (bytes) on the Larix VFS."""
    query = dict(params or {})
    if branch:
        query["branch"] = branch
    query["vfs"] = _larix.vfs_name
    path = urllib.parse.quote(os.path.abspath(store_path), safe="/")
    return "file:" + path + "?" + urllib.parse.urlencode(
        query, quote_via=urllib.parse.quote)


# ---------------------------------------------------------------------------
# URIs (SQLite's rules: https://www.sqlite.org/uri.html)

def _resolve_uri(name, branch):
    rest = name[len(b"file:"):]
    rest = rest.split(b"#", 1)[0]
    path, _, query = rest.partition(b"?")
    if path.startswith(b"//"):
        authority, slash, path = path[2:].partition(b"/")
        if authority not in (b"", b"localhost"):
            return None  # SQLite: "invalid uri authority"
        path = slash + path
    path = urllib.parse.unquote_to_bytes(path)
    params = {}
    for pair in query.split(b"&") if query else ():
        key, _, value = pair.partition(b"=")
        key = urllib.parse.unquote(key.decode("latin-1"))
        value = urllib.parse.unquote(value.decode("latin-1"))
        params.setdefault(key, value)  # SQLite uses the first occurrence
    if "vfs" in params:
        return None  # the program chose a VFS (vfs=larix: a store path)
    if branch is None:
        branch = params.get("branch") or None
    params.pop("branch", None)
    mode = params.pop("mode", "rwc")
    if mode not in ("ro", "rw", "rwc", "memory"):
        return None  # SQLite: "no such access mode"
    if params.get("immutable") == "1":
        mode = "ro"
    # Meaningless on a store; SQLite would apply them to the store's files.
    for key in ("immutable", "nolock", "psow", "modeof"):
        params.pop(key, None)
    if mode == "memory" or path in (b":memory:", b""):
        shared = params.get("cache") == "shared" and path != b""
        return _memory_uri(path if shared else None, branch, params)
    return _resolve_path(path, mode, branch, params)


def _memory_uri(shared_name, branch, params):
    """An in-memory store: private, or shared by every connection of the
    process that names it while one is open (SQLite's mode=memory with
    cache=shared)."""
    if shared_name is None:
        name = f"py-{next(_counter)}"
    else:
        name = "uri-" + urllib.parse.quote(shared_name, safe="")
    query = dict(params)
    if branch:
        query["branch"] = branch
    query["vfs"] = _larix.vfs_name
    path = urllib.parse.quote(_larix.memory_prefix + name, safe="")
    return "file:" + path + "?" + urllib.parse.urlencode(
        query, quote_via=urllib.parse.quote)


# ---------------------------------------------------------------------------
# Paths

def _resolve_path(path, mode, branch, params):
    with _lock:
        st = _stat(path)
        if st is None and branch is None:
            split = _split_branch(path)
            if split is not None:
                path, branch = split
                st = _stat(path)
        if st is not None and stat.S_ISDIR(st.st_mode):
            if not _is_store(path):
                return None  # SQLite: "unable to open database file"
            return store_uri(path, branch, _with_mode(params, mode))
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise _open_error(f"unable to open database file: "
                              f"{os.fsdecode(path)} is not a regular file")
        if st is None:
            if mode != "rwc":
                return None  # SQLite: "unable to open database file"
            st = _create_empty_file(path)
            if st is None:
                return None  # cannot create it: let SQLite say so
        store = path + STORE_SUFFIX
        if _is_store(store):
            origin = _read_origin(store)
            if origin is None:
                if mode != "ro":
                    # Made by other means: adopt it.
                    _write_origin(store, path, st)
            elif origin != _identity(st):
                if mode == "ro":
                    return None  # the file is newer: read it as it is
                _resync(store, path, st)
        elif os.path.lexists(store):
            raise _open_error(
                f"{os.fsdecode(store)} exists but is not a Larix store; "
                f"move it away to open {os.fsdecode(path)} with Larix")
        elif mode == "ro":
            return None  # never written through Larix: read the file itself
        else:
            _create_store(store, path, st)
        return store_uri(store, branch, _with_mode(params, mode))


def _with_mode(params, mode):
    query = dict(params)
    if mode != "rwc":
        query["mode"] = mode
    return query


def _split_branch(path):
    """("app.db", "dev") for "app.db@dev" when app.db is a file or a store;
    else None (then "app.db@dev" is just a name)."""
    head, at, tail = path.rpartition(b"@")
    if not at or not head or not tail or b"/" in tail:
        return None
    st = _stat(head)
    if st is None or not (stat.S_ISREG(st.st_mode) or _is_store(head)):
        return None
    return head, os.fsdecode(tail)


def _stat(path):
    try:
        return os.stat(path)
    except (OSError, ValueError):
        return None


def _is_store(path):
    return os.path.isfile(os.path.join(path, b"LARIX"))


_identity_keys = ("format", "dev", "ino", "size", "mtime_ns")


def _identity(st):
    return {"format": ORIGIN_FORMAT, "dev": st.st_dev, "ino": st.st_ino,
            "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _create_empty_file(path):
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return _stat(path)  # another thread or process was first
    except OSError:
        return None
    os.close(fd)
    return _stat(path)


def _read_origin(store):
    """The identity of the file the store was last brought up to date
    with, or None if the store has no record (made by other means)."""
    try:
        with open(os.path.join(store, ORIGIN_FILE), "rb") as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    return {key: record.get(key) for key in _identity_keys}


def _write_origin(store, path, st):
    record = dict(_identity(st), file=os.fsdecode(os.path.basename(path)))
    final = os.path.join(store, ORIGIN_FILE)
    tmp = final + b".tmp"
    with open(tmp, "w") as f:
        json.dump(record, f)
        f.write("\n")
    os.replace(tmp, final)


def _create_store(store, path, st):
    """Makes the store for `path`: under a temporary name, importing the
    file when it is not empty, then renamed into place."""
    tmp = store + b".tmp-%d-%d" % (os.getpid(), next(_counter))
    try:
        imports = [(_larix.default_branch, path)] if st.st_size > 0 else []
        _larix.create_store(tmp, imports)
        after = _stat(path)
        if after is None or _identity(after) != _identity(st):
            raise _open_error(f"{os.fsdecode(path)} changed while it was "
                              "imported; try again")
        _write_origin(tmp, path, st)
        try:
            os.rename(tmp, store)
        except OSError:
            if not _is_store(store):
                raise
            # Another process created it first: use theirs.
    except _larix.StoreError as e:
        raise error_from_store(e, os.fsdecode(path)) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _resync(store, path, st):
    """Brings main of `store` up to date with the file at `path`, which
    was removed, replaced or changed since the store last matched it, as one
    new commit (SQLite's backup API copies the file's pages in one write
    transaction).  Works while other connections of this process use the
    store; fails as "database is locked" while another process holds it."""
    if st.st_size > 0:
        try:
            _larix.check_sqlite_file(path)
        except _larix.StoreError as e:
            raise error_from_store(e, os.fsdecode(path)) from None
        source = sqlite3.Connection(
            "file:" + urllib.parse.quote(os.path.abspath(path), safe="/") +
            "?mode=ro", uri=True)
    else:
        source = sqlite3.Connection(":memory:")  # an empty database
    def give_up_when_locked(status, remaining, total):
        # sqlite3's backup() retries a locked target forever; the target's
        # busy timeout has already waited RESYNC_TIMEOUT seconds here.
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            e = sqlite3.OperationalError(
                f"database is locked: {os.fsdecode(path)} was removed or "
                "changed outside Larix, and bringing its store up to date "
                "waits for a write transaction on branch main")
            e.sqlite_errorcode = sqlite3.SQLITE_BUSY
            e.sqlite_errorname = "SQLITE_BUSY"
            raise e

    try:
        target = sqlite3.Connection(store_uri(store, _larix.default_branch),
                                    timeout=RESYNC_TIMEOUT, uri=True)
        try:
            source.backup(target, progress=give_up_when_locked)
        finally:
            target.close()
    finally:
        source.close()
    _write_origin(store, path, st)


def _open_error(message):
    e = sqlite3.OperationalError(message)
    e.sqlite_errorcode = sqlite3.SQLITE_CANTOPEN
    e.sqlite_errorname = "SQLITE_CANTOPEN"
    return e
