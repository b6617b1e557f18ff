// sql_bench: sysbench-style OLTP workloads on stock SQLite and on Larix, in
// one invocation, with the Larix/SQLite ratio of each.
//
// Both sides run the same SQL through the same system libsqlite3:
//   sqlite  a plain file, journal_mode=WAL, PRAGMA synchronous as --sync
//           (default FULL, SQLite's own default);
//   larix   an on-disk store opened with OpenDatabase and default options
//           (journal_mode=DELETE, its journal in memory), the same
//           synchronous.
//
// Design:
//   1. Every (side, workload) pair runs in its own child process (fork), on
//      its own copy of a table populated once per side.  The parent reads
//      the child's peak resident set size with wait4(), so the two sides'
//      memory never mixes and one workload's caches never help the next.
//      The child reports its timings through a pipe as "key=value" lines.
//   2. The table is sysbench's: sbtest(id INTEGER PRIMARY KEY, k INTEGER,
//      c TEXT, pad TEXT) with an index on k; N rows (--rows, default
//      100000), k uniform in [1, N], c 120 and pad 60 characters of digits
//      and dashes.  Data and the id/k streams come from a fixed-seed
//      generator, so both sides see identical statements.
//   3. Each workload runs --reps (default 5) repetitions, each in a new
//      process on a new copy of the table: first sysbench's prewarm (one
//      read of every page of the table and its index; --cold skips it),
//      then one untimed pass of the workload's operations, then the timed
//      pass of the same number.  The reported figure is the median over
//      repetitions of the mean time per operation.  Statements are
//      prepared once and reused, as sysbench does.
//   4. Batched writes (oltp_insert, oltp_update_index,
//      oltp_update_non_index, oltp_delete_insert) run in transactions of
//      --batch operations (default 100); oltp_read_write is one sysbench
//      transaction per operation; bulk_insert is one transaction of
//      --bulk-rows rows (default 1M) into a fresh indexed table per
//      repetition, reported per row; durable_* are autocommit statements
//      with synchronous=FULL (one durable commit each: the fsync case).
//   5. Storage growth: 1000 autocommit single-row inserts
//      (synchronous=FULL) into a copy of the table; reported per insert as
//      the growth of the files (SQLite: db + WAL; Larix: the store
//      directory) and as the bytes the process passed to write()
//      (/proc/self/io wchar).
//   6. Targets (from the performance issue), as ratios to SQLite: reads
//      <= 1.1x, batched writes <= 1.3x, durable autocommit writes <= 2.0x;
//      peak RSS <= 1.5x SQLite's + 64 MB.  Printed as PASS/MISS; the exit
//      status does not depend on them (only on errors).
//
// Usage:
//   sql_bench [--quick] [--rows N] [--reps R] [--bulk-rows N] [--batch B]
//             [--ops N (operations per repetition, for profiling)]
//             [--only W1,W2] [--side sqlite|larix] [--sync FULL|NORMAL|OFF]
//             [--dir DIR] [--cold] [--keep] [--json]
// --quick: 10000 rows, 100000 bulk rows, 3 repetitions, fewer operations
// per repetition (a smoke run of well under a minute).  --side runs one side only (for
// profiling under perf, which follows the forked children).

#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "larix/database.h"

namespace larix {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

enum class Side { kSqlite, kLarix };
const char* SideName(Side s) { return s == Side::kSqlite ? "sqlite" : "larix"; }

// What a workload's figure is held to.
enum class Category { kRead, kBatchedWrite, kDurableWrite };

double TargetRatio(Category c) {
  switch (c) {
    case Category::kRead: return 1.1;
    case Category::kBatchedWrite: return 1.3;
    case Category::kDurableWrite: return 2.0;
  }
  return 0;
}

struct Config {
  int64_t rows = 100000;
  int reps = 5;
  int64_t bulk_rows = 1000000;
  int batch = 100;
  int ops = 0;  // operations per repetition; 0: each workload's default
  bool quick = false;
  bool json = false;
  bool keep = false;
  bool prewarm = true;  // --cold: false
  std::string sync = "FULL";
  std::vector<std::string> only;
  std::vector<Side> sides = {Side::kSqlite, Side::kLarix};
  fs::path dir;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "sql_bench: %s\n", what.c_str());
  std::fflush(stderr);
  _exit(1);
}

