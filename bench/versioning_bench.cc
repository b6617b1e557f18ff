// Versioning operations against database size, in one run:
//   - CREATE DATABASE BRANCH on a small (~1 MB) and a large database
//     (default ~1 GB): its time must not depend on the size;
//   - larix_diff of a one-row change in tables of 100K and 1M rows;
//   - MERGE DATABASE BRANCH of a branch that changed 10 rows, into a target
//     that changed one other row (a real three-way merge), at 100K and 1M.
// Medians of --reps runs (default 9).  On-disk stores under --dir.
//
//   versioning_bench [--dir /tmp/x] [--reps N] [--large-mb 1024] [--quick]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <sqlite3.h>
#include <unistd.h>

#include "larix/database.h"

namespace {

double Now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Run(sqlite3* db, const std::string& sql) {
  for (const larix::ScriptStatement& s : larix::SplitScript(sql)) {
    auto t = larix::TranslateStatement(db, s.text);
    if (!t.ok()) {
      fprintf(stderr, "%s: %s\n", std::string(s.text).c_str(),
              t.status().ToString().c_str());
      exit(1);
    }
    char* err = nullptr;
    if (sqlite3_exec(db, t->sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      fprintf(stderr, "%s: %s\n", std::string(s.text).c_str(), err);
      exit(1);
    }
  }
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

sqlite3* Open(const std::string& spec) {
  sqlite3* db = nullptr;
  larix::Status s = larix::OpenDatabase(spec, {}, &db);
  if (!s.ok()) {
    fprintf(stderr, "%s: %s\n", spec.c_str(), s.ToString().c_str());
    exit(1);
  }
  return db;
}

// A store whose main holds table t with `rows` rows of ~`row_bytes`.
sqlite3* Build(const std::string& dir, long rows, int row_bytes) {
  std::filesystem::remove_all(dir);
  sqlite3* db = Open(dir);
  Run(db, "PRAGMA synchronous=OFF");
  Run(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, pad BLOB)");
  Run(db, "BEGIN; WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM "
          "s WHERE i < " + std::to_string(rows) +
          ") INSERT INTO t SELECT i, i % 1000, randomblob(" +
          std::to_string(row_bytes) + ") FROM s; COMMIT");
  Run(db, "PRAGMA synchronous=FULL");
  return db;
}

double BranchCreation(sqlite3* db, int reps) {
  // Building the database left the OS with dirty pages to write back; an
  // fsync issued now would pay for them.  Flush first, so both sizes are
  // timed the same way.
  sync();
  std::vector<double> times;
  for (int i = 0; i < reps; i++) {
    std::string name = "b" + std::to_string(i);
    double t0 = Now();
    Run(db, "CREATE DATABASE BRANCH " + name + " FROM main AS OF NOW");
    times.push_back(Now() - t0);
    Run(db, "DROP DATABASE BRANCH " + name);
  }
  return Median(times);
}

double DiffOneRow(sqlite3* db, const std::string& dir, long rows, int reps) {
  Run(db, "CREATE DATABASE BRANCH d FROM main AS OF NOW");
  sqlite3* d = Open(dir + "@d");
  Run(d, "UPDATE t SET k = -1 WHERE id = " + std::to_string(rows / 2));
  sqlite3_close(d);
  std::vector<double> times;
  for (int i = 0; i < reps; i++) {
    double t0 = Now();
    sqlite3_stmt* stmt = nullptr;
    auto t = larix::TranslateStatement(
        db, "SELECT count(*) FROM larix_diff('t', 'main', 'd')");
    sqlite3_prepare_v2(db, t->sql.c_str(), -1, &stmt, nullptr);
    sqlite3_step(stmt);
    long n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    times.push_back(Now() - t0);
    if (n != 1) {
      fprintf(stderr, "larix_diff found %ld rows, expected 1\n", n);
      exit(1);
    }
  }
  Run(db, "DROP DATABASE BRANCH d");
  return Median(times);
}

double MergeTenRows(sqlite3* db, const std::string& dir, long rows, int reps) {
  std::vector<double> times;
  for (int i = 0; i < reps; i++) {
    std::string b = "m" + std::to_string(i);
    Run(db, "CREATE DATABASE BRANCH " + b + " FROM main AS OF NOW");
    sqlite3* side = Open(dir + "@" + b);
    std::string sql = "BEGIN;";
    for (int r = 0; r < 10; r++) {
      sql += "UPDATE t SET k = " + std::to_string(-r) + " WHERE id = " +
             std::to_string(1 + (rows / 10) * r + i) + ";";
    }
    Run(side, sql + "COMMIT");
    sqlite3_close(side);
    Run(db, "UPDATE t SET k = 7 WHERE id = " + std::to_string(rows - i));
    double t0 = Now();
    Run(db, "MERGE DATABASE BRANCH " + b + " INTO main WITH "
            "(conflict_resolution = 'branch_wins', delete_branch_after = true)");
    times.push_back(Now() - t0);
  }
  return Median(times);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/tmp/larix_versioning_bench";
  int reps = 9;
  long large_mb = 1024;
  bool quick = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--reps" && i + 1 < argc) reps = std::stoi(argv[++i]);
    else if (a == "--large-mb" && i + 1 < argc) large_mb = std::stol(argv[++i]);
    else if (a == "--quick") quick = true;
    else {
      fprintf(stderr, "usage: versioning_bench [--dir D] [--reps N] "
                      "[--large-mb MB] [--quick]\n");
      return 2;
    }
  }
  if (quick) {
    large_mb = 64;
    reps = 3;
  }
  printf("%-44s %12s\n", "measurement", "median");
  // Branch creation: ~1 MB vs large.
  {
    sqlite3* small = Build(dir + "/small", 5000, 200);
    double t_small = BranchCreation(small, reps);
    sqlite3_close(small);
    long large_rows = large_mb * 1024;  // ~1 KiB a row
    double t0 = Now();
    sqlite3* large = Build(dir + "/large", large_rows, 1000);
    double build = Now() - t0;
    double t_large = BranchCreation(large, reps);
    sqlite3_close(large);
    std::filesystem::remove_all(dir + "/large");
    printf("%-44s %9.3f ms\n", "CREATE DATABASE BRANCH, ~1 MB database",
           t_small * 1e3);
    printf("%-44s %9.3f ms   (built in %.0f s)\n",
           ("CREATE DATABASE BRANCH, ~" + std::to_string(large_mb) +
            " MB database").c_str(),
           t_large * 1e3, build);
    printf("%-44s %9.2fx\n", "ratio large/small", t_large / t_small);
  }
  for (long rows : {100000L, quick ? 200000L : 1000000L}) {
    sqlite3* db = Build(dir + "/rows", rows, 60);
    double diff = DiffOneRow(db, dir + "/rows", rows, reps);
    double merge = MergeTenRows(db, dir + "/rows", rows, std::min(reps, 5));
    sqlite3_close(db);
    printf("%-44s %9.3f ms\n",
           ("larix_diff, 1 row changed of " + std::to_string(rows)).c_str(),
           diff * 1e3);
    printf("%-44s %9.3f ms\n",
           ("MERGE, 10 rows changed of " + std::to_string(rows)).c_str(),
           merge * 1e3);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
