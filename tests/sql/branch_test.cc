// Branches, aliases, tags and time travel through SQL, including the
// workflows of SPEC.md §4 run as scripts with their results asserted.

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

// The clock starts at 2025-11-20 00:00:00 UTC and each Tick() moves it a
// minute.
class BranchTest : public test::FakeClockStoreTest {
 protected:
  static constexpr int64_t kStart = 1763596800LL * 1000000;  // 2025-11-20

  BranchTest() : FakeClockStoreTest(kStart) {}

  void Tick(int minutes = 1) { AdvanceClock(minutes * 60LL * 1000000); }
  sqlite3* Open(const std::string& branch) {
    return test::OpenOrDie(name_ + "@" + branch);
  }
};

TEST_F(BranchTest, DevelopmentWorkflow) {
  Larix(db_,
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);"
        "INSERT INTO users VALUES (1, 'ada'), (2, 'bob');"
        "CREATE DATABASE BRANCH dev FROM main AS OF NOW;"
        "USE BRANCH dev;"
        "INSERT INTO users VALUES (3, 'cy');"
        "UPDATE users SET name = 'bobby' WHERE id = 2;");
  EXPECT_EQ(ScalarLarix(db_, "SELECT current_branch()"), "dev");
  EXPECT_EQ(ScalarLarix(db_, "SELECT group_concat(name) FROM users"),
            "ada,bobby,cy");
  Larix(db_, "CREATE DATABASE BRANCH staging FROM dev AS OF NOW");
  sqlite3* main_db = Open("main");
  EXPECT_EQ(ScalarLarix(main_db, "SELECT group_concat(name) FROM users"),
            "ada,bob");  // main untouched by dev's work
  sqlite3* staging = Open("staging");
  EXPECT_EQ(ScalarLarix(staging, "SELECT count(*) FROM users"), "3");
  sqlite3_close(staging);
  // main has not moved since dev branched: merging is a fast-forward.
  Larix(main_db,
        "MERGE DATABASE BRANCH staging INTO main WITH "
        "(conflict_resolution = 'branch_wins', delete_branch_after = true)");
  EXPECT_EQ(ScalarLarix(main_db, "SELECT group_concat(name) FROM users"),
            "ada,bobby,cy");
  EXPECT_EQ(ScalarLarix(main_db,
                        "SELECT count(*) FROM pg_database_branches() WHERE "
                        "branch_name = 'staging'"),
            "0");
  Larix(main_db, "DROP DATABASE BRANCH dev");
  EXPECT_EQ(ScalarLarix(main_db,
                        "SELECT group_concat(branch_name) FROM "
                        "pg_database_branches()"),
            "main");
  sqlite3_close(main_db);
}

