// Random SQL workloads, and a differential runner that checks Larix against
// stock SQLite with them.
//
// Used by tests/sql/differential_test.cc (a few thousand statements in the
// default test run) and bench/differential_soak_bench.cc (long soaks).
// Header-only on purpose: bench programs do not link tests/support/*.cc,
// and nothing here needs gtest.
//
// The generator (WorkloadGenerator).
//   1. Deterministic from a seed: its only source of randomness is a
//      SplitMix64 stream, and every value reaches SQL as a literal or as a
//      deterministic expression (zeroblob(), hex(), replace()); never
//      random() or randomblob().  So every connection that runs the stream
//      gets byte-identical statements.
//   2. Valid most of the time, not always.  It keeps a model of the schema
//      (tables, columns, indexes, views, triggers, row counts) that it
//      re-reads from the *reference* connection after every statement
//      (WorkloadGenerator::Observe), so the model follows rollbacks,
//      renames and failed DDL exactly.  Errors still happen, some on
//      purpose (UNIQUE/NOT NULL/CHECK violations from small key domains,
//      STRICT type errors, DROP COLUMN of an indexed column, RAISE() in
//      triggers, VACUUM inside a transaction); the runner requires them to
//      match, code and message.
//   3. Feature coverage: every storage class, rowid tables, INTEGER
//      PRIMARY KEY (with and without AUTOINCREMENT), composite keys,
//      WITHOUT ROWID, STRICT, generated columns, unique/partial/expression
//      indexes, values of 5-50 KB (overflow pages), INSERT (OR REPLACE,
//      OR IGNORE, ...), UPSERT, RETURNING, INSERT ... SELECT, UPDATE ...
//      FROM, DELETE, BEGIN/COMMIT/ROLLBACK, SAVEPOINT/RELEASE/ROLLBACK TO,
//      ALTER TABLE (ADD COLUMN, RENAME TO, RENAME COLUMN, DROP COLUMN),
//      CREATE TABLE AS, views, triggers, VACUUM, ANALYZE, REINDEX, and
//      queries (every result ordered by all of its columns): scans, range
//      filters, aggregates, GROUP BY, joins, window functions, subqueries,
//      recursive CTEs.
//   4. The seed also picks a profile: WAL or DELETE journal on the
//      reference, a page size (512..65536), a tiny page cache (so SQLite
//      spills dirty pages to the file before the commit), and weights
//      (DDL-heavy, large-value-heavy, transaction-heavy).
//
// The runner (RunDifferential) executes the same stream on
//   - "sqlite":      stock SQLite on a plain file in a temp directory;
//   - "larix-disk":  a fresh on-disk store (OpenDatabase);
//   - "larix-mem":   an in-memory store ("larix-memory:NAME");
// and compares, for every statement: the extended result code and error
// message, every result row (typed: integer, real bit-exact, text, blob,
// null), sqlite3_changes64(), sqlite3_total_changes64(),
// sqlite3_last_insert_rowid() and the autocommit state.  A second
// connection per target interleaves reads (with a WAL reference, also
// long read transactions whose snapshot must hold while the writer
// commits) and, between transactions, writes of its own, which the first
// connection must then see (its page cache and schema are stale).  At the
// end: a full dump (every table's rows in order, and sqlite_schema)
// through writers and readers, PRAGMA integrity_check, then the on-disk
// store is closed, fsck'ed, reopened and dumped again.
//
// The statement stream is written to script.sql in the work directory
// (the second connection's statements as "-- conn2:" comments).  On
// failure the directory is kept and the message names the seed, the
// statement index, the
// statement and the script, which replays in the sqlite3 shell.

#ifndef LARIX_TESTS_SUPPORT_SQL_WORKLOAD_H_
#define LARIX_TESTS_SUPPORT_SQL_WORKLOAD_H_

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "larix/database.h"
#include "larix/store.h"

namespace larix::sqlwork {

// SplitMix64: tiny, fast, and the same stream on every platform (unlike
// the std:: distributions, whose algorithms are unspecified).
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Uniform(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  int Range(int lo, int hi) {  // inclusive
    return lo + static_cast<int>(Uniform(static_cast<uint64_t>(hi - lo) + 1));
  }
  bool OneIn(uint64_t n) { return Uniform(n) == 0; }
  bool Percent(int p) { return static_cast<int>(Uniform(100)) < p; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Uniform(v.size())];
  }

 private:
  uint64_t state_;
};

// ---------------------------------------------------------------------------
// Running a statement and recording what can be observed of it.

// One statement's observable effect on one connection.
struct Outcome {
  int rc = SQLITE_OK;  // extended result code of prepare or step
  std::string error;   // sqlite3_errmsg() when rc != SQLITE_OK
  std::vector<std::string> rows;  // one encoded string per row
  int64_t changes = 0;
  int64_t total_changes = 0;
  int64_t last_rowid = 0;
  bool autocommit = true;
  bool ok() const { return rc == SQLITE_OK; }
};

inline void AppendHex(const unsigned char* p, size_t n, std::string* out) {
  static const char kDigits[] = "0123456789ABCDEF";
  out->reserve(out->size() + 2 * n);
  for (size_t i = 0; i < n; i++) {
    out->push_back(kDigits[p[i] >> 4]);
    out->push_back(kDigits[p[i] & 15]);
  }
}

// Appends column `i` of the current row, typed: "i:42", "r:0x1.8p+1",
// "t5:hello", "b2:CAFE", "n".  Reals are printed bit-exactly.
inline void AppendValue(sqlite3_stmt* stmt, int i, std::string* out) {
  char buf[64];
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      snprintf(buf, sizeof(buf), "i:%" PRId64,
               static_cast<int64_t>(sqlite3_column_int64(stmt, i)));
      *out += buf;
      break;
    case SQLITE_FLOAT:
      snprintf(buf, sizeof(buf), "r:%a", sqlite3_column_double(stmt, i));
      *out += buf;
      break;
    case SQLITE_TEXT: {
      const char* t =
          reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      int n = sqlite3_column_bytes(stmt, i);
      *out += "t" + std::to_string(n) + ":";
      out->append(t, n);
      break;
    }
    case SQLITE_BLOB: {
      const void* b = sqlite3_column_blob(stmt, i);
      int n = sqlite3_column_bytes(stmt, i);
      *out += "b" + std::to_string(n) + ":";
      AppendHex(static_cast<const unsigned char*>(b), n, out);
      break;
    }
    default:
      *out += "n";
  }
}

// Runs exactly one statement to completion and records its Outcome.  Rows
// returned before an error are kept (they are observable too).
inline Outcome Run(sqlite3* db, const std::string& sql) {
  Outcome out;
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()),
                              &stmt, &tail);
  if (rc == SQLITE_OK && tail != nullptr &&
      strspn(tail, " \t\r\n;") != strlen(tail)) {
    sqlite3_finalize(stmt);
    out.rc = SQLITE_MISUSE;
    out.error = "more than one statement";
  } else if (rc != SQLITE_OK) {
    out.rc = sqlite3_extended_errcode(db);
    out.error = sqlite3_errmsg(db);
  } else if (stmt != nullptr) {
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(stmt); i++) {
        if (i) row += '|';
        AppendValue(stmt, i, &row);
      }
      out.rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) {
      out.rc = sqlite3_extended_errcode(db);
      out.error = sqlite3_errmsg(db);
    }
    sqlite3_finalize(stmt);
  }
  out.changes = sqlite3_changes64(db);
  out.total_changes = sqlite3_total_changes64(db);
  out.last_rowid = sqlite3_last_insert_rowid(db);
  out.autocommit = sqlite3_get_autocommit(db) != 0;
  return out;
}

// `o` without the per-connection counters, for comparing the results of
// one query on two different connections.
inline Outcome ResultOnly(Outcome o) {
  o.changes = o.total_changes = o.last_rowid = 0;
  o.autocommit = true;
  return o;
}

inline std::string Truncated(const std::string& s, size_t max = 600) {
  if (s.size() <= max) return s;
  return s.substr(0, max) + "... (" + std::to_string(s.size()) + " bytes)";
}

// "" if `a` and `b` are indistinguishable, else what differs.
inline std::string CompareOutcomes(const Outcome& a, const Outcome& b) {
  auto code = [](const Outcome& o) {
    return "rc=" + std::to_string(o.rc) + (o.ok() ? "" : " (" + o.error + ")");
  };
  if (a.rc != b.rc || a.error != b.error) {
    return "result differs: " + code(a) + " vs " + code(b);
  }
  size_t n = std::min(a.rows.size(), b.rows.size());
  for (size_t i = 0; i < n; i++) {
    if (a.rows[i] != b.rows[i]) {
      return "row " + std::to_string(i) + " differs:\n      " +
             Truncated(a.rows[i]) + "\n    vs\n      " + Truncated(b.rows[i]);
    }
  }
  if (a.rows.size() != b.rows.size()) {
    const Outcome& longer = a.rows.size() > b.rows.size() ? a : b;
    return "row counts differ: " + std::to_string(a.rows.size()) + " vs " +
           std::to_string(b.rows.size()) + "; first extra row: " +
           Truncated(longer.rows[n]);
  }
  if (a.changes != b.changes) {
    return "changes() differs: " + std::to_string(a.changes) + " vs " +
           std::to_string(b.changes);
  }
  if (a.total_changes != b.total_changes) {
    return "total_changes() differs: " + std::to_string(a.total_changes) +
           " vs " + std::to_string(b.total_changes);
  }
  if (a.last_rowid != b.last_rowid) {
    return "last_insert_rowid() differs: " + std::to_string(a.last_rowid) +
           " vs " + std::to_string(b.last_rowid);
  }
  if (a.autocommit != b.autocommit) {
    return std::string("autocommit differs: ") +
           (a.autocommit ? "on" : "off") + " vs " +
           (b.autocommit ? "on" : "off");
  }
  return "";
}

