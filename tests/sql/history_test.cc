// Row history through SQL: larix_diff, larix_history, larix_blame and
// FOR SYSTEM_TIME, on a store with a clock the test moves.

#include <gtest/gtest.h>

#include "larix/store.h"
#include "sql/engine.h"
#include "sql_test_util.h"

namespace larix {
namespace {

using test::Larix;
using test::QueryLarix;
using test::Rows;
using test::RunLarix;
using test::ScalarLarix;

// The clock starts at 2024-01-01 00:00:00 UTC; Day(d) sets it to day d.
class HistoryTest : public test::FakeClockStoreTest {
 protected:
  static constexpr int64_t kStart = 1704067200LL * 1000000;  // 2024-01-01

  HistoryTest() : FakeClockStoreTest(kStart) {}

  void SetUp() override {
    FakeClockStoreTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(engine_->store()
                    ->SetHistoryRetention(10LL * 365 * 86400 * 1000000)
                    .ok());
  }
  void Day(int d) { SetClock(kStart + d * 86400LL * 1000000); }
};

TEST_F(HistoryTest, ForSystemTimeBetweenReturnsEveryVersion) {
  Day(1);   // 2024-01-02
  Larix(db_,
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, email TEXT, "
        "role TEXT);"
        "INSERT INTO users VALUES (123, 'ann', 'ann@a', 'user'), "
        "(7, 'other', 'o@o', 'user')");
  Day(10);  // 2024-01-11
  Larix(db_, "UPDATE users SET email = 'ann@b' WHERE id = 123");
  Day(20);  // 2024-01-21
  Larix(db_, "UPDATE users SET role = 'admin' WHERE id = 123");
  Day(40);  // 2024-02-10: outside the range below
  Larix(db_, "UPDATE users SET name = 'anna' WHERE id = 123");

  Rows all = QueryLarix(
      db_,
      "SELECT system_time, id, name, email, role FROM users WHERE id = 123 "
      "FOR SYSTEM_TIME BETWEEN TIMESTAMP '2024-01-01 00:00:00' AND "
      "TIMESTAMP '2024-01-31 23:59:59' ORDER BY system_time");
  EXPECT_EQ(all, (Rows{{"2024-01-02 00:00:00.000000", "123", "ann", "ann@a", "user"},
                       {"2024-01-11 00:00:00.000000", "123", "ann", "ann@b", "user"},
                       {"2024-01-21 00:00:00.000000", "123", "ann", "ann@b", "admin"}}));

  // The audit query of the spec, with parameters, as written.
  Result<Translation> t = TranslateStatement(
      db_,
      "SELECT system_time, id, name, email, role FROM users WHERE id = ? "
      "FOR SYSTEM_TIME BETWEEN ? AND ? ORDER BY system_time");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db_, t->sql.c_str(), -1, &stmt, nullptr),
            SQLITE_OK)
      << t->sql << ": " << sqlite3_errmsg(db_);
  ASSERT_EQ(sqlite3_bind_parameter_count(stmt), 3);
  sqlite3_bind_int(stmt, 1, 123);
  sqlite3_bind_text(stmt, 2, "2024-01-15 00:00:00", -1, SQLITE_STATIC);
  sqlite3_bind_text(stmt, 3, "2024-02-28T00:00:00Z", -1, SQLITE_STATIC);
  std::vector<std::string> emails;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    emails.push_back(std::string(reinterpret_cast<const char*>(
                         sqlite3_column_text(stmt, 3))) +
                     "/" +
                     reinterpret_cast<const char*>(sqlite3_column_text(stmt, 4)));
  }
  sqlite3_finalize(stmt);
  // Valid at some point in [Jan 15, Feb 28]: the Jan 11 version (until Jan
  // 21), the Jan 21 one, and the Feb 10 one.
  EXPECT_EQ(emails, (std::vector<std::string>{"ann@b/user", "ann@b/admin",
                                              "ann@b/admin"}));

  // FROM ... TO excludes the end point; ALL returns every version.
  EXPECT_EQ(ScalarLarix(db_,
                        "SELECT count(*) FROM users WHERE id = 123 FOR "
                        "SYSTEM_TIME FROM '2024-01-02' TO '2024-01-11'"),
            "1");
  EXPECT_EQ(ScalarLarix(db_, "SELECT count(*) FROM users FOR SYSTEM_TIME ALL"),
            "5");
  // AS OF inside FOR SYSTEM_TIME reads one point.
  EXPECT_EQ(ScalarLarix(db_,
                        "SELECT email FROM users FOR SYSTEM_TIME AS OF "
                        "'2024-01-12 00:00:00' WHERE id = 123"),
            "ann@b");
}