TEST_F(BranchTest, BlueGreenWithAliasSwitchAndRollback) {
  Larix(db_,
        "CREATE DATABASE BRANCH blue FROM main AS OF NOW;"
        "USE BRANCH blue;"
        "CREATE TABLE config(k TEXT PRIMARY KEY, v TEXT);"
        "INSERT INTO config VALUES ('version', '1');"
        "CREATE DATABASE BRANCH ALIAS production FOR blue;"
        "CREATE DATABASE BRANCH green FROM blue AS OF NOW;");
  sqlite3* app = Open("production");  // clients connect to the alias
  EXPECT_EQ(ScalarLarix(app, "SELECT v FROM config"), "1");
  // Deploy and test the new version on green.
  sqlite3* green = Open("green");
  Larix(green, "UPDATE config SET v = '2' WHERE k = 'version'");
  EXPECT_EQ(ScalarLarix(app, "SELECT v FROM config"), "1");
  // Switch traffic: the app's connection follows from its next
  // transaction, without reconnecting.
  Larix(db_, "ALTER DATABASE BRANCH ALIAS production FOR green");
  EXPECT_EQ(ScalarLarix(app, "SELECT v FROM config"), "2");
  EXPECT_EQ(ScalarLarix(db_,
                        "SELECT alias_of FROM larix_branches WHERE "
                        "branch_name = 'production'"),
            "green");
  // Trouble: switch back instantly.
  Larix(db_, "ALTER DATABASE BRANCH ALIAS production FOR blue");
  EXPECT_EQ(ScalarLarix(app, "SELECT v FROM config"), "1");
  // Writes through the alias land on the branch it points at.
  Larix(app, "INSERT INTO config VALUES ('feature', 'off')");
  sqlite3* blue = Open("blue");
  EXPECT_EQ(ScalarLarix(blue, "SELECT count(*) FROM config"), "2");
  // The rest of the workflow: fold green back, recreate it for next time.
  Larix(green, "UPDATE config SET v = '3' WHERE k = 'version'");
  sqlite3_close(green);
  // green and blue diverged (blue got 'feature'): a three-way merge.
  Larix(db_, "MERGE DATABASE BRANCH green INTO blue");
  EXPECT_EQ(ScalarLarix(blue, "SELECT group_concat(k || '=' || v) FROM "
                              "(SELECT * FROM config ORDER BY k)"),
            "feature=off,version=3");
  Larix(db_,
        "DROP DATABASE BRANCH green;"
        "CREATE DATABASE BRANCH green FROM blue AS OF NOW;");
  sqlite3* green2 = Open("green");
  EXPECT_EQ(ScalarLarix(green2, "SELECT count(*) FROM config"), "2");
  EXPECT_EQ(ScalarLarix(green2, "SELECT v FROM config WHERE k = 'version'"),
            "3");
  sqlite3_close(green2);
  sqlite3_close(blue);
  sqlite3_close(app);
}

TEST_F(BranchTest, SchemaTestBranch) {
  Larix(db_,
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);"
        "INSERT INTO users VALUES (1, 'ada');"
        "CREATE DATABASE BRANCH schema_test FROM main AS OF NOW;"
        "USE BRANCH schema_test;"
        "ALTER TABLE users ADD COLUMN preferences TEXT;"
        "CREATE INDEX idx_user_prefs ON users(preferences);"
        "UPDATE users SET preferences = 'dark' WHERE id = 1;");
  EXPECT_EQ(ScalarLarix(db_, "SELECT preferences FROM users"), "dark");
  sqlite3* main_db = Open("main");
  // main's schema is untouched.
  EXPECT_NE(RunLarix(main_db, "SELECT preferences FROM users"), "");
  EXPECT_EQ(ScalarLarix(main_db,
                        "SELECT count(*) FROM sqlite_master WHERE name = "
                        "'idx_user_prefs'"),
            "0");
  Larix(main_db, "MERGE DATABASE BRANCH schema_test INTO main");  // ff
  EXPECT_EQ(ScalarLarix(main_db, "SELECT preferences FROM users"), "dark");
  Larix(db_, "USE BRANCH main; DROP DATABASE BRANCH schema_test");
  sqlite3_close(main_db);
}

TEST_F(BranchTest, ABTestBranches) {
  Larix(db_,
        "CREATE TABLE prices(sku TEXT PRIMARY KEY, price REAL);"
        "INSERT INTO prices VALUES ('a', 10), ('b', 20);"
        "CREATE DATABASE BRANCH variant_a FROM main AS OF NOW;"
        "CREATE DATABASE BRANCH variant_b FROM main AS OF NOW;");
  sqlite3* a = Open("variant_a");
  sqlite3* b = Open("variant_b");
  Larix(a, "UPDATE prices SET price = price * 0.9");
  Larix(b, "UPDATE prices SET price = price * 1.1");
  EXPECT_EQ(ScalarLarix(a, "SELECT sum(price) FROM prices"), "27.0");
  EXPECT_EQ(ScalarLarix(b, "SELECT sum(price) FROM prices"), "33.0");
  EXPECT_EQ(ScalarLarix(db_, "SELECT sum(price) FROM prices"), "30.0");
  sqlite3_close(a);
  sqlite3_close(b);
  Larix(db_,
        "MERGE DATABASE BRANCH variant_b INTO main;"  // the winner
        "DROP DATABASE BRANCH variant_a;"
        "DROP DATABASE BRANCH variant_b;");
  EXPECT_EQ(ScalarLarix(db_, "SELECT sum(price) FROM prices"), "33.0");
  EXPECT_EQ(ScalarLarix(db_, "SELECT count(*) FROM pg_database_branches()"),
            "1");
}