// SplitMix64: the id, k and string streams, identical on both sides.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int64_t Uniform(int64_t lo, int64_t hi) {  // inclusive
    uint64_t span = static_cast<uint64_t>(hi - lo + 1);
    return lo + static_cast<int64_t>(Next() % span);
  }
  // sysbench's c and pad: groups of 11 digits separated by dashes.
  std::string Digits(int length) {
    std::string s(length, '-');
    for (int i = 0; i < length; i++) {
      if (i % 12 != 11) s[i] = static_cast<char>('0' + Next() % 10);
    }
    return s;
  }

 private:
  uint64_t state_;
};

// ---------------------------------------------------------------------------
// A connection with cached prepared statements (child processes only).

class Connection {
 public:
  Connection(Side side, const fs::path& dir, const std::string& sync)
      : side_(side) {
    if (side == Side::kSqlite) {
      std::string file = (dir / "sbtest.db").string();
      if (sqlite3_open_v2(file.c_str(), &db_,
                          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                          nullptr) != SQLITE_OK) {
        Die("cannot open " + file);
      }
      Exec("PRAGMA journal_mode=WAL");
    } else {
      Status s = OpenDatabase((dir / "store").string(), {}, &db_);
      if (!s.ok()) Die("cannot open the store: " + s.ToString());
    }
    SetSync(sync);
  }
  ~Connection() {
    for (auto& [sql, stmt] : stmts_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  void SetSync(const std::string& mode) { Exec("PRAGMA synchronous=" + mode); }

  void Exec(const std::string& sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      Die(std::string(SideName(side_)) + ": " + sql + ": " +
          (msg ? msg : "?"));
    }
  }

  sqlite3_stmt* Prepare(const std::string& sql) {
    auto it = stmts_.find(sql);
    if (it != stmts_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT,
                           &stmt, nullptr) != SQLITE_OK) {
      Die(sql + ": " + sqlite3_errmsg(db_));
    }
    stmts_[sql] = stmt;
    return stmt;
  }

  // Binds `args` (integers, or text when given as strings) and steps to
  // the end; returns the number of rows, and folds every column into
  // sink_ so the reads cannot be optimised away.
  template <typename... Args>
  int Run(const std::string& sql, const Args&... args) {
    sqlite3_stmt* stmt = Prepare(sql);
    int i = 1;
    (Bind(stmt, i++, args), ...);
    int rows = 0, rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      rows++;
      sink_ += sqlite3_column_bytes(stmt, 0);
    }
    if (rc != SQLITE_DONE) {
      Die(std::string(SideName(side_)) + ": " + sql + ": " +
          sqlite3_errmsg(db_));
    }
    sqlite3_reset(stmt);
    return rows;
  }

  sqlite3* db() { return db_; }

 private:
  static void Bind(sqlite3_stmt* s, int i, int64_t v) {
    sqlite3_bind_int64(s, i, v);
  }
  static void Bind(sqlite3_stmt* s, int i, int v) {
    sqlite3_bind_int64(s, i, v);
  }
  static void Bind(sqlite3_stmt* s, int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  }

  Side side_;
  sqlite3* db_ = nullptr;
  std::map<std::string, sqlite3_stmt*> stmts_;
  uint64_t sink_ = 0;
};

constexpr char kCreateTable[] =
    "CREATE TABLE %s(id INTEGER PRIMARY KEY, k INTEGER NOT NULL DEFAULT 0, "
    "c TEXT NOT NULL DEFAULT '', pad TEXT NOT NULL DEFAULT '')";

std::string Fmt(const char* format, const std::string& arg) {
  char buf[512];
  snprintf(buf, sizeof(buf), format, arg.c_str());
  return buf;
}

// Fills sbtest with rows 1..n in transactions of 10000, then indexes k
// (sysbench's prepare step).
void Populate(Connection* db, int64_t n) {
  Random rng(42);
  db->Exec(Fmt(kCreateTable, "sbtest"));
  const std::string insert =
      "INSERT INTO sbtest(id, k, c, pad) VALUES (?, ?, ?, ?)";
  for (int64_t id = 1; id <= n;) {
    db->Exec("BEGIN");
    for (int64_t end = std::min(n, id + 9999); id <= end; id++) {
      db->Run(insert, id, rng.Uniform(1, n), rng.Digits(120), rng.Digits(60));
    }
    db->Exec("COMMIT");
  }
  db->Exec("CREATE INDEX k_1 ON sbtest(k)");
}

// ---------------------------------------------------------------------------
// Workloads.

