#!/usr/bin/env python3
"""Runs CPython's own sqlite3 test suite against larix, and against sqlite3.

    python3 python/tests/run_cpython_suite.py [-v] [--keep]

The suite is the interpreter's Lib/test/test_sqlite3.  It is copied twice
into a temporary directory:

  stock_suite/test_sqlite3   unchanged but for the package path
                             (test.test_sqlite3 -> stock_suite.test_sqlite3)
  larix_suite/test_sqlite3   the same, and every import line naming sqlite3
                             rewritten to import larix in its place
                             ("import sqlite3 as sqlite" ->
                             "import larix as sqlite"; the child script of
                             MultiprocessTests included)

Only import lines are rewritten (anchored at the start of a line); the
tests' bodies are not touched.  Each copy runs in its own interpreter, in
its own empty working directory (the tests create files named by
os_helper.TESTFN there).  In the larix run the stock sqlite3.connect is
replaced by a function that fails, and larix.Connection.__init__ counts its
calls, so a test that opened a database any other way than through
larix.connect (and so the Larix VFS) would show.

Exit status 0 when both runs report the same numbers (tests run, failures,
errors, skipped, expected failures, unexpected successes) and the larix run
opened its databases through larix; 1 otherwise; 2 when the suite is not
shipped with this interpreter.

Two tests are known to differ, for reasons given in KNOWN_DIFFERENCES below
(and in docs/python.md).  They are the only failures the comparison
forgives, and only while they fail: once one passes, the runner fails until
it is taken off the list.  --strict forgives nothing.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile

SUITE = "test_sqlite3"

# (pattern, replacement) applied to each line of the larix copy.
IMPORT_REWRITES = [
    (re.compile(r"^(\s*)import sqlite3 as (\w+)\s*$"), r"\1import larix as \2"),
    (re.compile(r"^(\s*)import sqlite3\s*$"), r"\1import larix as sqlite3"),
    (re.compile(r"^(\s*)from sqlite3(\.\w+)? import "), r"\1from larix\2 import "),
]
LEFTOVER = re.compile(r"^\s*(import|from)\s+sqlite3\b")

DRIVER = r"""
import importlib, json, os, sys, unittest

package, mode, result_file, verbosity = sys.argv[1:5]
opened = {"larix": 0}
if mode == "larix":
    import sqlite3
    import larix

    def refuse(*args, **kwargs):
        raise AssertionError("the stock sqlite3.connect was called in the "
                             "larix run")
    sqlite3.connect = refuse
    init = larix.Connection.__init__

    def counting_init(self, *args, **kwargs):
        opened["larix"] += 1
        return init(self, *args, **kwargs)
    larix.Connection.__init__ = counting_init

directory = os.path.dirname(importlib.import_module(package).__file__)
loader = unittest.TestLoader()
suite = unittest.TestSuite()
for name in sorted(os.listdir(directory)):
    if name.startswith("test") and name.endswith(".py"):
        module = importlib.import_module(package + "." + name[:-3])
        suite.addTests(loader.loadTestsFromModule(module))
result = unittest.TextTestRunner(stream=sys.stdout,
                                 verbosity=int(verbosity)).run(suite)
with open(result_file, "w") as f:
    json.dump({
        "run": result.testsRun,
        "failures": len(result.failures),
        "errors": len(result.errors),
        "skipped": len(result.skipped),
        "expected_failures": len(result.expectedFailures),
        "unexpected_successes": len(result.unexpectedSuccesses),
        "larix_connections": opened["larix"],
        "problems": [t.id() for t, _ in result.failures + result.errors],
    }, f)