// The text of every row of `sql` (NULL as "NULL"), with `params` bound to
// ?1, ?2, ...; *ok (if given) says whether it ran without error.
inline std::vector<std::vector<std::string>> QueryText(
    sqlite3* db, const std::string& sql,
    const std::vector<std::string>& params = {}, bool* ok = nullptr) {
  std::vector<std::vector<std::string>> rows;
  sqlite3_stmt* stmt = nullptr;
  if (ok) *ok = false;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    return rows;
  }
  for (size_t i = 0; i < params.size(); i++) {
    sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i].data(),
                      static_cast<int>(params[i].size()), SQLITE_TRANSIENT);
  }
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(stmt); i++) {
      const unsigned char* t = sqlite3_column_text(stmt, i);
      row.push_back(t ? reinterpret_cast<const char*>(t) : "NULL");
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  if (ok) *ok = rc == SQLITE_DONE;
  return rows;
}

inline std::string Quote(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// "1, 2, ..., n": ORDER BY every result column.
inline std::string Positions(int n) {
  std::string out;
  for (int i = 1; i <= n; i++) {
    if (i > 1) out += ", ";
    out += std::to_string(i);
  }
  return out;
}

// ---------------------------------------------------------------------------
// The schema model.

struct ColumnInfo {
  std::string name;
  std::string type;  // declared type, as written
  bool notnull = false;
  int pk = 0;  // 1-based position in the primary key, 0 if not in it
  bool generated = false;
};

struct TableInfo {
  std::string name;
  std::vector<ColumnInfo> columns;
  bool without_rowid = false;
  bool strict = false;
  int64_t rows = 0;

  bool has_rowid() const { return !without_rowid; }
  std::vector<const ColumnInfo*> Writable() const {
    std::vector<const ColumnInfo*> out;
    for (const auto& c : columns) {
      if (!c.generated) out.push_back(&c);
    }
    return out;
  }
  std::vector<const ColumnInfo*> PrimaryKey() const {
    std::vector<const ColumnInfo*> out;
    for (const auto& c : columns) {
      if (c.pk) out.push_back(&c);
    }
    std::sort(out.begin(), out.end(),
              [](auto* a, auto* b) { return a->pk < b->pk; });
    return out;
  }
};

struct ViewInfo {
  std::string name;
  int columns = 0;  // 0: the view does not compile (a table it uses is gone)
};

struct SchemaModel {
  std::vector<TableInfo> tables;
  std::vector<std::string> indexes;  // droppable ones (sql IS NOT NULL)
  std::vector<ViewInfo> views;
  std::vector<std::string> triggers;
  int64_t total_rows = 0;
};

// Reads the main schema of `db`.
inline SchemaModel ReadSchema(sqlite3* db) {
  SchemaModel m;
  for (auto& row : QueryText(db,
                             "SELECT name, wr, strict FROM pragma_table_list "
                             "WHERE schema = 'main' AND type = 'table' AND "
                             "substr(name, 1, 7) <> 'sqlite_' ORDER BY name")) {
    TableInfo t;
    t.name = row[0];
    t.without_rowid = row[1] == "1";
    t.strict = row[2] == "1";
    for (auto& c : QueryText(db,
                             "SELECT name, type, \"notnull\", pk, hidden FROM "
                             "pragma_table_xinfo(?1) ORDER BY cid",
                             {t.name})) {
      ColumnInfo col;
      col.name = c[0];
      col.type = c[1];
      col.notnull = c[2] == "1";
      col.pk = std::atoi(c[3].c_str());
      col.generated = c[4] == "2" || c[4] == "3";
      if (c[4] == "1") continue;
      t.columns.push_back(std::move(col));
    }
    auto n = QueryText(db, "SELECT count(*) FROM " + Quote(t.name));
    t.rows = n.empty() ? 0 : std::atoll(n[0][0].c_str());
    m.total_rows += t.rows;
    m.tables.push_back(std::move(t));
  }
  for (auto& row : QueryText(db,
                             "SELECT type, name FROM sqlite_schema WHERE type "
                             "IN ('index', 'view', 'trigger') AND sql IS NOT "
                             "NULL ORDER BY name")) {
    if (row[0] == "index") {
      m.indexes.push_back(row[1]);
    } else if (row[0] == "trigger") {
      m.triggers.push_back(row[1]);
    } else {
      ViewInfo v;
      v.name = row[1];
      sqlite3_stmt* stmt = nullptr;
      std::string sql = "SELECT * FROM " + Quote(v.name);
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) ==
          SQLITE_OK) {
        v.columns = sqlite3_column_count(stmt);
      }
      sqlite3_finalize(stmt);
      m.views.push_back(v);
    }
  }
  return m;
}

// The model as one string, to compare what two connections see.
inline std::string Fingerprint(const SchemaModel& m) {
  std::string out;
  for (const auto& t : m.tables) {
    out += "table " + t.name + (t.without_rowid ? " wr" : "") +
           (t.strict ? " strict" : "") + " rows=" + std::to_string(t.rows) +
           ":";
    for (const auto& c : t.columns) {
      out += " " + c.name + "/" + c.type + "/" + std::to_string(c.notnull) +
             std::to_string(c.pk) + std::to_string(c.generated);
    }
    out += "\n";
  }
  for (const auto& i : m.indexes) out += "index " + i + "\n";
  for (const auto& v : m.views) {
    out += "view " + v.name + " " + std::to_string(v.columns) + "\n";
  }
  for (const auto& t : m.triggers) out += "trigger " + t + "\n";
  return out;
}

// ---------------------------------------------------------------------------
// The generator.

struct Statement {
  std::string sql;
  std::string kind;  // e.g. "insert", "upsert", "alter_drop_column"
};

class WorkloadGenerator {
 public:
  explicit WorkloadGenerator(uint64_t seed)
      : rng_(seed * 0x2545F4914F6CDD1DULL + 0x5DEECE66DULL) {
    // The profile: a mild skew per seed, so that 20 seeds cover more
    // ground than one profile would.
    switch (seed % 4) {
      case 1: large_percent_ = 12; break;   // overflow-heavy
      case 2: ddl_weight_ = 3; break;       // schema-heavy
      case 3: txn_weight_ = 3; break;       // transaction-heavy
      default: break;
    }
  }

  // The next statement for the writer connections.
  Statement Next() {
    pending_ = Choose();
    return pending_;
  }

  // A read-only statement (a query) for a second connection.
  Statement NextQuery() { return Query(); }

  // A write in autocommit mode (DML or DDL, never transaction control) for
  // a second connection; feed its outcome to Observe() like Next()'s.
  Statement NextForSecondConnection() {
    if (schema_.tables.empty()) return pending_ = CreateTable();
    switch (rng_.Uniform(8)) {
      case 0: pending_ = CreateIndex(); break;
      case 1: pending_ = AlterTable(); break;
      case 2: pending_ = Upsert(); break;
      case 3: pending_ = Delete(); break;
      case 4:
      case 5: pending_ = Update(); break;
      default: pending_ = Insert();
    }
    return pending_;
  }

  // Feeds back what the statement from Next() did on the reference
  // connection `ref`, which the model re-reads.
  void Observe(sqlite3* ref, const Outcome& out) {
    const std::string& kind = pending_.kind;
    if (out.ok()) {
      if (kind == "savepoint") {
        savepoints_.push_back(pending_name_);
      } else if (kind == "release" || kind == "rollback_to") {
        auto it = std::find(savepoints_.rbegin(), savepoints_.rend(),
                            pending_name_);
        if (it != savepoints_.rend()) {
          size_t keep = savepoints_.size() - (it - savepoints_.rbegin()) -
                        (kind == "release" ? 1 : 0);
          savepoints_.resize(keep);
        }
      }
    }
    in_txn_ = !out.autocommit;
    if (!in_txn_) savepoints_.clear();
    if (kind == "delete_trim" && !out.ok()) trim_failed_ = true;
    // ALTER TABLE re-parses the whole schema and names the view or trigger
    // that no longer compiles; drop that one next.
    for (const char* what : {"error in view ", "error in trigger "}) {
      size_t at = out.error.find(what);
      if (at != std::string::npos) {
        size_t start = at + strlen(what);
        // "error in view v1: ..." or "error in view v1 after rename: ...".
        size_t end = std::min(out.error.find(" after ", start),
                              out.error.find(':', start));
        if (end != std::string::npos) {
          broken_.insert(out.error.substr(start, end - start));
        }
      }
    }
    schema_ = ReadSchema(ref);
    for (auto it = broken_.begin(); it != broken_.end();) {
      bool exists = false;
      for (auto& v : schema_.views) exists |= v.name == *it;
      for (auto& t : schema_.triggers) exists |= t == *it;
      it = exists ? std::next(it) : broken_.erase(it);
    }
  }