struct Workload {
  const char* name = "";
  Category category = Category::kRead;
  const char* unit = "";  // what one operation is
  // Operations per repetition: normal run, --quick run.
  int ops = 0;
  int quick_ops = 0;
  // Runs `n` operations; `next_id` is the next unused id for inserts.
  std::function<void(Connection*, Random*, int n, const Config&,
                     int64_t* next_id)>
      run;
  bool durable = false;  // synchronous=FULL, autocommit
  // Untimed, before every repetition.
  std::function<void(Connection*)> setup;
};

// The sysbench statements.
constexpr char kPoint[] = "SELECT c FROM sbtest WHERE id = ?";
constexpr char kRange[] = "SELECT c FROM sbtest WHERE id BETWEEN ? AND ?";
constexpr char kSum[] = "SELECT SUM(k) FROM sbtest WHERE id BETWEEN ? AND ?";
constexpr char kOrder[] =
    "SELECT c FROM sbtest WHERE id BETWEEN ? AND ? ORDER BY c";
constexpr char kDistinct[] =
    "SELECT DISTINCT c FROM sbtest WHERE id BETWEEN ? AND ? ORDER BY c";
constexpr char kIndexScan[] = "SELECT id FROM sbtest WHERE k BETWEEN ? AND ?";
constexpr char kScan[] = "SELECT count(*), sum(k), sum(length(c)) FROM sbtest";
constexpr char kUpdateIndex[] = "UPDATE sbtest SET k = k + 1 WHERE id = ?";
constexpr char kUpdateNonIndex[] = "UPDATE sbtest SET c = ? WHERE id = ?";
constexpr char kDelete[] = "DELETE FROM sbtest WHERE id = ?";
constexpr char kInsert[] =
    "INSERT INTO sbtest(id, k, c, pad) VALUES (?, ?, ?, ?)";
constexpr int kRangeSize = 100;

// Runs `op` n times in transactions of cfg.batch operations.
void Batched(Connection* db, int n, const Config& cfg,
             const std::function<void()>& op) {
  for (int done = 0; done < n;) {
    db->Exec("BEGIN");
    for (int i = 0; i < cfg.batch && done < n; i++, done++) op();
    db->Exec("COMMIT");
  }
}

using RunFn = std::function<void(Connection*, Random*, int n, const Config&,
                                 int64_t* next_id)>;

Workload Make(const char* name, Category category, const char* unit, int ops,
              int quick_ops, RunFn run) {
  Workload w;
  w.name = name;
  w.category = category;
  w.unit = unit;
  w.ops = ops;
  w.quick_ops = quick_ops;
  w.run = std::move(run);
  return w;
}