TEST_F(BranchTest, DisasterRecovery) {
  Larix(db_,
        "CREATE TABLE accounts(id INTEGER PRIMARY KEY, balance INTEGER);"
        "INSERT INTO accounts VALUES (1, 100), (2, 200);"
        "CREATE DATABASE BRANCH backup_daily FROM main AS OF NOW;");
  Larix(db_, "UPDATE accounts SET balance = 0");  // the disaster
  sqlite3* ops = Open("backup_daily");
  Larix(ops,
        "CREATE DATABASE BRANCH main_new FROM backup_daily AS OF NOW;"
        "DROP DATABASE BRANCH main;");
  // A connection whose branch is gone gets a clear error...
  std::string error = RunLarix(db_, "SELECT * FROM accounts");
  EXPECT_NE(error.find("branch 'main' does not exist"), std::string::npos)
      << error;
  Larix(ops, "ALTER DATABASE BRANCH main_new RENAME TO main");
  // ...until that name exists again.
  EXPECT_EQ(ScalarLarix(db_, "SELECT sum(balance) FROM accounts"), "300");
  EXPECT_EQ(ScalarLarix(db_,
                        "SELECT group_concat(branch_name) FROM (SELECT "
                        "branch_name FROM pg_database_branches() ORDER BY 1)"),
            "backup_daily,main");
  sqlite3_close(ops);
}

TEST_F(BranchTest, BranchErrorsAreClear) {
  EXPECT_NE(RunLarix(db_, "CREATE DATABASE BRANCH x FROM nowhere AS OF NOW")
                .find("branch 'nowhere' does not exist"),
            std::string::npos);
  Larix(db_, "CREATE DATABASE BRANCH x FROM main AS OF NOW");
  EXPECT_NE(RunLarix(db_, "CREATE DATABASE BRANCH x FROM main AS OF NOW")
                .find("already exists"),
            std::string::npos);
  Larix(db_, "CREATE DATABASE BRANCH IF NOT EXISTS x FROM main AS OF NOW");
  EXPECT_NE(RunLarix(db_, "DROP DATABASE BRANCH nope").find("does not exist"),
            std::string::npos);
  Larix(db_, "DROP DATABASE BRANCH IF EXISTS nope");
  std::string syntax = RunLarix(db_, "CREATE DATABASE BRANCH y FORM main");
  EXPECT_NE(syntax.find("at offset"), std::string::npos) << syntax;
  EXPECT_NE(RunLarix(db_, "CREATE DATABASE BRANCH 'bad..name' FROM main")
                .find(".."),
            std::string::npos);
  // A branch with a write transaction in progress cannot be dropped.
  sqlite3* writer = Open("x");
  Larix(writer, "BEGIN IMMEDIATE; CREATE TABLE t(a)");
  std::string busy = RunLarix(db_, "DROP DATABASE BRANCH x");
  EXPECT_NE(busy.find("write transaction in progress"), std::string::npos)
      << busy;
  Larix(writer, "COMMIT");
  Larix(db_, "DROP DATABASE BRANCH x");
  sqlite3_close(writer);
  // USE BRANCH inside a transaction is refused.
  Larix(db_, "CREATE TABLE t(a); BEGIN; SELECT * FROM t");
  EXPECT_NE(RunLarix(db_, "USE BRANCH main"), "");
  Larix(db_, "COMMIT");
}