  bool in_transaction() const { return in_txn_; }
  const SchemaModel& schema() const { return schema_; }
  Random& rng() { return rng_; }

 private:
  // --- values -------------------------------------------------------------

  enum class Affinity { kInteger, kReal, kText, kBlob, kNumeric };

  static Affinity AffinityOf(const std::string& declared) {
    std::string t = declared;
    for (char& c : t) c = static_cast<char>(toupper(c));
    if (t.find("INT") != std::string::npos) return Affinity::kInteger;
    if (t.find("CHAR") != std::string::npos ||
        t.find("CLOB") != std::string::npos ||
        t.find("TEXT") != std::string::npos) {
      return Affinity::kText;
    }
    if (t.empty() || t.find("BLOB") != std::string::npos || t == "ANY") {
      return Affinity::kBlob;
    }
    if (t.find("REAL") != std::string::npos ||
        t.find("FLOA") != std::string::npos ||
        t.find("DOUB") != std::string::npos) {
      return Affinity::kReal;
    }
    return Affinity::kNumeric;
  }

  std::string IntLiteral() {
    switch (rng_.Uniform(12)) {
      case 0: {
        // Not 2^63-1: a rowid table whose largest rowid is 2^63-1 picks
        // the next rowid at random, and the two sides would differ.
        static const std::vector<std::string> kEdges = {
            "9223372036854775000", "-9223372036854775808", "2147483648",
            "-2147483649",         "4294967296",           "281474976710656",
            "0",                   "-1"};
        return rng_.Pick(kEdges);
      }
      case 1:
        return std::to_string(-rng_.Range(1, 1000));
      case 2:
        return std::to_string(rng_.Range(1000, 100000000));
      default:
        return std::to_string(rng_.Range(0, 40));
    }
  }

  std::string RealLiteral() {
    char buf[64];
    double v;
    switch (rng_.Uniform(6)) {
      case 0: v = rng_.Range(-100, 100) / 8.0; break;
      case 1: v = rng_.Range(1, 1000) / 10.0; break;  // inexact in binary
      case 2: v = 1e15 + rng_.Range(0, 9) + 0.5; break;
      case 3: v = -rng_.Range(1, 100) * 1.0e-7; break;
      case 4: v = rng_.Range(1, 9) * 1.0e300; break;
      default: v = rng_.Range(0, 40) + 0.25; break;
    }
    snprintf(buf, sizeof(buf), "%.17g", v);
    std::string s = buf;
    if (s.find_first_of(".en") == std::string::npos) s += ".0";
    return s;
  }

  std::string TextLiteral(bool large) {
    static const std::vector<std::string> kWords = {
        "larix", "pine", "tree", "page", "commit", "branch", "merge",
        "élan", "日本語", "🌲", "O'Brien", "", "  ", "a\tb", "NULL", "0x1F"};
    std::string s;
    if (large) {
      size_t n = rng_.Range(5000, 50000);
      if (rng_.OneIn(2)) {
        while (s.size() < n) s += rng_.Pick(kWords) + ' ';
      } else {
        while (s.size() < n) {
          s += static_cast<char>('a' + rng_.Uniform(26));
        }
      }
    } else {
      switch (rng_.Uniform(4)) {
        case 0: s = "k" + std::to_string(rng_.Range(0, 39)); break;
        case 1: s = rng_.Pick(kWords); break;
        case 2: s = rng_.Pick(kWords) + std::to_string(rng_.Range(0, 9)); break;
        default: {
          int n = rng_.Range(0, 60);
          for (int i = 0; i < n; i++) {
            s += static_cast<char>(' ' + rng_.Uniform(95));
          }
        }
      }
    }
    std::string out = "'";
    for (char c : s) {
      if (c == '\'') out += '\'';
      out += c;
    }
    return out + "'";
  }

  std::string BlobLiteral(bool large) {
    size_t n = large ? rng_.Range(5000, 50000) : rng_.Range(0, 24);
    std::string bytes(n, '\0');
    bool pattern = large && rng_.OneIn(2);
    for (size_t i = 0; i < n; i++) {
      bytes[i] = static_cast<char>(pattern ? (i * 7) % 13 : rng_.Next());
    }
    std::string out = "X'";
    AppendHex(reinterpret_cast<const unsigned char*>(bytes.data()), n, &out);
    return out + "'";
  }

  // A large value as an expression, cheap to send.
  std::string LargeExpression() {
    int n = rng_.Range(5000, 50000);
    if (rng_.OneIn(2)) return "zeroblob(" + std::to_string(n) + ")";
    return "replace(hex(zeroblob(" + std::to_string(n / 2) + ")), '00', '" +
           std::string(1, static_cast<char>('a' + rng_.Uniform(26))) + "z')";
  }

  bool Large() { return rng_.Percent(large_percent_); }

  // A value of any storage class.
  std::string AnyLiteral() {
    switch (rng_.Uniform(5)) {
      case 0: return IntLiteral();
      case 1: return RealLiteral();
      case 2: return TextLiteral(Large());
      case 3: return BlobLiteral(Large());
      default: return "NULL";
    }
  }

  // A value for `col`: usually of its affinity, sometimes of another
  // storage class (legal in SQLite, an error in STRICT tables), sometimes
  // NULL.  Key columns draw from small domains so that keys collide.
  std::string ValueFor(const ColumnInfo& col, bool literal_only = false) {
    if (rng_.Percent(col.notnull ? 1 : 7)) return "NULL";
    if (col.pk) {
      if (AffinityOf(col.type) == Affinity::kText || rng_.OneIn(8)) {
        return "'k" + std::to_string(rng_.Range(0, 59)) + "'";
      }
      return std::to_string(rng_.Range(0, 59));
    }
    if (rng_.Percent(8)) return AnyLiteral();
    switch (AffinityOf(col.type)) {
      case Affinity::kInteger: return IntLiteral();
      case Affinity::kReal: return RealLiteral();
      case Affinity::kText:
        if (!literal_only && Large() && rng_.OneIn(4)) return LargeExpression();
        return TextLiteral(Large());
      case Affinity::kBlob:
        if (!literal_only && Large() && rng_.OneIn(4)) return LargeExpression();
        return rng_.OneIn(3) ? AnyLiteral() : BlobLiteral(Large());
      case Affinity::kNumeric:
        return rng_.OneIn(2) ? IntLiteral() : RealLiteral();
    }
    return "NULL";
  }

  // A small value to compare `col` with in a WHERE clause.
  std::string ProbeFor(const ColumnInfo& col) {
    switch (AffinityOf(col.type)) {
      case Affinity::kText:
        return "'k" + std::to_string(rng_.Range(0, 39)) + "'";
      case Affinity::kReal:
        return std::to_string(rng_.Range(-10, 40)) + ".5";
      default:
        return std::to_string(rng_.Range(-5, 45));
    }
  }

  // --- names --------------------------------------------------------------

  std::string NewName(const char* prefix) {
    std::string name = prefix + std::to_string(++name_counter_);
    if (rng_.OneIn(15)) name += rng_.OneIn(2) ? " x" : "_ä";
    return name;
  }

  const TableInfo& AnyTable() { return rng_.Pick(schema_.tables); }
  const ColumnInfo& AnyColumn(const TableInfo& t) {
    return rng_.Pick(t.columns);
  }

  // A column that is unique in `t` (for joins that must stay small): the
  // rowid, or the first key column of a WITHOUT ROWID table (unique when
  // the key has one column; a composite key's first column at least
  // spreads the rows).
  static std::string UniqueKey(const TableInfo& t) {
    if (t.has_rowid()) return "rowid";
    return Quote(t.PrimaryKey()[0]->name);
  }

  // "(SELECT * FROM t ORDER BY <key> LIMIT n)", with the rowid kept.
  static std::string FirstRows(const TableInfo& t, int n) {
    std::string key;
    if (t.has_rowid()) {
      key = "rowid";
    } else {
      for (const ColumnInfo* c : t.PrimaryKey()) {
        key += (key.empty() ? "" : ", ") + Quote(c->name);
      }
    }
    return std::string("(SELECT ") + (t.has_rowid() ? "rowid, " : "") +
           "* FROM " + Quote(t.name) + " ORDER BY " + key + " LIMIT " +
           std::to_string(n) + ")";
  }

  // --- predicates and expressions ---------------------------------------