TEST_F(HistoryTest, SystemTimeEndMarksTheEndOfEachVersion) {
  Day(1);
  Larix(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, v); INSERT INTO t VALUES (1, 'a')");
  Day(2);
  Larix(db_, "UPDATE t SET v = 'b'");
  Day(3);
  Larix(db_, "DELETE FROM t");
  EXPECT_EQ(QueryLarix(db_, "SELECT v, system_time, system_time_end FROM "
                            "larix_history('t') ORDER BY system_time"),
            (Rows{{"a", "2024-01-02 00:00:00.000000", "2024-01-03 00:00:00.000000"},
                  {"b", "2024-01-03 00:00:00.000000", "2024-01-04 00:00:00.000000"}}));
}

TEST_F(HistoryTest, DiffBetweenBranchesTagsAndTimes) {
  Day(1);
  Larix(db_,
        "CREATE TABLE orders(id INTEGER PRIMARY KEY, total REAL, note TEXT);"
        "INSERT INTO orders VALUES (1, 10, 'x'), (2, 20, 'y'), (3, 30, 'z');"
        "CREATE TAG v1;"
        "CREATE DATABASE BRANCH dev FROM main AS OF NOW");
  sqlite3* dev = test::OpenOrDie(name_ + "@dev");
  Day(2);
  Larix(dev, "UPDATE orders SET total = 21 WHERE id = 2; DELETE FROM orders "
             "WHERE id = 3; INSERT INTO orders VALUES (4, 40, 'w')");
  sqlite3_close(dev);
  EXPECT_EQ(QueryLarix(db_, "SELECT diff_type, from_id, to_id, from_total, "
                            "to_total FROM larix_diff('orders', 'main', 'dev') "
                            "ORDER BY coalesce(to_id, from_id)"),
            (Rows{{"modified", "2", "2", "20.0", "21.0"},
                  {"removed", "3", "NULL", "30.0", "NULL"},
                  {"added", "NULL", "4", "NULL", "40.0"}}));
  EXPECT_EQ(ScalarLarix(db_, "SELECT count(*) FROM larix_diff('orders', 'v1', 'dev')"),
            "3");
  EXPECT_EQ(ScalarLarix(db_, "SELECT count(*) FROM larix_diff('orders', "
                             "'2024-01-01', 'main')"),
            "3");  // before the table existed: every row is added
  EXPECT_NE(RunLarix(db_, "SELECT * FROM larix_diff('orders', 'main', 'nope')"), "");
  EXPECT_NE(RunLarix(db_, "SELECT * FROM larix_diff('no_such_table', 'main', 'dev')"),
            "");
}

TEST_F(HistoryTest, BlameNamesTheCommitThatLastChangedEachRow) {
  Day(1);
  Larix(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
             "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  std::string first = ScalarLarix(db_, "SELECT larix_hashof('main')");
  Day(2);
  Larix(db_, "UPDATE t SET v = 'B' WHERE id = 2");
  std::string second = ScalarLarix(db_, "SELECT larix_hashof('main')");
  Day(3);
  Larix(db_, "DELETE FROM t WHERE id = 3");
  EXPECT_EQ(QueryLarix(db_, "SELECT id, v, commit_id, time FROM larix_blame('t') "
                            "ORDER BY id"),
            (Rows{{"1", "a", first, "2024-01-02 00:00:00.000000"},
                  {"2", "B", second, "2024-01-03 00:00:00.000000"}}));
}

}  // namespace
}  // namespace larix
