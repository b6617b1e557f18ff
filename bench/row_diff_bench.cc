// row_diff_bench: the cost of a row-level diff of a one-row change, driven
// by the page-tree diff (DiffTable) and by a full comparison of both
// versions (RowDiffOptions::full_scan), in tables of 100K and 1M rows.
//
// For each size N the bench makes an on-disk store in a fresh directory
// under $TMPDIR (default /tmp), and through OpenDatabase:
//   1. CREATE TABLE big(id INTEGER PRIMARY KEY, name TEXT, val INT) and N
//      rows in ONE transaction (commit A), then
//   2. UPDATE one row in the middle (commit B).
// It then closes every connection, reopens the store with Store::Open (so
// the first diff starts with empty Larix caches; the OS page cache is
// warm), and measures:
//   - DiffTable(A, B, "big"): the first run ("cold") and the median of
//     `runs` runs (default 20), with the pages it read;
//   - DiffTables(A, B): the same, for the summary used by `larix diff`;
//   - DiffTable with full_scan: the median of `full_runs` runs (default 5;
//     each reads every leaf of both versions).
// Times are wall-clock milliseconds.
//
// Usage: row_diff_bench [runs] [full_runs] [max_rows]

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "larix/database.h"
#include "larix/store.h"
#include "objects/commit_graph.h"
#include "sql/row_diff.h"

namespace larix {
namespace {

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

bool Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::fprintf(stderr, "%s: %s\n", sql.c_str(), error ? error : "?");
    sqlite3_free(error);
    return false;
  }
  return true;
}

// Builds the two commits in a store at `path`; returns false on failure.
bool Build(const std::string& path, int64_t rows, double* build_ms) {
  sqlite3* db = nullptr;
  Status s = OpenDatabase(path, {}, &db);
  if (!s.ok()) {
    std::fprintf(stderr, "open %s: %s\n", path.c_str(), s.ToString().c_str());
    return false;
  }
  Clock::time_point start = Clock::now();
  bool ok =
      Exec(db,
           "CREATE TABLE big(id INTEGER PRIMARY KEY, name TEXT, val INT)") &&
      Exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM "
               "n WHERE i < " + std::to_string(rows) + ") INSERT INTO big "
               "SELECT i, printf('name-%08d', i), i * 7 FROM n");
  *build_ms = MillisSince(start);
  ok = ok && Exec(db, "UPDATE big SET val = -1 WHERE id = " +
                          std::to_string(rows / 2 + 1));
  sqlite3_close(db);
  return ok;
}

int Run(int runs, int full_runs, int64_t max_rows) {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") +
                    "/larix-rowdiff-bench-XXXXXX";
  if (!mkdtemp(dir.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  std::printf("store directory %s; DiffTable median of %d runs, full scan "
              "median of %d\n\n",
              dir.c_str(), runs, full_runs);
  std::printf("%9s %9s | %9s %9s %6s | %9s %6s | %11s %7s | %7s\n", "rows",
              "build_ms", "cold_ms", "diff_ms", "pages", "tables_ms", "pages",
              "fullscan_ms", "pages", "speedup");
  for (int64_t rows : {int64_t{100000}, int64_t{1000000}}) {
    if (rows > max_rows) continue;
    std::string path = dir + "/rows" + std::to_string(rows);
    double build_ms = 0;
    if (!Build(path, rows, &build_ms)) return 1;

    std::unique_ptr<Store> store;
    Status s = Store::Open(path, {}, &store);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    ObjectId b = *store->ResolveRevision("main");
    ObjectId a = (*store->commits()->Load(b))->parents.at(0);

    std::vector<double> diff_ms, tables_ms, full_ms;
    uint64_t diff_pages = 0, tables_pages = 0, full_pages = 0;
    for (int i = 0; i < runs; i++) {
      RowDiffResult r;
      Clock::time_point start = Clock::now();
      s = DiffTable(store.get(), a, b, "big", &r);
      diff_ms.push_back(MillisSince(start));
      if (!s.ok() || r.changes.size() != 1) {
        std::fprintf(stderr, "DiffTable: %s, %zu changes\n",
                     s.ToString().c_str(), r.changes.size());
        return 1;
      }
      diff_pages = r.stats.pages_read;
    }
    for (int i = 0; i < runs; i++) {
      std::vector<TableChangeSummary> summary;
      RowDiffStats stats;
      Clock::time_point start = Clock::now();
      s = DiffTables(store.get(), a, b, &summary, &stats);
      tables_ms.push_back(MillisSince(start));
      if (!s.ok() || summary.size() != 1 || summary[0].rows_modified != 1) {
        std::fprintf(stderr, "DiffTables: %s\n", s.ToString().c_str());
        return 1;
      }
      tables_pages = stats.pages_read;
    }
    for (int i = 0; i < full_runs; i++) {
      RowDiffResult r;
      RowDiffOptions options;
      options.full_scan = true;
      Clock::time_point start = Clock::now();
      s = DiffTable(store.get(), a, b, "big", &r, options);
      full_ms.push_back(MillisSince(start));
      if (!s.ok() || r.changes.size() != 1) {
        std::fprintf(stderr, "full scan: %s\n", s.ToString().c_str());
        return 1;
      }
      full_pages = r.stats.pages_read;
    }
    double median = Median(diff_ms);
    std::printf("%9lld %9.0f | %9.3f %9.3f %6llu | %9.3f %6llu | %11.1f %7llu "
                "| %6.0fx\n",
                static_cast<long long>(rows), build_ms, diff_ms.front(), median,
                static_cast<unsigned long long>(diff_pages), Median(tables_ms),
                static_cast<unsigned long long>(tables_pages), Median(full_ms),
                static_cast<unsigned long long>(full_pages),
                Median(full_ms) / median);
    std::fflush(stdout);
  }
  std::string cmd = "rm -rf '" + dir + "'";
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "%s failed\n", cmd.c_str());
  }
  return 0;
}

}  // namespace
}  // namespace larix

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 20;
  int full_runs = argc > 2 ? std::atoi(argv[2]) : 5;
  int64_t max_rows = argc > 3 ? std::atoll(argv[3]) : 1000000;
  return larix::Run(std::max(runs, 1), std::max(full_runs, 1), max_rows);
}