  std::string Term(const TableInfo& t, const std::string& qual) {
    const ColumnInfo& c = AnyColumn(t);
    std::string col = qual + Quote(c.name);
    switch (rng_.Uniform(10)) {
      case 0: return col + " = " + ProbeFor(c);
      case 1: return col + " < " + ProbeFor(c);
      case 2: return col + " >= " + ProbeFor(c);
      case 3:
        return col + " BETWEEN " + ProbeFor(c) + " AND " + ProbeFor(c);
      case 4: return col + (rng_.OneIn(2) ? " IS NULL" : " IS NOT NULL");
      case 5:
        return col + " IN (" + ProbeFor(c) + ", " + ProbeFor(c) + ", " +
               ProbeFor(c) + ")";
      case 6:
        if (t.has_rowid()) {
          return qual + "rowid % " + std::to_string(rng_.Range(2, 5)) +
                 " = " + std::to_string(rng_.Range(0, 1));
        }
        return col + " <> " + ProbeFor(c);
      case 7:
        return "length(" + col + ") > " +
               std::to_string(rng_.Pick(std::vector<int>{0, 3, 10, 1000}));
      case 8:
        return "typeof(" + col + ") = '" +
               rng_.Pick(std::vector<std::string>{"integer", "real", "text",
                                                  "blob", "null"}) +
               "'";
      default:
        return col + " LIKE 'k" + std::to_string(rng_.Range(0, 5)) + "%'";
    }
  }

  std::string Predicate(const TableInfo& t, const std::string& qual = "") {
    std::string p = Term(t, qual);
    if (rng_.OneIn(3)) {
      p = "(" + p + (rng_.OneIn(2) ? " AND " : " OR ") + Term(t, qual) + ")";
    }
    if (rng_.OneIn(10)) p = "NOT " + p;
    return p;
  }

  // A new value for `col` in an UPDATE: a literal or an expression over
  // the row.
  std::string SetExpression(const TableInfo& t, const ColumnInfo& col) {
    std::string c = Quote(col.name);
    switch (rng_.Uniform(12)) {
      case 0: return c + " + 1";
      case 1: return c + " || 'x'";
      case 2: return "-" + c;
      case 3: return Quote(AnyColumn(t).name);
      case 4: return "CASE WHEN " + c + " IS NULL THEN " + ValueFor(col) +
                     " ELSE " + c + " END";
      case 5: return "upper(" + c + ")";
      case 6: return "substr(" + c + ", 2)";
      case 7: return Large() ? LargeExpression() : "NULL";
      default: return ValueFor(col);
    }
  }

  std::string ConflictClause(int percent) {
    if (!rng_.Percent(percent)) return "";
    static const std::vector<std::string> kClauses = {
        "OR REPLACE ", "OR IGNORE ", "OR ABORT ", "OR FAIL ", "OR REPLACE ",
        "OR IGNORE ", "OR ROLLBACK "};
    return rng_.Pick(kClauses);
  }

  std::string Returning(const TableInfo& t) {
    if (!rng_.OneIn(10)) return "";
    if (t.has_rowid() && rng_.OneIn(2)) return " RETURNING rowid";
    return " RETURNING *";
  }

  // --- statements ---------------------------------------------------------

  Statement Choose() {
    const SchemaModel& s = schema_;
    // Triggers can make one UPDATE double a table; keep tables small
    // enough that every statement stays cheap.
    // If a trigger made the last trim fail, drop a trigger first.
    if (trim_failed_ && !s.triggers.empty()) {
      trim_failed_ = false;
      return DropTrigger();
    }
    for (const TableInfo& t : s.tables) {
      if (t.rows > kMaxRows && rng_.OneIn(2)) {
        std::string key;
        if (t.has_rowid()) {
          key = "rowid";
        } else {
          for (const ColumnInfo* c : t.PrimaryKey()) {
            key += (key.empty() ? "" : ", ") + Quote(c->name);
          }
        }
        return {"DELETE FROM " + Quote(t.name) + " WHERE (" + key +
                    ") NOT IN (SELECT " + key + " FROM " + Quote(t.name) +
                    " ORDER BY " + key + " LIMIT " +
                    std::to_string(kMaxRows / 2) + ")",
                "delete_trim"};
      }
    }
    bool any = !s.tables.empty();
    bool many_rows = s.total_rows > 400;
    bool broken = !broken_.empty();
    struct Option {
      int weight;
      Statement (WorkloadGenerator::*make)();
    };
    int d = ddl_weight_, x = txn_weight_;
    std::vector<Option> options = {
        {s.tables.size() < 6 ? (any ? 2 * d : 100) : 0,
         &WorkloadGenerator::CreateTable},
        {any ? 3 * d : 0, &WorkloadGenerator::CreateIndex},
        {s.indexes.empty() ? 0 : d, &WorkloadGenerator::DropIndex},
        {s.tables.size() >= 3 ? d : 0, &WorkloadGenerator::DropTable},
        {any && s.views.size() < 3 ? d : 0, &WorkloadGenerator::CreateView},
        {s.views.empty() ? 0 : (broken ? 20 : 1),
         &WorkloadGenerator::DropView},
        {any && s.triggers.size() < 4 ? d : 0,
         &WorkloadGenerator::CreateTrigger},
        {s.triggers.empty() ? 0 : (broken ? 20 : 1),
         &WorkloadGenerator::DropTrigger},
        {any ? 4 * d : 0, &WorkloadGenerator::AlterTable},
        {any ? (many_rows ? 15 : 35) : 0, &WorkloadGenerator::Insert},
        {any ? 8 : 0, &WorkloadGenerator::Upsert},
        {any ? 14 : 0, &WorkloadGenerator::Update},
        {any ? (many_rows ? 25 : 7) : 0, &WorkloadGenerator::Delete},
        {any ? 25 : 0, &WorkloadGenerator::Query},
        {in_txn_ ? 0 : 4 * x, &WorkloadGenerator::Begin},
        {in_txn_ ? 5 * x : 0, &WorkloadGenerator::Commit},
        {in_txn_ ? 2 * x : 0, &WorkloadGenerator::Rollback},
        {2 * x, &WorkloadGenerator::Savepoint},
        {savepoints_.empty() ? 0 : 2 * x, &WorkloadGenerator::Release},
        {savepoints_.empty() ? 0 : 2 * x, &WorkloadGenerator::RollbackTo},
        {any ? (in_txn_ ? 1 : 3) : 0, &WorkloadGenerator::Maintenance},
    };
    int total = 0;
    for (auto& o : options) total += o.weight;
    int pick = static_cast<int>(rng_.Uniform(total));
    for (auto& o : options) {
      if (pick < o.weight) return (this->*o.make)();
      pick -= o.weight;
    }
    return Query();
  }

  Statement CreateTable() {
    std::string name = NewName("t");
    if (!schema_.tables.empty() && rng_.OneIn(10)) {
      const TableInfo& src = AnyTable();
      return {"CREATE TABLE " + Quote(name) + " AS SELECT * FROM " +
                  Quote(src.name) + " WHERE " + Predicate(src),
              "create_table_as"};
    }
    bool strict = rng_.OneIn(6);
    int shape = static_cast<int>(rng_.Uniform(5));
    // 0: plain rowid table, 1: INTEGER PRIMARY KEY, 2: the same with
    // AUTOINCREMENT, 3: composite key, 4: WITHOUT ROWID.
    static const std::vector<std::string> kTypes = {
        "INTEGER", "REAL", "TEXT", "BLOB", "", "NUMERIC", "VARCHAR(20)", "INT"};
    static const std::vector<std::string> kStrictTypes = {
        "INTEGER", "INT", "REAL", "TEXT", "BLOB", "ANY"};
    std::vector<std::string> defs;
    std::vector<std::string> names;
    std::vector<std::string> types;
    if (shape == 1 || shape == 2) {
      names.push_back(NewName("id"));
      types.push_back("INTEGER");
      defs.push_back(Quote(names.back()) + " INTEGER PRIMARY KEY" +
                     (shape == 2 ? " AUTOINCREMENT" : ""));
    }
    int ncols = rng_.Range(2, 6);
    for (int i = 0; i < ncols; i++) {
      std::string col = NewName("c");
      std::string type = strict ? rng_.Pick(kStrictTypes) : rng_.Pick(kTypes);
      std::string def = Quote(col) + (type.empty() ? "" : " " + type);
      ColumnInfo info{col, type};
      if (rng_.OneIn(10)) {
        def += " NOT NULL DEFAULT (" + ValueFor(info) + ")";
      } else if (rng_.OneIn(6)) {
        def += " DEFAULT (" + ValueFor(info) + ")";
      }
      if (rng_.OneIn(12)) def += " UNIQUE";
      if (rng_.OneIn(12)) {
        def += " CHECK (" + Quote(col) + " IS NULL OR length(" + Quote(col) +
               ") < 40000)";
      }
      if (AffinityOf(type) == Affinity::kText && rng_.OneIn(8)) {
        def += " COLLATE NOCASE";
      }
      names.push_back(col);
      types.push_back(type);
      defs.push_back(def);
    }
    if (!strict && rng_.OneIn(8)) {
      const std::string& base = names.back();
      defs.push_back(Quote(NewName("g")) + " AS (" + Quote(base) + " || '" +
                     "+') " + (rng_.OneIn(2) ? "STORED" : "VIRTUAL"));
    }
    if (shape == 3 || shape == 4) {
      size_t first = rng_.Uniform(names.size());
      int nkey = rng_.Range(1, 2);
      std::string key;
      for (int k = 0; k < nkey; k++) {
        if (k) key += ", ";
        key += Quote(names[(first + k) % names.size()]);
      }
      defs.push_back("PRIMARY KEY (" + key + ")");
    }
    std::string sql = "CREATE TABLE " +
                      std::string(rng_.OneIn(10) ? "IF NOT EXISTS " : "") +
                      Quote(name) + " (";
    for (size_t i = 0; i < defs.size(); i++) sql += (i ? ", " : "") + defs[i];
    sql += ")";
    std::vector<std::string> options;
    if (shape == 4) options.push_back("WITHOUT ROWID");
    if (strict) options.push_back("STRICT");
    for (size_t i = 0; i < options.size(); i++) {
      sql += (i ? ", " : " ") + options[i];
    }
    return {sql, shape == 4 ? "create_table_without_rowid" : "create_table"};
  }

