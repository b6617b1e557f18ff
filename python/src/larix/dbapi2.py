"""larix.dbapi2: the DB-API 2.0 names, as sqlite3.dbapi2 offers them, with
larix's connect, Connection and Cursor."""

from sqlite3.dbapi2 import *  # noqa: F401,F403
from sqlite3.dbapi2 import (  # noqa: F401
    Binary, Date, DateFromTicks, Time, TimeFromTicks, Timestamp,
    TimestampFromTicks, apilevel, enable_shared_cache, paramstyle,
    sqlite_version_info, version_info,
)
from ._connection import Connection, Cursor, connect  # noqa: F401
