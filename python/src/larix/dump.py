"""larix.dump: the standard sqlite3.dump module (Connection.iterdump uses
it), for programs and tests that import it by name."""

from sqlite3.dump import *  # noqa: F401,F403
from sqlite3.dump import _iterdump  # noqa: F401