  Statement CreateIndex() {
    const TableInfo& t = AnyTable();
    bool unique = rng_.OneIn(4);
    std::string sql = std::string("CREATE ") + (unique ? "UNIQUE " : "") +
                      "INDEX " + (rng_.OneIn(10) ? "IF NOT EXISTS " : "") +
                      Quote(NewName("i")) + " ON " + Quote(t.name) + " (";
    int n = rng_.Range(1, 3);
    std::string kind = "create_index";
    for (int i = 0; i < n; i++) {
      if (i) sql += ", ";
      std::string c = Quote(AnyColumn(t).name);
      switch (rng_.Uniform(8)) {
        case 0: sql += "(" + c + " + 1)"; kind = "create_index_expr"; break;
        case 1: sql += "lower(" + c + ")"; kind = "create_index_expr"; break;
        case 2: sql += "length(" + c + ")"; kind = "create_index_expr"; break;
        case 3: sql += c + " DESC"; break;
        case 4: sql += c + " COLLATE NOCASE"; break;
        default: sql += c;
      }
    }
    sql += ")";
    if (rng_.OneIn(3)) {
      sql += " WHERE " + Predicate(t);
      kind = "create_index_partial";
    }
    if (unique && kind == "create_index") kind = "create_index_unique";
    return {sql, kind};
  }

  Statement DropIndex() {
    return {"DROP INDEX " + std::string(rng_.OneIn(5) ? "IF EXISTS " : "") +
                Quote(rng_.Pick(schema_.indexes)),
            "drop_index"};
  }

  Statement DropTable() {
    if (rng_.OneIn(15)) return {"DROP TABLE \"no such table\"", "drop_table"};
    return {"DROP TABLE " + std::string(rng_.OneIn(5) ? "IF EXISTS " : "") +
                Quote(AnyTable().name),
            "drop_table"};
  }

  Statement CreateView() {
    const TableInfo& t = AnyTable();
    std::string name = Quote(NewName("v"));
    std::string body;
    switch (rng_.Uniform(3)) {
      case 0: {
        // Joined on a unique key of `a`, so the view has at most as many
        // rows as `b`.
        const TableInfo& u = AnyTable();
        body = "SELECT a." + Quote(AnyColumn(t).name) + " AS x, b." +
               Quote(AnyColumn(u).name) + " AS y FROM " + Quote(t.name) +
               " AS a JOIN " + Quote(u.name) + " AS b ON a." + UniqueKey(t) +
               " = b." + Quote(AnyColumn(u).name);
        break;
      }
      case 1: {
        std::string c = Quote(AnyColumn(t).name);
        body = "SELECT " + c + " AS g, count(*) AS n, max(" +
               Quote(AnyColumn(t).name) + ") AS m FROM " + Quote(t.name) +
               " GROUP BY " + c;
        break;
      }
      default:
        body = "SELECT * FROM " + Quote(t.name) + " WHERE " + Predicate(t);
    }
    return {"CREATE VIEW " + name + " AS " + body, "create_view"};
  }

  Statement DropView() {
    std::string name;
    for (const auto& v : schema_.views) {
      if (broken_.count(v.name) || v.columns == 0) name = v.name;
    }
    if (name.empty()) name = rng_.Pick(schema_.views).name;
    return {"DROP VIEW " + Quote(name), "drop_view"};
  }

  Statement CreateTrigger() {
    const TableInfo& t = AnyTable();
    const TableInfo& u = AnyTable();
    static const std::vector<std::string> kEvents = {"INSERT", "UPDATE",
                                                     "DELETE"};
    std::string event = rng_.Pick(kEvents);
    std::string row = event == "DELETE" ? "old." : "new.";
    bool before = rng_.OneIn(3);
    std::string sql = "CREATE TRIGGER " + Quote(NewName("tr")) +
                      (before ? " BEFORE " : " AFTER ") + event;
    if (event == "UPDATE" && rng_.OneIn(2)) {
      sql += " OF " + Quote(AnyColumn(t).name);
    }
    sql += " ON " + Quote(t.name);
    bool raise = rng_.OneIn(4);
    if (raise || rng_.OneIn(3)) {
      const ColumnInfo& c = AnyColumn(t);
      sql += " WHEN " + row + Quote(c.name) + " = " + ProbeFor(c);
    }
    sql += " BEGIN ";
    auto ref = [&](const ColumnInfo& target) {
      return rng_.OneIn(4) ? ValueFor(target)
                           : row + Quote(AnyColumn(t).name);
    };
    if (raise) {
      sql += rng_.OneIn(2) ? "SELECT RAISE(ABORT, 'rejected by trigger'); "
                           : "SELECT RAISE(IGNORE); ";
    } else {
      int n = rng_.Range(1, 2);
      for (int i = 0; i < n; i++) {
        auto cols = u.Writable();
        const ColumnInfo& a = *rng_.Pick(cols);
        const ColumnInfo& b = *rng_.Pick(cols);
        switch (rng_.Uniform(3)) {
          case 0:
            sql += "INSERT OR IGNORE INTO " + Quote(u.name) + " (" +
                   Quote(a.name) + ") VALUES (" + ref(a) + "); ";
            break;
          case 1:
            sql += "UPDATE OR IGNORE " + Quote(u.name) + " SET " +
                   Quote(a.name) + " = " + ref(a) + " WHERE " + Quote(b.name) +
                   " = " + ref(b) + "; ";
            break;
          default:
            sql += "DELETE FROM " + Quote(u.name) + " WHERE " + Quote(a.name) +
                   " = " + ref(a) + "; ";
        }
      }
    }
    return {sql + "END", "create_trigger"};
  }

  Statement DropTrigger() {
    std::string name;
    for (const auto& t : schema_.triggers) {
      if (broken_.count(t)) name = t;
    }
    if (name.empty()) name = rng_.Pick(schema_.triggers);
    return {"DROP TRIGGER " + Quote(name), "drop_trigger"};
  }

  Statement AlterTable() {
    const TableInfo& t = AnyTable();
    std::string head = "ALTER TABLE " + Quote(t.name) + " ";
    switch (rng_.Uniform(4)) {
      case 0: {
        std::string col = NewName("c");
        static const std::vector<std::string> kAddTypes = {
            "INTEGER", "TEXT", "BLOB", "", "REAL"};
        std::string type = t.strict ? "TEXT" : rng_.Pick(kAddTypes);
        std::string def = Quote(col) + (type.empty() ? "" : " " + type);
        ColumnInfo info{col, type};
        switch (rng_.Uniform(6)) {
          case 0: def += " NOT NULL DEFAULT " + ValueFor(info, true); break;
          case 1: def += " DEFAULT " + ValueFor(info, true); break;
          case 2:
            if (!t.strict) {
              def += " AS (" + Quote(AnyColumn(t).name) + " || 'g') VIRTUAL";
            }
            break;
          case 3:
            if (rng_.OneIn(3)) def += " UNIQUE";  // an error, on purpose
            break;
          default: break;
        }
        return {head + "ADD COLUMN " + def, "alter_add_column"};
      }
      case 1:
        return {head + "RENAME TO " + Quote(NewName("t")),
                "alter_rename_table"};
      case 2:
        return {head + "RENAME COLUMN " + Quote(AnyColumn(t).name) + " TO " +
                    Quote(NewName("c")),
                "alter_rename_column"};
      default:
        return {head + "DROP COLUMN " + Quote(AnyColumn(t).name),
                "alter_drop_column"};
    }
  }

  // The column list and one VALUES row for an INSERT into `t`.
  std::string ValuesRow(const std::vector<const ColumnInfo*>& cols,
                        const TableInfo& t) {
    std::string row = "(";
    bool ipk = !t.without_rowid && t.PrimaryKey().size() == 1;
    for (size_t i = 0; i < cols.size(); i++) {
      if (i) row += ", ";
      const ColumnInfo& c = *cols[i];
      if (ipk && c.pk && c.type == "INTEGER" && rng_.OneIn(2)) {
        row += "NULL";  // a fresh rowid
      } else {
        row += ValueFor(c);
      }
    }
    return row + ")";
  }