std::vector<Workload> Workloads() {
  auto id = [](Random* r, const Config& c) { return r->Uniform(1, c.rows); };
  auto start = [](Random* r, const Config& c) {
    return r->Uniform(1, std::max<int64_t>(1, c.rows - kRangeSize + 1));
  };
  auto insert_row = [](Connection* db, Random* r, const Config& c,
                       int64_t row_id) {
    db->Run(kInsert, row_id, r->Uniform(1, c.rows), r->Digits(120),
            r->Digits(60));
  };
  // A read of `sql` over a random 100-row range.
  auto ranged = [=](const char* sql) -> RunFn {
    return [=](Connection* db, Random* r, int n, const Config& c, int64_t*) {
      for (int i = 0; i < n; i++) {
        int64_t s = start(r, c);
        db->Run(sql, s, s + kRangeSize - 1);
      }
    };
  };

  std::vector<Workload> w;
  w.push_back(Make(
      "oltp_point_select", Category::kRead, "select", 20000, 5000,
      [=](Connection* db, Random* r, int n, const Config& c, int64_t*) {
        for (int i = 0; i < n; i++) db->Run(kPoint, id(r, c));
      }));
  w.push_back(Make("oltp_range_select", Category::kRead, "select (100 rows)",
                   2000, 500, ranged(kRange)));
  w.push_back(Make("oltp_sum_range", Category::kRead, "select (100 rows)",
                   2000, 500, ranged(kSum)));
  w.push_back(Make("oltp_index_scan", Category::kRead, "select (~100 rows)",
                   2000, 500, ranged(kIndexScan)));
  w.push_back(Make(
      "table_scan", Category::kRead, "full scan", 3, 3,
      [](Connection* db, Random*, int n, const Config&, int64_t*) {
        for (int i = 0; i < n; i++) db->Run(kScan);
      }));
  w.push_back(Make(
      "oltp_insert", Category::kBatchedWrite, "insert", 2000, 500,
      [=](Connection* db, Random* r, int n, const Config& c, int64_t* next) {
        Batched(db, n, c, [&] { insert_row(db, r, c, (*next)++); });
      }));
  w.push_back(Make(
      "oltp_update_index", Category::kBatchedWrite, "update", 2000, 500,
      [=](Connection* db, Random* r, int n, const Config& c, int64_t*) {
        Batched(db, n, c, [&] { db->Run(kUpdateIndex, id(r, c)); });
      }));
  w.push_back(Make(
      "oltp_update_non_index", Category::kBatchedWrite, "update", 2000, 500,
      [=](Connection* db, Random* r, int n, const Config& c, int64_t*) {
        Batched(db, n, c, [&] {
          db->Run(kUpdateNonIndex, r->Digits(120), id(r, c));
        });
      }));
  w.push_back(Make(
      "oltp_delete_insert", Category::kBatchedWrite, "delete + insert", 2000,
      500, [=](Connection* db, Random* r, int n, const Config& c, int64_t*) {
        Batched(db, n, c, [&] {
          int64_t victim = id(r, c);
          db->Run(kDelete, victim);
          insert_row(db, r, c, victim);
        });
      }));
  w.push_back(Make(
      "oltp_read_write", Category::kBatchedWrite, "transaction", 200, 50,
      [=](Connection* db, Random* r, int n, const Config& c, int64_t*) {
        for (int t = 0; t < n; t++) {
          db->Exec("BEGIN");
          for (int i = 0; i < 10; i++) db->Run(kPoint, id(r, c));
          for (const char* sql : {kRange, kSum, kOrder, kDistinct}) {
            int64_t s = start(r, c);
            db->Run(sql, s, s + kRangeSize - 1);
          }
          db->Run(kUpdateIndex, id(r, c));
          db->Run(kUpdateNonIndex, r->Digits(120), id(r, c));
          int64_t victim = id(r, c);
          db->Run(kDelete, victim);
          insert_row(db, r, c, victim);
          db->Exec("COMMIT");
        }
      }));
  // One operation is the whole transaction; RunWorkload divides by the
  // row count.  The table is dropped and re-created, untimed, before each
  // repetition.
  w.push_back(Make(
      "bulk_insert", Category::kBatchedWrite, "row", 1, 1,
      [](Connection* db, Random* r, int, const Config& c, int64_t*) {
        const std::string insert =
            "INSERT INTO bulk(id, k, c, pad) VALUES (?, ?, ?, ?)";
        db->Exec("BEGIN");
        for (int64_t i = 1; i <= c.bulk_rows; i++) {
          db->Run(insert, i, r->Uniform(1, c.bulk_rows), r->Digits(120),
                  r->Digits(60));
        }
        db->Exec("COMMIT");
      }));
  w.back().setup = [](Connection* db) {
    db->Exec("DROP TABLE IF EXISTS bulk");
    db->Exec(Fmt(kCreateTable, "bulk"));
    db->Exec("CREATE INDEX bulk_k ON bulk(k)");
  };
  w.push_back(Make(
      "durable_insert", Category::kDurableWrite, "insert+commit", 300, 100,
      [=](Connection* db, Random* r, int n, const Config& c, int64_t* next) {
        for (int i = 0; i < n; i++) insert_row(db, r, c, (*next)++);
      }));
  w.back().durable = true;
  w.push_back(Make(
      "durable_update", Category::kDurableWrite, "update+commit", 300, 100,
      [=](Connection* db, Random* r, int n, const Config& c, int64_t*) {
        for (int i = 0; i < n; i++) {
          db->Run(kUpdateNonIndex, r->Digits(120), id(r, c));
        }
      }));
  w.back().durable = true;
  return w;
}

// ---------------------------------------------------------------------------
// Child processes.

