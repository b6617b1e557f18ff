#!/usr/bin/env python3
"""larix against sqlite3 from Python, in one run.

    python3 python/bench/bench_python.py [--reps 5] [--inserts 100000]
                                         [--selects 10000]

Two workloads, each on a new on-disk database per repetition (a plain
SQLite file for sqlite3, a Larix store for larix; both with the modules'
defaults: sqlite3 in rollback-journal mode with synchronous=FULL, larix with
its in-memory journal and a synced commit):

  insert  `--inserts` single-row INSERTs through Cursor.execute inside one
          transaction, then COMMIT (one Larix commit);
  select  `--selects` point SELECTs by primary key (random keys, the same
          sequence for both modules) on the table the insert run built.

Prints the median of `--reps` repetitions per module and the ratio
larix / sqlite3 (above 1: larix is slower).  The numbers in
docs/performance.md ("## Python") come from this script.
"""

import argparse
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

import larix


def insert_run(module, path, n):
    con = module.connect(path)
    con.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER, s TEXT)")
    con.commit()
    cur = con.cursor()
    start = time.perf_counter()
    cur.execute("BEGIN")
    for i in range(n):
        cur.execute("INSERT INTO t(v, s) VALUES (?, ?)", (i, "row"))
    con.commit()
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def select_run(module, path, keys):
    con = module.connect(path)
    cur = con.cursor()
    start = time.perf_counter()
    for k in keys:
        cur.execute("SELECT v, s FROM t WHERE id = ?", (k,)).fetchone()
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--inserts", type=int, default=100_000)
    parser.add_argument("--selects", type=int, default=10_000)
    parser.add_argument("--dir", default=None,
                        help="where to create the databases (default: a "
                             "temporary directory)")
    args = parser.parse_args()
    if args.reps < 1:
        parser.error("--reps must be at least 1")

    rng = random.Random(42)
    keys = [rng.randint(1, args.inserts) for _ in range(args.selects)]
    root = tempfile.mkdtemp(prefix="larix-bench-", dir=args.dir)
    times = {(m, w): [] for m in ("sqlite3", "larix")
             for w in ("insert", "select")}
    try:
        for rep in range(args.reps):
            # Alternate the order so neither module always runs on a warm
            # page cache.
            order = [("sqlite3", sqlite3), ("larix", larix)]
            if rep % 2:
                order.reverse()
            for name, module in order:
                path = os.path.join(root, f"{name}-{rep}.db")
                times[name, "insert"].append(
                    insert_run(module, path, args.inserts))
                times[name, "select"].append(select_run(module, path, keys))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(f"Python {platform.python_version()}, SQLite "
          f"{sqlite3.sqlite_version}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs; median of {args.reps} repetitions")
    print(f"{'workload':34}{'sqlite3':>12}{'larix':>12}{'larix/sqlite3':>15}")
    for workload, count, what in (
            ("insert", args.inserts, "single-row INSERTs, one txn"),
            ("select", args.selects, "point SELECTs")):
        s = statistics.median(times["sqlite3", workload])
        x = statistics.median(times["larix", workload])
        label = f"{count:,} {what}"
        print(f"{label:34}{s * 1000:>10.1f}ms{x * 1000:>10.1f}ms{x / s:>14.2f}x")
        print(f"{'  per operation':34}{s / count * 1e6:>10.2f}us"
              f"{x / count * 1e6:>10.2f}us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