  std::vector<const ColumnInfo*> InsertColumns(const TableInfo& t) {
    std::vector<const ColumnInfo*> cols = t.Writable();
    if (rng_.OneIn(4) && cols.size() > 1) {
      // A subset: the others take their defaults.
      std::vector<const ColumnInfo*> subset;
      for (auto* c : cols) {
        if (c->pk || rng_.OneIn(2)) subset.push_back(c);
      }
      if (!subset.empty()) cols = subset;
    }
    return cols;
  }

  static std::string ColumnList(const std::vector<const ColumnInfo*>& cols) {
    std::string out = "(";
    for (size_t i = 0; i < cols.size(); i++) {
      out += (i ? ", " : "") + Quote(cols[i]->name);
    }
    return out + ")";
  }

  Statement Insert() {
    const TableInfo& t = AnyTable();
    if (rng_.OneIn(30)) {
      return {"INSERT INTO " + Quote(t.name) + " DEFAULT VALUES", "insert"};
    }
    if (rng_.OneIn(8) && schema_.tables.size() > 1) {
      const TableInfo& src = AnyTable();
      auto cols = InsertColumns(t);
      std::string select;
      for (size_t i = 0; i < cols.size(); i++) {
        select += (i ? ", " : "") + Quote(AnyColumn(src).name);
      }
      return {"INSERT " + ConflictClause(60) + "INTO " + Quote(t.name) + " " +
                  ColumnList(cols) + " SELECT " + select + " FROM " +
                  Quote(src.name) + " WHERE " + Predicate(src) +
                  " ORDER BY 1 LIMIT " + std::to_string(rng_.Range(1, 20)),
              "insert_select"};
    }
    auto cols = InsertColumns(t);
    std::string verb =
        rng_.OneIn(12) ? "REPLACE " : "INSERT " + ConflictClause(35);
    std::string sql = verb + "INTO " + Quote(t.name) + " " + ColumnList(cols) +
                      " VALUES ";
    int n = rng_.Range(1, 4);
    for (int i = 0; i < n; i++) sql += (i ? ", " : "") + ValuesRow(cols, t);
    return {sql + Returning(t), "insert"};
  }

  Statement Upsert() {
    const TableInfo& t = AnyTable();
    auto key = t.PrimaryKey();
    auto cols = t.Writable();
    std::string sql = "INSERT INTO " + Quote(t.name) + " " + ColumnList(cols) +
                      " VALUES " + ValuesRow(cols, t);
    if (key.empty() || rng_.OneIn(4)) {
      return {sql + " ON CONFLICT DO NOTHING" + Returning(t), "upsert"};
    }
    std::string target;
    for (size_t i = 0; i < key.size(); i++) {
      target += (i ? ", " : "") + Quote(key[i]->name);
    }
    const ColumnInfo& c = *rng_.Pick(cols);
    sql += " ON CONFLICT (" + target + ") DO UPDATE SET " + Quote(c.name) +
           " = " + (rng_.OneIn(2) ? "excluded." + Quote(c.name)
                                  : SetExpression(t, c));
    if (rng_.OneIn(3)) sql += " WHERE " + Predicate(t);
    return {sql + Returning(t), "upsert"};
  }

  Statement Update() {
    const TableInfo& t = AnyTable();
    auto cols = t.Writable();
    std::string sql = "UPDATE " + ConflictClause(20) + Quote(t.name) + " SET ";
    int n = rng_.Range(1, 2);
    std::set<std::string> used;
    for (int i = 0; i < n; i++) {
      const ColumnInfo& c = *rng_.Pick(cols);
      if (!used.insert(c.name).second) continue;
      sql += (i ? ", " : "") + Quote(c.name) + " = " + SetExpression(t, c);
    }
    if (rng_.OneIn(10) && schema_.tables.size() > 1) {
      const TableInfo& u = AnyTable();
      if (u.name != t.name) {
        return {"UPDATE " + Quote(t.name) + " SET " +
                    Quote(rng_.Pick(cols)->name) + " = s." +
                    Quote(AnyColumn(u).name) + " FROM " + Quote(u.name) +
                    " AS s WHERE " + Quote(t.name) + "." +
                    Quote(AnyColumn(t).name) + " = s." +
                    Quote(AnyColumn(u).name),
                "update_from"};
      }
    }
    if (!rng_.OneIn(12)) sql += " WHERE " + Predicate(t);
    return {sql + Returning(t), "update"};
  }

  Statement Delete() {
    const TableInfo& t = AnyTable();
    std::string sql = "DELETE FROM " + Quote(t.name);
    if (!rng_.OneIn(15)) sql += " WHERE " + Predicate(t);
    return {sql + Returning(t), "delete"};
  }

  Statement Query() {
    if (schema_.tables.empty()) {
      return {"SELECT 1, 2.5, 'x', X'00', NULL", "query_constant"};
    }
    const TableInfo& t = AnyTable();
    std::string from = Quote(t.name);
    int ncols = static_cast<int>(t.columns.size());
    switch (rng_.Uniform(13)) {
      case 0:
        if (t.has_rowid()) {
          return {"SELECT rowid, * FROM " + from + " ORDER BY " +
                      Positions(ncols + 1),
                  "query_scan"};
        }
        return {"SELECT * FROM " + from + " ORDER BY " + Positions(ncols),
                "query_scan"};
      case 1:
      case 2: {
        int n = rng_.Range(1, 3);
        std::string cols;
        for (int i = 0; i < n; i++) {
          cols += (i ? ", " : "") + Quote(AnyColumn(t).name);
        }
        std::string sql = "SELECT " + cols + " FROM " + from + " WHERE " +
                          Predicate(t) + " ORDER BY " + Positions(n);
        if (rng_.OneIn(3)) {
          sql += " LIMIT " + std::to_string(rng_.Range(1, 10)) + " OFFSET " +
                 std::to_string(rng_.Range(0, 5));
        }
        return {sql, "query_filter"};
      }
      case 3: {
        std::string c = Quote(AnyColumn(t).name);
        std::string sql = "SELECT count(*), count(" + c + "), sum(" + c +
                          "), total(" + c + "), min(" + c + "), max(" + c +
                          "), avg(" + c + ") FROM " + from;
        if (rng_.OneIn(2)) sql += " WHERE " + Predicate(t);
        return {sql, "query_aggregate"};
      }
      case 4: {
        std::string g = Quote(AnyColumn(t).name);
        std::string m = Quote(AnyColumn(t).name);
        std::string sql = "SELECT " + g + ", count(*), min(" + m + "), max(" +
                          m + ") FROM " + from + " GROUP BY " + g;
        if (rng_.OneIn(3)) sql += " HAVING count(*) > 1";
        return {sql + " ORDER BY 1, 2, 3, 4", "query_group_by"};
      }
      case 5:
      case 6: {
        // Joins stay small however the tables grow: either on a unique key
        // of `a`, or on any columns of the first 60 rows of each side;
        // and they return 64-byte prefixes of the values.
        const TableInfo& u = AnyTable();
        bool keyed = rng_.OneIn(2);
        std::string left = keyed ? from : FirstRows(t, 60);
        std::string right = keyed ? Quote(u.name) : FirstRows(u, 60);
        std::string on =
            "a." + (keyed ? UniqueKey(t) : Quote(AnyColumn(t).name));
        std::string sql =
            "SELECT substr(a." + Quote(AnyColumn(t).name) + ", 1, 64), " +
            "substr(b." + Quote(AnyColumn(u).name) + ", 1, 64), a." +
            UniqueKey(t) + " FROM " + left + " AS a " +
            (rng_.OneIn(3) ? "LEFT " : "") + "JOIN " + right + " AS b ON " +
            on + " = b." + Quote(AnyColumn(u).name);
        if (rng_.OneIn(2)) sql += " WHERE " + Predicate(t, "a.");
        return {sql + " ORDER BY 1, 2, 3", "query_join"};
      }
      case 7: {
        std::string c = Quote(AnyColumn(t).name);
        std::string key = UniqueKey(t);
        return {"SELECT " + key + ", length(" + c + "), typeof(" + c +
                    "), hex(substr(" + c + ", 1, 8)), hex(substr(" + c +
                    ", -8)) FROM " + from + " ORDER BY 1, 2, 3, 4, 5",
                "query_large"};
      }
      case 8: {
        std::string p = Quote(AnyColumn(t).name);
        std::string o = Quote(AnyColumn(t).name);
        return {"SELECT " + p + ", " + o + ", sum(length(" + o +
                    ")) OVER (PARTITION BY " + p + "), rank() OVER (ORDER BY " +
                    o + ") FROM " + from + " ORDER BY 1, 2, 3, 4",
                "query_window"};
      }
      case 9: {
        const TableInfo& u = AnyTable();
        return {"SELECT count(*) FROM " + from + " WHERE " +
                    Quote(AnyColumn(t).name) + " IN (SELECT " +
                    Quote(AnyColumn(u).name) + " FROM " + Quote(u.name) +
                    ") OR EXISTS (SELECT 1 FROM " + Quote(u.name) + " WHERE " +
                    Predicate(u) + ")",
                "query_subquery"};
      }
      case 10: {
        std::string c = Quote(AnyColumn(t).name);
        return {"WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 "
                "FROM seq WHERE n < 40) SELECT n, (SELECT count(*) FROM " +
                    from + " WHERE " + c + " = n) FROM seq ORDER BY 1",
                "query_cte"};
      }
      case 11:
        if (!schema_.views.empty()) {
          const ViewInfo& v = rng_.Pick(schema_.views);
          return {"SELECT * FROM " + Quote(v.name) +
                      (v.columns ? " ORDER BY " + Positions(v.columns) : ""),
                  "query_view"};
        }
        return {"SELECT count(*) FROM " + from, "query_count"};
      default:
        switch (rng_.Uniform(3)) {
          case 0:
            return {"SELECT type, name, tbl_name, sql FROM sqlite_schema "
                    "ORDER BY 1, 2",
                    "query_schema"};
          case 1: return {"PRAGMA page_count", "query_page_count"};
          default: return {"PRAGMA freelist_count", "query_freelist"};
        }
    }
  }