uint64_t TreeBytes(const fs::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

// Bytes this process has passed to write() so far.
uint64_t WriteCallBytes() {
  std::ifstream io("/proc/self/io");
  std::string key;
  uint64_t value;
  while (io >> key >> value) {
    if (key == "wchar:") return value;
  }
  return 0;
}

// CPU time (user + system, all threads) this process has used.
double CpuMicros() {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

using Report = std::map<std::string, double>;

// One repetition of workload `w` on the data in `dir`: an untimed warm-up
// run (not for bulk_insert, whose repetition is one huge transaction),
// then a timed one.  Reports us_per_op.
// sysbench's `prewarm`: reads every page of sbtest and of its index once,
// so that the timed part sees each side's caches as a long-running process
// would.  SQLite's pages are already in the OS page cache (the table was
// just copied); Larix's verified page cache starts empty in every new
// process, and without this each first read of a page also pays its hash
// check (see docs/performance.md, "Cold and warm").
void Prewarm(Connection* db) {
  db->Run("SELECT count(*), sum(length(c)), sum(length(pad)) FROM sbtest");
  db->Run("SELECT count(*) FROM sbtest INDEXED BY k_1 WHERE k >= 0");
}

Report RunWorkload(Side side, const Config& cfg, const fs::path& dir,
                   const Workload& w, int rep) {
  Connection db(side, dir, w.durable ? "FULL" : cfg.sync);
  Random rng(7 + rep);
  int64_t next_id = cfg.rows + 1;
  int ops = cfg.ops > 0 ? cfg.ops : cfg.quick ? w.quick_ops : w.ops;
  bool bulk = std::string(w.name) == "bulk_insert";
  if (!bulk && cfg.prewarm) Prewarm(&db);
  if (!bulk) w.run(&db, &rng, ops, cfg, &next_id);
  if (w.setup) w.setup(&db);
  double cpu0 = CpuMicros();
  auto t0 = Clock::now();
  w.run(&db, &rng, ops, cfg, &next_id);
  double us =
      std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  double cpu = CpuMicros() - cpu0;
  double n = bulk ? static_cast<double>(cfg.bulk_rows) : ops;
  Report r;
  r["us_per_op"] = us / n;
  r["cpu_us_per_op"] = cpu / n;
  return r;
}

// 1000 durable autocommit inserts; growth of the files and write() bytes.
Report MeasureGrowth(Side side, const Config& cfg, const fs::path& dir) {
  constexpr int kInserts = 1000;
  Connection db(side, dir, "FULL");
  Random rng(11);
  db.Run(kPoint, 1);  // open the database before measuring
  uint64_t bytes0 = TreeBytes(dir);
  uint64_t writes0 = WriteCallBytes();
  for (int i = 0; i < kInserts; i++) {
    db.Run(kInsert, cfg.rows + 1 + i, rng.Uniform(1, cfg.rows),
           rng.Digits(120), rng.Digits(60));
  }
  Report r;
  r["growth_bytes_per_insert"] =
      (static_cast<double>(TreeBytes(dir)) - bytes0) / kInserts;
  r["write_bytes_per_insert"] =
      (static_cast<double>(WriteCallBytes()) - writes0) / kInserts;
  return r;
}

struct ChildResult {
  bool ok = false;
  Report report;
  long max_rss_kb = 0;
};

// Runs `body` in a child process; collects its report and peak RSS.
ChildResult InChild(const std::function<Report()>& body) {
  int fds[2];
  if (pipe(fds) != 0) Die("pipe failed");
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) Die("fork failed");
  if (pid == 0) {
    close(fds[0]);
    Report r = body();
    std::string out;
    char buf[128];
    for (auto& [k, v] : r) {
      snprintf(buf, sizeof(buf), "%s=%.17g\n", k.c_str(), v);
      out += buf;
    }
    if (write(fds[1], out.data(), out.size()) !=
        static_cast<ssize_t>(out.size())) {
      _exit(1);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) text.append(buf, n);
  close(fds[0]);
  int status = 0;
  struct rusage usage;
  ChildResult result;
  if (wait4(pid, &status, 0, &usage) != pid) Die("wait4 failed");
  result.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  result.max_rss_kb = usage.ru_maxrss;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) {
      result.report[line.substr(0, eq)] = std::stod(line.substr(eq + 1));
    }
  }
  return result;
}

void CopyTree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::remove_all(to, ec);
  fs::copy(from, to, fs::copy_options::recursive, ec);
  if (ec) Die("cannot copy " + from.string() + ": " + ec.message());
}

// ---------------------------------------------------------------------------
// The parent: orchestration and the report.

// One side of one workload: a sample per repetition.
struct SideResult {
  bool ok = true;
  std::vector<double> us_per_op;      // wall clock
  std::vector<double> cpu_us_per_op;  // CPU time of the process
  long max_rss_kb = 0;
  double cpu_median() const {
    return ok && !cpu_us_per_op.empty() ? Median(cpu_us_per_op) : 0;
  }
  double median() const {
    return ok && !us_per_op.empty() ? Median(us_per_op) : 0;
  }
  double min() const {
    if (us_per_op.empty()) return 0;
    return *std::min_element(us_per_op.begin(), us_per_op.end());
  }
  double max() const {
    if (us_per_op.empty()) return 0;
    return *std::max_element(us_per_op.begin(), us_per_op.end());
  }
};

struct Row {
  const Workload* workload;
  SideResult side[2];
};

