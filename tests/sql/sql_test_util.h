// Helpers for SQL-level tests: run statements and collect results as text.

#ifndef LARIX_TESTS_SQL_SQL_TEST_UTIL_H_
#define LARIX_TESTS_SQL_SQL_TEST_UTIL_H_

#include <sqlite3.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "larix/database.h"
#include "larix/store.h"
#include "sql/engine.h"
#include "sql/sqlite_values.h"

namespace larix::test {

using Rows = std::vector<std::vector<std::string>>;

// Runs `sql` (one or more statements); returns the SQLite result code and
// puts the message of a failure into *error.
inline int ExecRc(sqlite3* db, const std::string& sql,
                  std::string* error = nullptr) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
  if (error) *error = msg ? msg : "";
  sqlite3_free(msg);
  return rc;
}

inline void Exec(sqlite3* db, const std::string& sql) {
  std::string error;
  int rc = ExecRc(db, sql, &error);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << error;
}

// Every row of the last statement of `sql`, NULL as "NULL".
inline Rows Query(sqlite3* db, const std::string& sql) {
  Rows rows;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << sqlite3_errmsg(db);
  if (rc != SQLITE_OK) return rows;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(stmt); i++) {
      const unsigned char* t = sqlite3_column_text(stmt, i);
      row.push_back(t ? reinterpret_cast<const char*>(t) : "NULL");
    }
    rows.push_back(std::move(row));
  }
  EXPECT_EQ(rc, SQLITE_DONE) << sql << ": " << sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  return rows;
}

// The single value of a one-row, one-column query.
inline std::string Scalar(sqlite3* db, const std::string& sql) {
  Rows rows = Query(db, sql);
  if (rows.size() != 1 || rows[0].size() != 1) {
    ADD_FAILURE() << sql << ": expected one value, got " << rows.size()
                  << " rows";
    return "";
  }
  return rows[0][0];
}

// A fresh in-memory store name, unique within the test process.
inline std::string MemoryStoreName() {
  static std::atomic<int> n{0};
  return "larix-memory:test" + std::to_string(n++);
}

// Runs a script the way the CLI and Python do: statement by statement,
// each through Larix's translator.  Returns the first error's message, or
// "" when every statement succeeded.
inline std::string RunLarix(sqlite3* db, const std::string& script) {
  for (const ScriptStatement& piece : SplitScript(script)) {
    Result<Translation> t = TranslateStatement(db, piece.text);
    if (!t.ok()) return t.status().message();
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, t->sql.c_str(), -1, &stmt, nullptr) !=
        SQLITE_OK) {
      return sqlite3_errmsg(db);
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return sqlite3_errmsg(db);
  }
  return "";
}

inline void Larix(sqlite3* db, const std::string& script) {
  std::string error = RunLarix(db, script);
  ASSERT_EQ(error, "") << script;
}

// Rows of one statement run through the translator.
inline Rows QueryLarix(sqlite3* db, const std::string& sql) {
  Result<Translation> t = TranslateStatement(db, sql);
  EXPECT_TRUE(t.ok()) << sql << ": " << t.status().ToString();
  if (!t.ok()) return {};
  return Query(db, t->sql);
}

inline std::string ScalarLarix(sqlite3* db, const std::string& sql) {
  Result<Translation> t = TranslateStatement(db, sql);
  EXPECT_TRUE(t.ok()) << sql << ": " << t.status().ToString();
  if (!t.ok()) return "";
  return Scalar(db, t->sql);
}

// All rows of a query, as SqlValues (types kept, unlike Query's text);
// the statement must run to completion.
inline std::vector<std::vector<SqlValue>> QueryValues(sqlite3* db,
                                                      const std::string& sql) {
  std::vector<std::vector<SqlValue>> rows;
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sql << ": " << sqlite3_errmsg(db);
  if (!stmt) return rows;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<SqlValue> row;
    for (int i = 0; i < sqlite3_column_count(stmt); i++) {
      row.push_back(ColumnSqlValue(stmt, i));
    }
    rows.push_back(std::move(row));
  }
  EXPECT_EQ(rc, SQLITE_DONE) << sql << ": " << sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  return rows;
}

inline sqlite3* OpenOrDie(const std::string& spec,
                          const OpenOptions& options = {}) {
  sqlite3* db = nullptr;
  Status s = OpenDatabase(spec, options, &db);
  EXPECT_TRUE(s.ok()) << spec << ": " << s.ToString();
  return db;
}

// A fixture with a fresh in-memory store: its name, one connection on
// main, and the Engine (for reaching the store's internals).
class MemoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = MemoryStoreName();
    db_ = OpenOrDie(name_);
    ASSERT_NE(db_, nullptr);
    engine_ = *Engine::Acquire(name_, true);
  }
  void TearDown() override { sqlite3_close(db_); }

  Store* store() { return engine_->store(); }

  std::string name_;
  sqlite3* db_ = nullptr;
  std::shared_ptr<Engine> engine_;
};

// A fixture with a fresh in-memory store whose clock the test sets, so
// that time travel by timestamp is deterministic: its name, one
// connection on main, and the Engine.  The clock starts at `start_us`.
class FakeClockStoreTest : public ::testing::Test {
 protected:
  explicit FakeClockStoreTest(int64_t start_us)
      : now_(std::make_shared<std::atomic<int64_t>>(start_us)) {}

  void SetUp() override {
    StoreOptions options;
    options.clock = [now = now_] { return now->load(); };
    name_ = MemoryStoreName();
    auto engine = Engine::Adopt(name_, Store::OpenInMemory(options));
    ASSERT_TRUE(engine.ok());
    engine_ = *engine;
    db_ = OpenOrDie(name_);
    ASSERT_NE(db_, nullptr);
  }
  void TearDown() override { sqlite3_close(db_); }

  void SetClock(int64_t us) { now_->store(us); }
  void AdvanceClock(int64_t us) { *now_ += us; }

  std::shared_ptr<std::atomic<int64_t>> now_;
  std::string name_;
  std::shared_ptr<Engine> engine_;
  sqlite3* db_ = nullptr;
};

}  // namespace larix::test

#endif  // LARIX_TESTS_SQL_SQL_TEST_UTIL_H_