  Statement Begin() {
    static const std::vector<std::string> kBegins = {
        "BEGIN", "BEGIN DEFERRED", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE",
        "BEGIN TRANSACTION"};
    return {rng_.Pick(kBegins), "begin"};
  }
  Statement Commit() {
    return {rng_.OneIn(4) ? "END" : "COMMIT", "commit"};
  }
  Statement Rollback() { return {"ROLLBACK", "rollback"}; }
  Statement Savepoint() {
    // Reusing a name is legal; ROLLBACK TO and RELEASE find the newest.
    pending_name_ = !savepoints_.empty() && rng_.OneIn(5)
                        ? rng_.Pick(savepoints_)
                        : "sp" + std::to_string(rng_.Range(1, 6));
    return {"SAVEPOINT " + pending_name_, "savepoint"};
  }
  Statement Release() {
    pending_name_ = rng_.Pick(savepoints_);
    return {"RELEASE " + std::string(rng_.OneIn(2) ? "SAVEPOINT " : "") +
                pending_name_,
            "release"};
  }
  Statement RollbackTo() {
    pending_name_ = rng_.Pick(savepoints_);
    return {"ROLLBACK TO " + pending_name_, "rollback_to"};
  }
  Statement Maintenance() {
    switch (rng_.Uniform(6)) {
      case 0: return {"ANALYZE", "analyze"};
      case 1: return {"REINDEX", "reindex"};
      case 2: return {"PRAGMA integrity_check", "integrity_check"};
      default: return {"VACUUM", "vacuum"};
    }
  }

  static constexpr int64_t kMaxRows = 1000;

  Random rng_;
  SchemaModel schema_;
  bool in_txn_ = false;
  bool trim_failed_ = false;
  std::vector<std::string> savepoints_;
  std::set<std::string> broken_;  // views/triggers ALTER TABLE complained of
  Statement pending_;
  std::string pending_name_;
  int name_counter_ = 0;
  int large_percent_ = 3;
  int ddl_weight_ = 1;
  int txn_weight_ = 1;
};

// ---------------------------------------------------------------------------
// Dumps.

// Every row of every table (including sqlite_sequence and sqlite_stat*),
// ordered by all columns (rowid first for rowid tables), then
// sqlite_schema without root pages.  Lines are "table: row".
inline Outcome Dump(sqlite3* db) {
  Outcome dump;
  bool ok = false;
  auto tables = QueryText(db,
                          "SELECT name, wr FROM pragma_table_list WHERE "
                          "schema = 'main' AND type = 'table' ORDER BY name",
                          {}, &ok);
  if (!ok) {
    dump.rc = sqlite3_extended_errcode(db);
    dump.error = sqlite3_errmsg(db);
    return dump;
  }
  for (const auto& row : tables) {
    const std::string& name = row[0];
    bool rowid = row[1] == "0" && name.rfind("sqlite_", 0) != 0;
    sqlite3_stmt* probe = nullptr;
    std::string star = "SELECT * FROM " + Quote(name);
    int ncols = 0;
    if (sqlite3_prepare_v2(db, star.c_str(), -1, &probe, nullptr) ==
        SQLITE_OK) {
      ncols = sqlite3_column_count(probe);
    }
    sqlite3_finalize(probe);
    std::string sql = std::string("SELECT ") + (rowid ? "rowid, " : "") +
                      "* FROM " + Quote(name) + " ORDER BY " +
                      Positions(ncols + (rowid ? 1 : 0));
    Outcome t = Run(db, sql);
    if (!t.ok()) {
      t.error = name + ": " + t.error;
      return t;
    }
    dump.rows.push_back("table " + name);
    for (auto& r : t.rows) dump.rows.push_back(name + ": " + r);
  }
  Outcome schema = Run(db,
                       "SELECT type, name, tbl_name, sql FROM sqlite_schema "
                       "ORDER BY type, name");
  if (!schema.ok()) return schema;
  for (auto& r : schema.rows) dump.rows.push_back("schema: " + r);
  return dump;
}

// ---------------------------------------------------------------------------
// The differential runner.

struct DifferentialOptions {
  uint64_t seed = 1;
  int statements = 400;
  // Where the reference file and the store go; default: a fresh directory
  // under the system temp directory, removed on success.
  std::string work_dir;
  bool memory_store = true;       // also run an in-memory Larix store
  bool second_connection = true;  // interleave a reader on every target
  bool reopen = true;             // close, fsck, reopen and dump at the end
  // Test hook, for checking the checker: called before statement `index`
  // of the stream with each Larix target's name and writer connection.
  std::function<void(int index, const std::string& target, sqlite3* writer)>
      tamper;
};

struct DifferentialStats {
  int statements = 0;
  int ok = 0;
  int reader_statements = 0;
  std::map<std::string, int> kinds;     // statements generated, per kind
  std::map<std::string, int> ok_kinds;  // of which succeeded
  std::vector<std::string> notes;       // reference oddities worth a look
  double seconds = 0;
};

namespace internal {

struct Target {
  std::string name;
  sqlite3* writer = nullptr;
  sqlite3* reader = nullptr;
};

inline void CloseAll(std::vector<Target>* targets) {
  for (auto& t : *targets) {
    sqlite3_close(t.reader);
    sqlite3_close(t.writer);
    t.reader = t.writer = nullptr;
  }
}

}  // namespace internal