TEST_F(BranchTest, BranchCreationAsOfTimestampAndTransaction) {
  Larix(db_, "CREATE TABLE t(a); INSERT INTO t VALUES (1)");  // 00:00
  Tick(10);
  Larix(db_, "INSERT INTO t VALUES (2)");  // 00:10
  std::string txn = ScalarLarix(db_, "SELECT max(txn) FROM larix_log");
  Tick(10);
  Larix(db_, "INSERT INTO t VALUES (3)");  // 00:20
  Larix(db_,
        "CREATE DATABASE BRANCH at5 FROM main AS OF TIMESTAMP "
        "'2025-11-20 00:05:00';"
        "CREATE DATABASE BRANCH at15 FROM CURRENT AS OF TIMESTAMP "
        "'2025-11-20T00:15:00Z';"
        "CREATE DATABASE BRANCH bytxn FROM main AS OF TRANSACTION " + txn + ";"
        "CREATE DATABASE BRANCH byscn FROM main AS OF SCN " + txn + ";");
  auto count = [&](const std::string& b) {
    sqlite3* db = Open(b);
    std::string n = ScalarLarix(db, "SELECT count(*) FROM t");
    sqlite3_close(db);
    return n;
  };
  EXPECT_EQ(count("at5"), "1");
  EXPECT_EQ(count("at15"), "2");
  EXPECT_EQ(count("bytxn"), "2");
  EXPECT_EQ(count("byscn"), "2");
  std::string head = ScalarLarix(db_, "SELECT larix_hashof('main')");
  Larix(db_, "CREATE DATABASE BRANCH bycommit FROM main AS OF COMMIT '" +
                 head.substr(0, 12) + "'");
  EXPECT_EQ(count("bycommit"), "3");
}

TEST_F(BranchTest, PerTableAsOfInJoinsSubqueriesAndTransactions) {
  Larix(db_,
        "CREATE TABLE products(product_id INTEGER PRIMARY KEY, price REAL);"
        "INSERT INTO products VALUES (1, 10), (2, 20), (3, 30);");
  Tick(60);  // 01:00
  Larix(db_, "UPDATE products SET price = 25 WHERE product_id = 2");
  Tick(60);  // 02:00
  Rows changed = QueryLarix(
      db_,
      "SELECT cur.product_id, cur.price, old.price "
      "FROM products cur "
      "JOIN products AS OF TIMESTAMP '2025-11-20 00:30:00' old "
      "ON cur.product_id = old.product_id WHERE cur.price != old.price");
  EXPECT_EQ(changed, (Rows{{"2", "25.0", "20.0"}}));
  // In a subquery, and inside an explicit transaction.
  Larix(db_, "BEGIN");
  EXPECT_EQ(ScalarLarix(db_,
                        "SELECT count(*) FROM products WHERE price > (SELECT "
                        "max(price) FROM products AS OF TIMESTAMP "
                        "'2025-11-20 00:30:00' WHERE product_id < 3)"),
            "2");
  Larix(db_, "UPDATE products SET price = 26 WHERE product_id = 2");
  EXPECT_EQ(ScalarLarix(db_,
                        "SELECT price FROM products AS OF TIMESTAMP "
                        "'2025-11-20 01:30:00' WHERE product_id = 2"),
            "25.0");
  Larix(db_, "COMMIT");
  EXPECT_EQ(ScalarLarix(db_, "SELECT price FROM products WHERE product_id = 2"),
            "26.0");
}

TEST_F(BranchTest, RestoreDeletedRowsWithInsertSelectAsOf) {
  Larix(db_,
        "CREATE TABLE customers(customer_id INTEGER PRIMARY KEY, name TEXT);"
        "INSERT INTO customers VALUES (998, 'keep'), (999, 'precious');");
  Tick(60);
  Larix(db_, "DELETE FROM customers WHERE customer_id = 999");
  Tick(60);
  Larix(db_,
        "INSERT INTO customers SELECT * FROM customers AS OF TIMESTAMP "
        "'2025-11-20 00:30:00' WHERE customer_id = 999");
  EXPECT_EQ(ScalarLarix(db_, "SELECT name FROM customers WHERE customer_id = 999"),
            "precious");
}