std::string Machine(const std::string& key) {
  if (key == "nproc") return std::to_string(sysconf(_SC_NPROCESSORS_ONLN));
  std::ifstream cpu("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      return line.substr(line.find(':') + 2);
    }
  }
  return "?";
}

void Usage() {
  std::fprintf(stderr,
               "usage: sql_bench [--quick] [--rows N] [--reps R] "
               "[--bulk-rows N] [--batch B] [--ops N] [--only W1,W2] "
               "[--side sqlite|larix] [--sync FULL|NORMAL|OFF] [--dir DIR] "
               "[--cold] [--keep] [--json]\n");
  std::exit(2);
}

Config ParseFlags(int argc, char** argv) {
  Config cfg;
  bool rows_set = false, bulk_set = false, reps_set = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (a == "--quick") {
      cfg.quick = true;
    } else if (a == "--rows") {
      cfg.rows = std::atoll(value().c_str());
      rows_set = true;
    } else if (a == "--reps") {
      cfg.reps = std::atoi(value().c_str());
      reps_set = true;
    } else if (a == "--bulk-rows") {
      cfg.bulk_rows = std::atoll(value().c_str());
      bulk_set = true;
    } else if (a == "--batch") {
      cfg.batch = std::atoi(value().c_str());
    } else if (a == "--ops") {
      cfg.ops = std::atoi(value().c_str());
    } else if (a == "--only") {
      std::stringstream list(value());
      std::string name;
      while (std::getline(list, name, ',')) cfg.only.push_back(name);
    } else if (a == "--side") {
      std::string s = value();
      if (s == "sqlite") {
        cfg.sides = {Side::kSqlite};
      } else if (s == "larix") {
        cfg.sides = {Side::kLarix};
      } else {
        Usage();
      }
    } else if (a == "--sync") {
      cfg.sync = value();
    } else if (a == "--dir") {
      cfg.dir = value();
    } else if (a == "--cold") {
      cfg.prewarm = false;
    } else if (a == "--keep") {
      cfg.keep = true;
    } else if (a == "--json") {
      cfg.json = true;
    } else {
      Usage();
    }
  }
  if (cfg.quick) {
    if (!rows_set) cfg.rows = 10000;
    if (!bulk_set) cfg.bulk_rows = 100000;
    if (!reps_set) cfg.reps = 3;
  }
  if (cfg.rows < kRangeSize || cfg.reps < 1 || cfg.batch < 1 || cfg.ops < 0 ||
      cfg.bulk_rows < 1) {
    Usage();
  }
  if (cfg.dir.empty()) {
    cfg.dir = fs::temp_directory_path() /
              ("larix_sql_bench_" + std::to_string(getpid()));
  }
  return cfg;
}

