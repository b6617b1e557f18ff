"""A store is used by one process at a time (docs/python.md, "Processes")."""

import subprocess
import sys
import textwrap

import larix

CHILD = textwrap.dedent("""
    import sys
    import larix
    try:
        con = larix.connect("proc.db", timeout=0)
        con.execute("SELECT count(*) FROM t").fetchone()
    except larix.OperationalError as e:
        print("error:", e)
    else:
        print("rows:", con.execute("SELECT count(*) FROM t").fetchone()[0])
""")


def run_child(cwd):
    return subprocess.run([sys.executable, "-c", CHILD], cwd=cwd, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=120).stdout.strip()


def test_second_process_gets_database_is_locked_until_the_first_closes(workdir):
    con = larix.connect("proc.db")
    con.execute("CREATE TABLE t(x)")
    con.execute("INSERT INTO t VALUES (1)")
    con.commit()
    # The store is open here: the other process is told it is locked (at
    # connect() today; at its first statement once the VFS opens lazily).
    assert run_child(workdir).startswith("error: database is locked")
    con.close()
    assert run_child(workdir) == "rows: 1"