"""

# Test id (below the suite package) -> why it cannot pass with larix today.
KNOWN_DIFFERENCES = {
}

COUNTS = ("run", "failures", "errors", "skipped", "expected_failures",
          "unexpected_successes")


def find_suite():
    path = os.path.join(sysconfig.get_path("stdlib"), "test", SUITE)
    return path if os.path.isfile(os.path.join(path, "test_dbapi.py")) else None


def copy_suite(source, root, parent, rewrite_imports):
    """Copies the suite to root/parent/test_sqlite3 and returns the number
    of import lines rewritten."""
    target = os.path.join(root, parent, SUITE)
    os.makedirs(target)
    open(os.path.join(root, parent, "__init__.py"), "w").close()
    rewritten = 0
    for name in sorted(os.listdir(source)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(source, name), encoding="utf-8") as f:
            lines = f.read().split("\n")
        for i, line in enumerate(lines):
            line = line.replace("test." + SUITE, parent + "." + SUITE)
            if rewrite_imports:
                for pattern, replacement in IMPORT_REWRITES:
                    line, n = pattern.subn(replacement, line)
                    rewritten += n
                if LEFTOVER.match(line):
                    raise SystemExit(f"{name}:{i + 1}: an import of sqlite3 "
                                     f"this runner cannot rewrite: {line!r}")
            lines[i] = line
        with open(os.path.join(target, name), "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    return rewritten


def run(root, parent, mode, verbosity):
    """Runs one copy in a fresh interpreter and working directory."""
    workdir = tempfile.mkdtemp(prefix=mode + "-cwd-", dir=root)
    result_file = os.path.join(root, mode + "-result.json")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, parent + "." + SUITE, mode,
         result_file, str(verbosity)],
        cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    if not os.path.exists(result_file):
        print(proc.stdout)
        raise SystemExit(f"the {mode} run did not finish "
                         f"(exit status {proc.returncode})")
    with open(result_file) as f:
        result = json.load(f)
    result["output"] = proc.stdout
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print every test of the larix run")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory")
    parser.add_argument("--strict", action="store_true",
                        help="forgive no difference, not even the known ones")
    args = parser.parse_args()

    source = find_suite()
    if source is None:
        print(f"CPython's {SUITE} suite is not shipped with this interpreter "
              f"({sys.executable}, {sys.version.split()[0]}): nothing to run")
        return 2

    root = tempfile.mkdtemp(prefix="larix-cpython-suite-")
    try:
        copy_suite(source, root, "stock_suite", rewrite_imports=False)
        rewritten = copy_suite(source, root, "larix_suite", rewrite_imports=True)
        stock = run(root, "stock_suite", "sqlite3", 1)
        larix = run(root, "larix_suite", "larix", 2 if args.verbose else 1)
    finally:
        if args.keep:
            print("kept", root)
        else:
            shutil.rmtree(root, ignore_errors=True)

    print(f"CPython {sys.version.split()[0]} {SUITE} from {source}")
    print(f"import lines rewritten for larix: {rewritten}")
    print(f"{'':22}{'sqlite3':>10}{'larix':>10}")
    for key in COUNTS:
        print(f"{key:22}{stock[key]:>10}{larix[key]:>10}")
    print(f"{'larix connections':22}{'':>10}{larix['larix_connections']:>10}")

    stock_problems = {_short(name) for name in stock["problems"]}
    larix_problems = {_short(name) for name in larix["problems"]}
    forgiven = set() if args.strict else \
        (larix_problems & set(KNOWN_DIFFERENCES)) - stock_problems
    fixed = set() if args.strict else set(KNOWN_DIFFERENCES) - larix_problems
    unexplained = larix_problems - stock_problems - forgiven
    ok = all(stock[key] == larix[key] for key in COUNTS
             if key not in ("failures", "errors"))
    ok = ok and (stock["failures"] + stock["errors"] ==
                 larix["failures"] + larix["errors"] - len(forgiven))
    ok = ok and not unexplained and not fixed and not (
        stock_problems - larix_problems)
    if larix["larix_connections"] == 0:
        print("the larix run opened no connection through larix")
        ok = False

    if not ok or args.verbose:
        print(larix["output"])
    for name in sorted(forgiven):
        print(f"known difference: {name}\n    {KNOWN_DIFFERENCES[name]}")
    for name in sorted(fixed):
        print(f"passes now, take it off KNOWN_DIFFERENCES: {name}")
    for name in sorted(unexplained):
        print(f"fails with larix only: {name}")
    for name in sorted(stock_problems - larix_problems):
        print(f"fails with sqlite3 only: {name}")
    if ok and forgiven:
        print(f"SAME RESULTS but for the {len(forgiven)} known differences")
    else:
        print("SAME RESULTS" if ok else "RESULTS DIFFER")
    return 0 if ok else 1


def _short(test_id):
    """'larix_suite.test_sqlite3.test_x.C.m' -> 'test_x.C.m'."""
    return test_id.split("." + SUITE + ".", 1)[-1]


if __name__ == "__main__":
    sys.exit(main())