// Runs one seed.  Returns "" if every target agreed with the reference
// throughout, else a description of the first disagreement (seed,
// statement index, statement, both outcomes, the script's path).
inline std::string RunDifferential(const DifferentialOptions& options,
                                   DifferentialStats* stats) {
  namespace fs = std::filesystem;
  using internal::Target;
  auto start = std::chrono::steady_clock::now();
  static std::atomic<int> counter{0};
  const uint64_t seed = options.seed;
  int run_id = counter++;
  fs::path dir = options.work_dir.empty()
                     ? fs::temp_directory_path() /
                           ("larix_diff_" + std::to_string(getpid()) + "_" +
                            std::to_string(seed) + "_" + std::to_string(run_id))
                     : fs::path(options.work_dir);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  const std::string script_path = (dir / "script.sql").string();
  std::ofstream script(script_path);

  // The profile the seed picks (see the file comment).
  const bool wal = seed % 2 == 0;
  static const int kPageSizes[] = {4096, 1024, 8192, 4096, 512, 65536};
  const int page_size = kPageSizes[(seed / 2) % 6];
  const bool small_cache = seed % 3 == 0;
  script << "-- seed " << seed << ": reference journal_mode="
         << (wal ? "WAL" : "DELETE") << ", page_size=" << page_size
         << (small_cache ? ", cache_size=8" : "") << "\n";

  std::string failure;
  auto fail = [&](const std::string& what) {
    if (failure.empty()) {
      failure = "seed " + std::to_string(seed) + ": " + what +
                "\n  script: " + script_path;
    }
  };

  std::vector<Target> targets;
  const std::string store_path = (dir / "store").string();
  const std::string memory_name = std::string("larix-memory:diff-") +
                                  std::to_string(getpid()) + "-" +
                                  std::to_string(run_id);
  auto open_larix = [&](const std::string& spec, sqlite3** db) {
    Status s = OpenDatabase(spec, {}, db);
    if (!s.ok()) fail("cannot open " + spec + ": " + s.ToString());
    return s.ok();
  };
  auto setup = [&](sqlite3* db, bool reference) {
    std::string sql = "PRAGMA page_size=" + std::to_string(page_size) + ";";
    if (reference) {
      sql += wal ? "PRAGMA journal_mode=WAL;" : "PRAGMA journal_mode=DELETE;";
      sql += "PRAGMA synchronous=OFF;";
    } else {
      sql += "PRAGMA synchronous=NORMAL;";
    }
    if (small_cache) sql += "PRAGMA cache_size=8;";
    // Switching the reference to WAL writes its page 1; a Larix store (like
    // a rollback-journal file) has no page until its first commit, so a
    // second connection's PRAGMA page_count inside the first transaction
    // would differ (seed 7192).  Page 1 is written everywhere first.
    if (wal) sql += "PRAGMA user_version=0;";
    char* msg = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      fail("set-up failed: " + std::string(msg ? msg : "?"));
    }
    sqlite3_free(msg);
  };
  // The second connection asks for the same page size: if it writes
  // first, it creates the database, and a writer whose PRAGMA page_size
  // is still pending would change the page size at its next VACUUM, which
  // Larix refuses (seed 11073).
  auto same_page_size = [&](sqlite3* db) {
    std::string sql = "PRAGMA page_size=" + std::to_string(page_size);
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      fail("set-up of the second connection failed");
    }
  };
  {
    Target ref{"sqlite"};
    std::string file = (dir / "ref.db").string();
    sqlite3_open_v2(file.c_str(), &ref.writer,
                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    setup(ref.writer, true);
    sqlite3_open_v2(file.c_str(), &ref.reader, SQLITE_OPEN_READWRITE, nullptr);
    same_page_size(ref.reader);
    targets.push_back(ref);
    Target disk{"larix-disk"};
    if (open_larix(store_path, &disk.writer)) setup(disk.writer, false);
    if (open_larix(store_path, &disk.reader)) same_page_size(disk.reader);
    targets.push_back(disk);
    if (options.memory_store) {
      Target mem{"larix-mem"};
      if (open_larix(memory_name, &mem.writer)) setup(mem.writer, false);
      if (open_larix(memory_name, &mem.reader)) same_page_size(mem.reader);
      targets.push_back(mem);
    }
  }

  WorkloadGenerator gen(seed);
  // Runs `sql` on every target's writer (or reader) and compares each
  // outcome with the reference's.
  auto run_everywhere = [&](const std::string& sql, bool reader,
                            const std::string& label) -> Outcome {
    std::vector<Outcome> outs;
    for (auto& t : targets) {
      outs.push_back(Run(reader ? t.reader : t.writer, sql));
    }
    for (size_t i = 1; i < targets.size() && failure.empty(); i++) {
      std::string diff = CompareOutcomes(outs[0], outs[i]);
      if (!diff.empty()) {
        fail(label + (reader ? " (second connection)" : "") + ":\n  " +
             Truncated(sql, 1500) + "\n  sqlite vs " + targets[i].name + ": " +
             diff);
      }
    }
    return outs[0];
  };

  // The generator reads the schema back after every statement
  // (ReadSchema), on the reference writer; every other writer runs the
  // same queries at the same moments, so all connections see the same
  // statement sequence (a schema read can itself change what SQLite does
  // next: it reloads a stale schema), and the models must agree.
  auto observe = [&](const Outcome& out, const std::string& label) {
    gen.Observe(targets[0].writer, out);
    std::string expected = Fingerprint(gen.schema());
    for (size_t i = 1; i < targets.size() && failure.empty(); i++) {
      std::string seen = Fingerprint(ReadSchema(targets[i].writer));
      if (seen != expected) {
        fail(label + ": schema read back differs on " + targets[i].name +
             ":\n--- sqlite\n" + Truncated(expected, 3000) + "--- " +
             targets[i].name + "\n" + Truncated(seen, 3000));
      }
    }
  };
  observe(Outcome(), "set-up");
  bool reader_in_txn = false;
  for (int i = 0; i < options.statements && failure.empty(); i++) {
    Statement st = gen.Next();
    if (options.tamper) {
      for (size_t t = 1; t < targets.size(); t++) {
        options.tamper(i, targets[t].name, targets[t].writer);
      }
    }
    script << st.sql << ";" << std::endl;  // flushed: the script must
                                            // survive a hang or a crash
    Outcome out = run_everywhere(
        st.sql, false,
        "statement " + std::to_string(i) + " of " +
            std::to_string(options.statements) + " [" + st.kind + "]");
    stats->statements++;
    stats->kinds[st.kind]++;
    if (out.ok()) {
      stats->ok++;
      stats->ok_kinds[st.kind]++;
    }
    observe(out, "after statement " + std::to_string(i));

    // The second connection.  Mostly it reads while the writer works; when
    // neither connection is inside a transaction it sometimes writes (DML
    // or DDL), and the first connection must then see that commit: its
    // page cache and schema are stale.  A rollback-journal reference
    // cannot read beside an open write transaction (the writer may hold
    // EXCLUSIVE after a cache spill), so with DELETE it acts only between
    // transactions and never holds a read transaction open.
    if (!options.second_connection || !gen.rng().Percent(15)) continue;
    if (!wal && gen.in_transaction()) continue;
    const std::string label =
        "second-connection statement after statement " + std::to_string(i);
    if (!gen.in_transaction() && !reader_in_txn && gen.rng().Percent(30)) {
      Statement w = gen.NextForSecondConnection();
      script << "-- conn2: " << w.sql << std::endl;
      Outcome r = run_everywhere(w.sql, true, label + " [" + w.kind + "]");
      stats->reader_statements++;
      observe(r, label);
      continue;
    }
    std::string sql;
    if (reader_in_txn) {
      sql = gen.rng().Percent(25) ? "COMMIT" : gen.NextQuery().sql;
    } else {
      sql = wal && gen.rng().Percent(25) ? "BEGIN" : gen.NextQuery().sql;
    }
    script << "-- conn2: " << sql << std::endl;
    Outcome r = run_everywhere(sql, true, label);
    stats->reader_statements++;
    reader_in_txn = !r.autocommit;
  }

  // Settle: finish open transactions the same way everywhere.
  if (failure.empty() && gen.in_transaction()) {
    script << "COMMIT;\n";
    Outcome out = run_everywhere("COMMIT", false, "final COMMIT");
    if (!out.autocommit) {
      script << "ROLLBACK;\n";
      run_everywhere("ROLLBACK", false, "final ROLLBACK");
    }
  }
  if (failure.empty() && reader_in_txn) {
    run_everywhere("COMMIT", true, "final reader COMMIT");
  }
  script.flush();

  // Dumps through every connection, and integrity checks.  Larix's
  // integrity_check must say what the reference's says: normally "ok",
  // but stock SQLite 3.40 has false positives of its own (a WITHOUT ROWID
  // table with a NOT NULL column before its key reports "NULL value in
  // t.c" for every row), which a page-for-page copy must reproduce.
  Outcome reference = Dump(targets[0].writer);
  if (failure.empty() && !reference.ok()) {
    fail("cannot dump the reference: " + reference.error);
  }
  const Outcome reference_check =
      ResultOnly(Run(targets[0].writer, "PRAGMA integrity_check"));
  if (reference_check.rows != std::vector<std::string>{"t2:ok"}) {
    stats->notes.push_back("seed " + std::to_string(seed) +
                           ": stock SQLite's integrity_check says " +
                           Truncated(reference_check.rows.empty()
                                         ? reference_check.error
                                         : reference_check.rows[0],
                                     200));
  }
  auto check_integrity = [&](sqlite3* db, const std::string& who) {
    std::string diff =
        CompareOutcomes(reference_check,
                        ResultOnly(Run(db, "PRAGMA integrity_check")));
    if (!diff.empty()) fail("integrity_check on " + who + ": " + diff);
  };
  for (size_t i = 0; i < targets.size() && failure.empty(); i++) {
    for (bool reader : {false, true}) {
      sqlite3* db = reader ? targets[i].reader : targets[i].writer;
      std::string who =
          targets[i].name + (reader ? " (second connection)" : "");
      if (i == 0 && !reader) continue;
      std::string diff = CompareOutcomes(reference, Dump(db));
      if (!diff.empty()) fail("final dump of " + who + ": " + diff);
      check_integrity(db, who);
    }
  }

  // Persistence: the on-disk store, closed, checked and reopened.
  sqlite3_close(targets[1].reader);
  sqlite3_close(targets[1].writer);
  targets[1].reader = targets[1].writer = nullptr;
  if (options.reopen && failure.empty()) {
    {
      std::unique_ptr<Store> store;
      Status s = Store::Open(store_path, {}, &store);
      FsckReport report;
      if (s.ok()) s = store->Fsck(&report);
      if (!s.ok()) {
        fail("fsck could not run: " + s.ToString());
      } else if (!report.ok()) {
        fail("fsck: " + report.problems[0].where + ": " +
             report.problems[0].what);
      }
    }
    sqlite3* db = nullptr;
    if (failure.empty() && open_larix(store_path, &db)) {
      std::string diff = CompareOutcomes(reference, Dump(db));
      if (!diff.empty()) fail("dump after reopening the store: " + diff);
      check_integrity(db, "the reopened store");
    }
    sqlite3_close(db);
  }
  internal::CloseAll(&targets);
  script.close();
  if (failure.empty()) fs::remove_all(dir, ec);
  stats->seconds += std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  return failure;
}

}  // namespace larix::sqlwork

#endif  // LARIX_TESTS_SUPPORT_SQL_WORKLOAD_H_