TEST_F(BranchTest, AsOfWithParametersAndOtherKinds) {
  Larix(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  Larix(db_, "INSERT INTO t VALUES (1, 'one')");
  std::string txn = ScalarLarix(db_, "SELECT max(txn) FROM larix_log");
  Larix(db_, "UPDATE t SET v = 'uno'; CREATE TAG release_1");
  Larix(db_, "UPDATE t SET v = 'eins'");
  Result<Translation> tr =
      TranslateStatement(db_, "SELECT v FROM t AS OF TRANSACTION ? WHERE id = ?");
  ASSERT_TRUE(tr.ok()) << tr.status().ToString();
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db_, tr->sql.c_str(), -1, &stmt, nullptr),
            SQLITE_OK)
      << tr->sql << ": " << sqlite3_errmsg(db_);
  sqlite3_bind_int64(stmt, 1, std::stoll(txn));
  sqlite3_bind_int(stmt, 2, 1);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
               "one");
  sqlite3_finalize(stmt);
  EXPECT_EQ(ScalarLarix(db_, "SELECT v FROM t AS OF TAG 'release_1'"), "uno");
  EXPECT_EQ(ScalarLarix(db_, "SELECT v FROM t AS OF SCN " + txn), "one");
  EXPECT_EQ(ScalarLarix(db_, "SELECT tag_name FROM larix_tags"), "release_1");
  Larix(db_, "DROP TAG release_1");
  EXPECT_EQ(ScalarLarix(db_, "SELECT count(*) FROM larix_tags"), "0");
}

TEST_F(BranchTest, AsOfBeforeRetentionFailsClearly) {
  Larix(db_, "CREATE TABLE t(a); INSERT INTO t VALUES (1)");
  Tick(60 * 24 * 40);  // 40 days later; the default retention is 30 days
  std::string error =
      RunLarix(db_, "SELECT * FROM t AS OF TIMESTAMP '2025-11-20 00:00:00'");
  EXPECT_NE(error.find("before the retained history"), std::string::npos)
      << error;
  error = RunLarix(db_, "SELECT * FROM t AS OF TIMESTAMP 'yesterday'");
  EXPECT_NE(error.find("cannot read 'yesterday' as a timestamp"),
            std::string::npos)
      << error;
  // Before the store existed at all: no history, said so.
  Tick(-60 * 24 * 39);
  error = RunLarix(db_, "SELECT * FROM t AS OF TIMESTAMP '2025-11-01'");
  EXPECT_NE(error, "");
}

TEST_F(BranchTest, RenameCarriesAliasesAndFutureTransactionsFail) {
  Larix(db_,
        "CREATE TABLE t(a); INSERT INTO t VALUES (1);"
        "CREATE DATABASE BRANCH blue FROM main AS OF NOW;"
        "CREATE DATABASE BRANCH ALIAS production FOR blue;"
        "ALTER DATABASE BRANCH blue RENAME TO azure");
  EXPECT_EQ(ScalarLarix(db_, "SELECT alias_of FROM larix_branches WHERE "
                             "branch_name = 'production'"),
            "azure");
  sqlite3* app = Open("production");
  EXPECT_EQ(ScalarLarix(app, "SELECT count(*) FROM t"), "1");
  sqlite3_close(app);
  std::string error = RunLarix(db_, "SELECT * FROM t AS OF TRANSACTION 999999");
  EXPECT_NE(error.find("has not happened yet"), std::string::npos) << error;
}

// A commit's message is the SQL that made it, also for the first write
// after USE BRANCH (which SQLite reruns after SQLITE_SCHEMA without
// tracing it again) and not including a rolled-back statement.
TEST_F(BranchTest, CommitMessagesCarryTheStatementAfterUseBranch) {
  Larix(db_,
        "CREATE TABLE t(a);"
        "CREATE DATABASE BRANCH dev FROM main AS OF NOW;"
        "BEGIN; INSERT INTO t VALUES (0); ROLLBACK;"
        "USE BRANCH dev;"
        "INSERT INTO t VALUES (2)");
  EXPECT_EQ(ScalarLarix(db_, "SELECT message FROM larix_log LIMIT 1"),
            "INSERT INTO t VALUES (2)");
}

TEST_F(BranchTest, AlterTableAddSystemVersioningIsAccepted) {
  Larix(db_, "CREATE TABLE audit_logs(id INTEGER PRIMARY KEY, msg TEXT)");
  Larix(db_, "ALTER TABLE audit_logs ADD SYSTEM VERSIONING");
  EXPECT_NE(RunLarix(db_, "ALTER TABLE nope ADD SYSTEM VERSIONING"), "");
}

}  // namespace
}  // namespace larix