int Main(int argc, char** argv) {
  Config cfg = ParseFlags(argc, argv);
  std::vector<Workload> all = Workloads();
  std::vector<const Workload*> chosen;
  for (const auto& w : all) {
    if (cfg.only.empty() ||
        std::find(cfg.only.begin(), cfg.only.end(), w.name) != cfg.only.end()) {
      chosen.push_back(&w);
    }
  }
  bool growth = cfg.only.empty() ||
                std::find(cfg.only.begin(), cfg.only.end(), "storage") !=
                    cfg.only.end();
  if (chosen.empty() && !growth) {
    std::fprintf(stderr, "no such workload; choose from:");
    for (const auto& w : all) std::fprintf(stderr, " %s", w.name);
    std::fprintf(stderr, " storage\n");
    return 2;
  }
  std::error_code ec;
  fs::remove_all(cfg.dir, ec);
  fs::create_directories(cfg.dir);

  auto progress = [&](const std::string& s) {
    if (!cfg.json) {
      std::fprintf(stderr, "%s\n", s.c_str());
      std::fflush(stderr);
    }
  };

  // Templates: the populated table, once per side.
  std::map<Side, fs::path> templates;
  std::map<Side, double> populate_seconds;
  for (Side side : cfg.sides) {
    fs::path t = cfg.dir / (std::string("template-") + SideName(side));
    fs::create_directories(t);
    progress(std::string("populating ") + SideName(side) + " with " +
             std::to_string(cfg.rows) + " rows ...");
    auto t0 = Clock::now();
    ChildResult r = InChild([&] {
      Connection db(side, t, cfg.sync);
      Populate(&db, cfg.rows);
      return Report{};
    });
    if (!r.ok) Die(std::string("populating ") + SideName(side) + " failed");
    populate_seconds[side] =
        std::chrono::duration<double>(Clock::now() - t0).count();
    templates[side] = t;
  }

  // Repetitions alternate between the sides (and which goes first), so
  // that both see the same background load: this machine is shared, and
  // fsync latency in particular drifts by whole multiples.
  std::vector<Row> rows;
  for (const Workload* w : chosen) {
    Row row{w, {}};
    progress(std::string(w->name) + " ...");
    for (int rep = 0; rep < cfg.reps; rep++) {
      std::vector<Side> order = cfg.sides;
      if (rep % 2) std::reverse(order.begin(), order.end());
      for (Side side : order) {
        SideResult& out = row.side[static_cast<int>(side)];
        fs::path work = cfg.dir / (std::string("work-") + SideName(side));
        CopyTree(templates[side], work);
        ChildResult r =
            InChild([&] { return RunWorkload(side, cfg, work, *w, rep); });
        if (!cfg.keep) fs::remove_all(work, ec);
        out.max_rss_kb = std::max(out.max_rss_kb, r.max_rss_kb);
        if (!r.ok || !r.report.count("us_per_op")) {
          std::fprintf(stderr, "%s on %s failed\n", w->name, SideName(side));
          out.ok = false;
          continue;
        }
        out.us_per_op.push_back(r.report["us_per_op"]);
        out.cpu_us_per_op.push_back(r.report["cpu_us_per_op"]);
      }
    }
    rows.push_back(row);
  }
  ChildResult grow[2];
  if (growth) {
    for (Side side : cfg.sides) {
      progress(std::string("storage growth on ") + SideName(side) + " ...");
      fs::path work = cfg.dir / (std::string("work-") + SideName(side));
      CopyTree(templates[side], work);
      grow[static_cast<int>(side)] =
          InChild([&] { return MeasureGrowth(side, cfg, work); });
      if (!cfg.keep) fs::remove_all(work, ec);
    }
  }
  if (!cfg.keep) fs::remove_all(cfg.dir, ec);

  bool both = cfg.sides.size() == 2;
  auto value = [](const ChildResult& r, const char* key) {
    auto it = r.report.find(key);
    return r.ok && it != r.report.end() ? it->second : 0.0;
  };
  auto rss_ok = [](const SideResult& s, const SideResult& l) {
    return l.max_rss_kb <= 1.5 * s.max_rss_kb + 64 * 1024;
  };
  long peak[2] = {0, 0};
  for (auto& row : rows) {
    for (int s = 0; s < 2; s++) {
      peak[s] = std::max(peak[s], row.side[s].max_rss_kb);
    }
  }

  if (cfg.json) {
    std::printf("{\n  \"machine\": {\"nproc\": %s, \"cpu\": \"%s\", "
                "\"sqlite\": \"%s\"},\n",
                Machine("nproc").c_str(), Machine("cpu").c_str(),
                sqlite3_libversion());
    std::printf("  \"config\": {\"rows\": %" PRId64 ", \"reps\": %d, "
                "\"bulk_rows\": %" PRId64 ", \"batch\": %d, \"sync\": "
                "\"%s\", \"quick\": %s},\n",
                cfg.rows, cfg.reps, cfg.bulk_rows, cfg.batch,
                cfg.sync.c_str(), cfg.quick ? "true" : "false");
    std::printf("  \"workloads\": [\n");
    for (size_t i = 0; i < rows.size(); i++) {
      const Row& row = rows[i];
      double s = row.side[0].median();
      double l = row.side[1].median();
      double ratio = both && s > 0 ? l / s : 0;
      double target = TargetRatio(row.workload->category);
      std::printf("    {\"name\": \"%s\", \"unit\": \"us per %s\", "
                  "\"sqlite_us\": %.4f, \"larix_us\": %.4f, "
                  "\"sqlite_us_min\": %.4f, \"sqlite_us_max\": %.4f, "
                  "\"larix_us_min\": %.4f, \"larix_us_max\": %.4f, "
                  "\"ratio\": %.4f, \"sqlite_cpu_us\": %.4f, "
                  "\"larix_cpu_us\": %.4f, "
                  "\"target\": %.1f, \"pass\": %s, \"sqlite_rss_kb\": %ld, "
                  "\"larix_rss_kb\": %ld, \"rss_pass\": %s}%s\n",
                  row.workload->name, row.workload->unit, s, l,
                  row.side[0].min(), row.side[0].max(), row.side[1].min(),
                  row.side[1].max(), ratio, row.side[0].cpu_median(),
                  row.side[1].cpu_median(), target,
                  both && ratio <= target ? "true" : "false",
                  row.side[0].max_rss_kb, row.side[1].max_rss_kb,
                  both && rss_ok(row.side[0], row.side[1]) ? "true" : "false",
                  i + 1 < rows.size() ? "," : "");
    }
    std::printf("  ],\n  \"storage\": {\"sqlite_growth_bytes_per_insert\": "
                "%.1f, \"larix_growth_bytes_per_insert\": %.1f, "
                "\"sqlite_write_bytes_per_insert\": %.1f, "
                "\"larix_write_bytes_per_insert\": %.1f}\n}\n",
                value(grow[0], "growth_bytes_per_insert"),
                value(grow[1], "growth_bytes_per_insert"),
                value(grow[0], "write_bytes_per_insert"),
                value(grow[1], "write_bytes_per_insert"));
    return 0;
  }

  std::printf("sql_bench: %" PRId64 " rows, %d reps (median), batch %d, "
              "bulk %" PRId64 " rows, synchronous=%s; SQLite %s; %s CPUs "
              "(%s)\n",
              cfg.rows, cfg.reps, cfg.batch, cfg.bulk_rows, cfg.sync.c_str(),
              sqlite3_libversion(), Machine("nproc").c_str(),
              Machine("cpu").c_str());
  for (Side side : cfg.sides) {
    std::printf("populate %s: %.1f s\n", SideName(side),
                populate_seconds[side]);
  }
  // "spread" is max/min over the repetitions: how noisy the median is.
  // "cpu" is the ratio of the medians of process CPU time per operation,
  // which a loaded machine disturbs far less than the wall clock (but
  // which leaves out time spent waiting for the disk).
  std::printf("\n%-22s %-18s %10s %6s %10s %6s %7s %6s %-4s %6s %8s %8s %-4s\n",
              "workload", "time per", "sqlite us", "spread", "larix us",
              "spread", "ratio", "target", "", "cpu", "sqlite MB",
              "larix MB", "mem");
  for (const Row& row : rows) {
    const SideResult& s = row.side[0];
    const SideResult& l = row.side[1];
    double target = TargetRatio(row.workload->category);
    char ratio[32] = "-", cpu[32] = "-", verdict[8] = "", mem[8] = "";
    if (both && s.median() > 0 && l.median() > 0) {
      double x = l.median() / s.median();
      snprintf(ratio, sizeof(ratio), "%.2fx", x);
      snprintf(verdict, sizeof(verdict), "%s", x <= target ? "PASS" : "MISS");
      snprintf(mem, sizeof(mem), "%s", rss_ok(s, l) ? "PASS" : "MISS");
      if (s.cpu_median() > 0) {
        snprintf(cpu, sizeof(cpu), "%.2fx", l.cpu_median() / s.cpu_median());
      }
    }
    auto spread = [](const SideResult& r) {
      return r.min() > 0 ? r.max() / r.min() : 0.0;
    };
    std::printf(
        "%-22s %-18s %10.2f %6.2f %10.2f %6.2f %7s %5.1fx %-4s %6s %8.1f "
        "%8.1f %-4s\n",
        row.workload->name, row.workload->unit, s.median(), spread(s),
        l.median(), spread(l), ratio, target, verdict, cpu,
        s.max_rss_kb / 1024.0, l.max_rss_kb / 1024.0, mem);
  }
  if (growth) {
    std::printf("\nper durable autocommit single-row insert (1000 inserts):\n");
    std::printf("  file growth:   sqlite (db + WAL) %8.0f B   larix (store) "
                "%8.0f B\n",
                value(grow[0], "growth_bytes_per_insert"),
                value(grow[1], "growth_bytes_per_insert"));
    std::printf("  write() bytes: sqlite            %8.0f B   larix         "
                "%8.0f B\n",
                value(grow[0], "write_bytes_per_insert"),
                value(grow[1], "write_bytes_per_insert"));
  }
  if (both && !rows.empty()) {
    std::printf("\npeak RSS over all workloads: sqlite %.1f MB, larix %.1f MB "
                "(target <= 1.5x + 64 MB = %.1f MB): %s\n",
                peak[0] / 1024.0, peak[1] / 1024.0,
                (1.5 * peak[0] + 64 * 1024) / 1024.0,
                peak[1] <= 1.5 * peak[0] + 64 * 1024 ? "PASS" : "MISS");
  }
  return 0;
}

}  // namespace
}  // namespace larix

int main(int argc, char** argv) { return larix::Main(argc, argv); }
