// The VFS: one commit per transaction, rollback writes nothing, snapshot
// isolation, writers queue, and never a stale page or schema.

#include "sql/vfs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <thread>

#include "objects/commit_graph.h"
#include "objects/page_tree.h"
#include "refs/ref_db.h"
#include "refs/ref_name.h"
#include "sql/engine.h"
#include "sql_test_util.h"

namespace larix {
namespace {

using test::Exec;
using test::ExecRc;
using test::OpenOrDie;
using test::Query;
using test::Rows;
using test::Scalar;

class VfsTest : public test::MemoryStoreTest {
 protected:
  // Number of commits on a branch, following first parents.
  size_t CommitCount(const std::string& branch = "main") {
    ObjectId head = *store()->refs()->Resolve(BranchRef(branch));
    size_t n = 0;
    EXPECT_TRUE(store()->commits()->FirstParentLog(
        head, 0, [&](const ObjectId&, const Commit&) {
          n++;
          return true;
        }).ok());
    return n;
  }

  void CreateBranch(const std::string& name, const std::string& from) {
    ObjectId head = *store()->refs()->Resolve(BranchRef(from));
    RefTransaction tx;
    tx.Update(BranchRef(name), ObjectId(), head, "branch: created from " + from);
    ASSERT_TRUE(store()->UpdateRefs(tx).ok());
  }
};

TEST_F(VfsTest, CreateInsertSelect) {
  Exec(db_, "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)");
  Exec(db_, "INSERT INTO t VALUES (1, 'one'), (2, 'two')");
  EXPECT_EQ(Query(db_, "SELECT a, b FROM t ORDER BY a"),
            (Rows{{"1", "one"}, {"2", "two"}}));
  EXPECT_EQ(Scalar(db_, "PRAGMA integrity_check"), "ok");
  // SQLite's default mode; the journal itself is in memory (sql/vfs.cc).
  EXPECT_EQ(Scalar(db_, "PRAGMA journal_mode"), "delete");
}

TEST_F(VfsTest, EachTransactionIsOneCommit) {
  size_t base = CommitCount();
  Exec(db_, "CREATE TABLE t(a)");
  EXPECT_EQ(CommitCount(), base + 1);
  Exec(db_, "INSERT INTO t VALUES (1)");
  EXPECT_EQ(CommitCount(), base + 2);
  Exec(db_, "BEGIN; INSERT INTO t VALUES (2); INSERT INTO t VALUES (3); COMMIT");
  EXPECT_EQ(CommitCount(), base + 3);
}

// Page 1 changes in every commit (its change counter), but a page 1 whose
// only change is the counter is not stored: the commit's tree keeps the
// old one.  Every connection still sees every commit (the counter it is
// shown moves with the head, so SQLite drops its cached pages), and a
// change of schema (the cookie) stores page 1.
TEST_F(VfsTest, PageOneWithOnlyANewCounterIsNotStored) {
  Exec(db_, "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)");
  Exec(db_, "INSERT INTO t VALUES (1, 'one')");
  auto page1 = [&] {
    ObjectId head = *store()->refs()->Resolve(BranchRef("main"));
    return *store()->trees()->Get((*store()->commits()->Load(head))->tree, 0);
  };
  sqlite3* other = OpenOrDie(name_);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(Scalar(other, "SELECT b FROM t"), "one");  // now in its cache
  const ObjectId before = page1();
  const size_t commits = CommitCount();
  Exec(db_, "UPDATE t SET b = 'uno' WHERE a = 1");
  EXPECT_EQ(CommitCount(), commits + 1);
  EXPECT_EQ(page1(), before);
  EXPECT_EQ(Scalar(other, "SELECT b FROM t"), "uno");
  for (int i = 0; i < 6; i++) {
    sqlite3* writer = i % 2 ? db_ : other;
    sqlite3* reader = i % 2 ? other : db_;
    const std::string v = "v" + std::to_string(i);
    Exec(writer, "UPDATE t SET b = '" + v + "' WHERE a = 1");
    EXPECT_EQ(Scalar(reader, "SELECT b FROM t"), v) << i;
    EXPECT_EQ(Scalar(writer, "SELECT b FROM t"), v) << i;
  }
  EXPECT_EQ(page1(), before);
  Exec(db_, "CREATE TABLE u(x)");
  EXPECT_NE(page1(), before);
  Exec(other, "INSERT INTO u VALUES (7)");  // it sees the new schema
  EXPECT_EQ(Scalar(db_, "SELECT x FROM u"), "7");
  EXPECT_EQ(Scalar(other, "PRAGMA integrity_check"), "ok");
  sqlite3_close(other);
}

TEST_F(VfsTest, RollbackAndSavepointsWriteNothing) {
  Exec(db_, "CREATE TABLE t(a)");
  size_t base = CommitCount();
  Exec(db_, "BEGIN; INSERT INTO t VALUES (1); ROLLBACK");
  EXPECT_EQ(CommitCount(), base);
  Exec(db_, "SAVEPOINT s; INSERT INTO t VALUES (1); ROLLBACK TO s; RELEASE s");
  EXPECT_EQ(CommitCount(), base);
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM t"), "0");
  // A statement that changes nothing writes no commit.
  Exec(db_, "DELETE FROM t WHERE a = 42");
  EXPECT_EQ(CommitCount(), base);
  // A failed statement inside a transaction rolls back only itself.
  Exec(db_, "CREATE TABLE u(a UNIQUE)");
  base = CommitCount();
  Exec(db_, "BEGIN; INSERT INTO u VALUES (1)");
  EXPECT_NE(ExecRc(db_, "INSERT INTO u VALUES (2), (1)"), SQLITE_OK);
  Exec(db_, "COMMIT");
  EXPECT_EQ(CommitCount(), base + 1);
  EXPECT_EQ(Scalar(db_, "SELECT group_concat(a) FROM u"), "1");
}

// A write transaction over two attached branches makes SQLite write a
// super-journal that names both journals.  It is in memory, like they are:
// both branches commit, nothing is left beside the store, and a ROLLBACK
// of such a transaction writes nothing.
TEST_F(VfsTest, TransactionsOverAttachedBranchesLeaveNoFilesBehind) {
  namespace fs = std::filesystem;
  const fs::path parent = fs::temp_directory_path() /
                          ("larix_attach_" + std::to_string(getpid()));
  fs::remove_all(parent);
  fs::create_directories(parent);
  const std::string path = (parent / "db").string();
  // Named with its branch, the main file's super-journal is named
  // "db@main-mj...", which must not be taken for branch "main-mj..." of
  // the store "db" (SQLite would retry names until it gave up).
  sqlite3* db = OpenOrDie(path + "@main");
  Exec(db, "CREATE TABLE t(a)");
  {
    std::shared_ptr<Engine> engine = *Engine::Acquire(path, false);
    Store* store = engine->store();
    ObjectId head = *store->refs()->Resolve(BranchRef("main"));
    RefTransaction tx;
    tx.Update(BranchRef("dev"), ObjectId(), head, "branch: created from main");
    ASSERT_TRUE(store->UpdateRefs(tx).ok());
  }
  Exec(db, "ATTACH '" + path + "@dev' AS dev");
  Exec(db, "BEGIN; INSERT INTO t VALUES (1); INSERT INTO dev.t VALUES (2); "
           "COMMIT");
  Exec(db, "BEGIN; INSERT INTO t VALUES (3); INSERT INTO dev.t VALUES (4); "
           "ROLLBACK");
  Exec(db, "SAVEPOINT s; INSERT INTO t VALUES (5); "
           "INSERT INTO dev.t VALUES (6); ROLLBACK TO s; "
           "INSERT INTO dev.t VALUES (7); RELEASE s");
  EXPECT_EQ(Scalar(db, "SELECT group_concat(a) FROM main.t"), "1");
  EXPECT_EQ(Scalar(db, "SELECT group_concat(a) FROM dev.t"), "2,7");
  std::vector<std::string> beside;
  for (const auto& entry : fs::directory_iterator(parent)) {
    beside.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(beside, std::vector<std::string>{"db"});
  sqlite3_close(db);
  sqlite3* dev = OpenOrDie(path + "@dev");
  EXPECT_EQ(Scalar(dev, "SELECT group_concat(a) FROM t"), "2,7");
  EXPECT_EQ(Scalar(dev, "PRAGMA integrity_check"), "ok");
  sqlite3_close(dev);
  fs::remove_all(parent);
}

TEST_F(VfsTest, LargeTransactionWithOverflowPages) {
  Exec(db_, "CREATE TABLE t(a INTEGER PRIMARY KEY, b BLOB)");
  Exec(db_, "BEGIN");
  for (int i = 0; i < 200; i++) {
    Exec(db_, "INSERT INTO t VALUES (" + std::to_string(i) +
                  ", randomblob(10000))");
  }
  Exec(db_, "COMMIT");
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM t"), "200");
  EXPECT_EQ(Scalar(db_, "SELECT sum(length(b)) FROM t"), "2000000");
  Exec(db_, "DELETE FROM t WHERE a % 2 = 0");
  Exec(db_, "VACUUM");
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM t"), "100");
  EXPECT_EQ(Scalar(db_, "PRAGMA integrity_check"), "ok");
}

// A transaction bigger than the overlay's spill threshold (16 MiB) moves
// its pages into the store before the commit; reads inside it, the
// commit, and a rollback all behave as for a small one.
TEST_F(VfsTest, TransactionsLargerThanTheOverlaySpill) {
  Exec(db_, "CREATE TABLE t(a INTEGER PRIMARY KEY, b BLOB)");
  const std::string fill =
      "WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE "
      "v < 6000) INSERT INTO t SELECT v + %d, randomblob(4000) FROM s";
  char sql[512];
  size_t base = CommitCount();
  snprintf(sql, sizeof(sql), fill.c_str(), 0);
  Exec(db_, std::string("BEGIN; ") + sql);
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM t"), "6000");
  EXPECT_EQ(Scalar(db_, "SELECT sum(length(b)) FROM t"), "24000000");
  Exec(db_, "UPDATE t SET b = zeroblob(10) WHERE a % 100 = 0; COMMIT");
  EXPECT_EQ(CommitCount(), base + 1);
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM t WHERE length(b) = 10"), "60");
  EXPECT_EQ(Scalar(db_, "PRAGMA integrity_check"), "ok");
  snprintf(sql, sizeof(sql), fill.c_str(), 100000);
  Exec(db_, std::string("BEGIN; ") + sql + "; ROLLBACK");
  EXPECT_EQ(CommitCount(), base + 1);
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM t"), "6000");
  sqlite3* other = OpenOrDie(name_);
  EXPECT_EQ(Query(other, "SELECT count(*), sum(length(b)) FROM t"),
            (Rows{{"6000", std::to_string(5940 * 4000 + 60 * 10)}}));
  EXPECT_EQ(Scalar(other, "PRAGMA integrity_check"), "ok");
  sqlite3_close(other);
}

// A transaction of a few MiB, under the spill threshold but over the
// commit's (4 MiB), is committed through slices written before the commit
// point: one commit, the same content, nothing left behind by a rollback,
// and a shrinking VACUUM of that size keeps its truncation.
TEST_F(VfsTest, MidSizedTransactionsCommitThroughSlices) {
  Exec(db_, "CREATE TABLE t(a INTEGER PRIMARY KEY, b BLOB)");
  size_t base = CommitCount();
  Exec(db_,
       "BEGIN; WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s "
       "WHERE v < 2000) INSERT INTO t SELECT v, randomblob(3000) FROM s; "
       "UPDATE t SET b = zeroblob(5) WHERE a % 10 = 0; COMMIT");
  EXPECT_EQ(CommitCount(), base + 1);
  EXPECT_EQ(Query(db_, "SELECT count(*), sum(length(b)) FROM t"),
            (Rows{{"2000", std::to_string(1800 * 3000 + 200 * 5)}}));
  Exec(db_,
       "BEGIN; UPDATE t SET b = randomblob(3000) WHERE a % 10 = 0; "
       "INSERT INTO t SELECT a + 5000, b FROM t; ROLLBACK");
  EXPECT_EQ(CommitCount(), base + 1);
  EXPECT_EQ(Query(db_, "SELECT count(*), sum(length(b)) FROM t"),
            (Rows{{"2000", std::to_string(1800 * 3000 + 200 * 5)}}));
  Exec(db_, "DELETE FROM t WHERE a > 100");
  Exec(db_, "VACUUM");
  EXPECT_LT(std::stoll(Scalar(db_, "PRAGMA page_count")), 200);
  sqlite3* other = OpenOrDie(name_);
  EXPECT_EQ(Query(other, "SELECT count(*), sum(length(b)) FROM t"),
            (Rows{{"100", std::to_string(90 * 3000 + 10 * 5)}}));
  EXPECT_EQ(Scalar(other, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Scalar(other, "PRAGMA page_count"),
            Scalar(db_, "PRAGMA page_count"));
  sqlite3_close(other);
}

// A transaction larger than the spill threshold that keeps rewriting some
// pages (a random index) and writes others once (the table): spills take
// the least recently written pages, so pages are in the overlay, in the
// spill tree, or in both (a newer version in the overlay).  Reads inside
// the transaction and the committed result must see the newest of each.
TEST_F(VfsTest, PartialSpillsKeepTheNewestVersionOfEveryPage) {
  Exec(db_, "CREATE TABLE t(a INTEGER PRIMARY KEY, k INTEGER, b BLOB);"
            "CREATE INDEX t_k ON t(k)");
  Exec(db_,
       "BEGIN; WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s "
       "WHERE v < 60000) INSERT INTO t SELECT v, (v * 7919) % 50021, "
       "randomblob(300) FROM s");
  // Every row again through the index, inside the transaction.
  const std::string check =
      "SELECT count(*), sum(k) FROM t INDEXED BY t_k WHERE k >= 0";
  const std::string expect_sum = Scalar(
      db_, "WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s "
           "WHERE v < 60000) SELECT sum((v * 7919) % 50021) FROM s");
  EXPECT_EQ(Query(db_, check), (Rows{{"60000", expect_sum}}));
  Exec(db_, "UPDATE t SET k = k + 1 WHERE a % 3 = 0; COMMIT");
  const std::string after = Scalar(
      db_, "WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s "
           "WHERE v < 60000) SELECT sum((v * 7919) % 50021 + (v % 3 = 0)) "
           "FROM s");
  sqlite3* other = OpenOrDie(name_);
  EXPECT_EQ(Query(other, check), (Rows{{"60000", after}}));
  EXPECT_EQ(Query(other, "SELECT count(*), sum(k) FROM t NOT INDEXED"),
            (Rows{{"60000", after}}));
  EXPECT_EQ(Scalar(other, "PRAGMA integrity_check"), "ok");
  sqlite3_close(other);
}

// Large transactions (several spills each) with savepoints rolled back
// and whole transactions rolled back, on Larix and on stock SQLite: the
// same statements must leave the same rows.  Values are literals from a
// seeded generator, so both sides see identical input.
TEST_F(VfsTest, LargeTransactionsWithRollbacksMatchStockSqlite) {
  sqlite3* stock = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &stock), SQLITE_OK);
  const std::string schema =
      "CREATE TABLE t(a INTEGER PRIMARY KEY, k INTEGER, b BLOB);"
      "CREATE INDEX t_k ON t(k)";
  Exec(db_, schema);
  Exec(stock, schema);
  std::mt19937 rng(20261121);
  auto both = [&](const std::string& sql) {
    Exec(db_, sql);
    Exec(stock, sql);
  };
  auto blob = [&] {
    static const char* hex = "0123456789ABCDEF";
    std::string b = "x'";
    size_t n = 500 + rng() % 500;
    for (size_t i = 0; i < 2 * n; i++) b += hex[rng() % 16];
    return b + "'";
  };
  int64_t next_a = 1;
  for (int txn = 0; txn < 3; txn++) {  // ~22 MB each: 2-3 spills
    both("BEGIN");
    for (int batch = 0; batch < 600; batch++) {
      std::string sql = "INSERT INTO t VALUES ";
      for (int r = 0; r < 50; r++) {
        if (r) sql += ",";
        // Appended piece by piece (gcc 12 -Wrestrict false positive on
        // "(" + std::string in Release builds).
        sql.append("(").append(std::to_string(next_a++)).append(",");
        sql.append(std::to_string(rng() % 100000)).append(",");
        sql.append(blob()).append(")");
      }
      both(sql);
      if (batch % 100 == 37) {
        both("SAVEPOINT s");
        both("UPDATE t SET k = k + 1, b = " + blob() + " WHERE k % 97 = " +
             std::to_string(rng() % 97));
        both("DELETE FROM t WHERE k % 89 = " + std::to_string(rng() % 89));
        both(rng() % 2 ? "ROLLBACK TO s" : "RELEASE s");
      }
    }
    both(txn == 1 ? "ROLLBACK" : "COMMIT");
  }
  const std::string digest =
      "SELECT count(*), sum(k), sum(length(b)), sum(a * k % 1000003), "
      "sum(instr(hex(b), 'ABC')) FROM t";
  EXPECT_EQ(Query(db_, digest), Query(stock, digest));
  sqlite3* other = OpenOrDie(name_);
  EXPECT_EQ(Query(other, digest), Query(stock, digest));
  EXPECT_EQ(Query(other, "SELECT count(*), sum(k) FROM t INDEXED BY t_k "
                         "WHERE k >= 0"),
            Query(stock, "SELECT count(*), sum(k) FROM t"));
  EXPECT_EQ(Scalar(other, "PRAGMA integrity_check"), "ok");
  sqlite3_close(other);
  sqlite3_close(stock);
}

TEST_F(VfsTest, PagesReadAfterOwnCommitsAreTheCommittedOnes) {
  // After a commit the connection keeps the page ids it looked up for every
  // page the commit did not write (BranchFile::CarryIdMemo).  A tiny page
  // cache makes SQLite read pages again after every commit, updates change
  // scattered pages, and deletes with VACUUM shrink the file.
  sqlite3* stock = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &stock), SQLITE_OK);
  std::mt19937 rng(7);
  auto both = [&](const std::string& sql) {
    Exec(db_, sql);
    Exec(stock, sql);
  };
  Exec(db_, "PRAGMA cache_size = 10");
  both("CREATE TABLE t(a INTEGER PRIMARY KEY, v TEXT); BEGIN");
  for (int a = 1; a <= 3000; a++) {
    both("INSERT INTO t VALUES (" + std::to_string(a) + ", printf('%.200c', " +
         std::to_string(65 + a % 26) + "))");
  }
  both("COMMIT");
  const std::string digest =
      "SELECT count(*), sum(a), sum(length(v)), sum(unicode(v) * a) FROM t";
  for (int round = 0; round < 40; round++) {
    both("BEGIN");
    for (int u = 0; u < 25; u++) {
      both("UPDATE t SET v = printf('%." + std::to_string(50 + rng() % 300) +
           "c', " + std::to_string(65 + rng() % 26) + ") WHERE a = " +
           std::to_string(1 + rng() % 3000));
    }
    both("COMMIT");
    if (round % 10 == 9) {
      both("DELETE FROM t WHERE a % 7 = " + std::to_string(round % 7));
      both("VACUUM");
    }
    ASSERT_EQ(Query(db_, digest), Query(stock, digest)) << "round " << round;
  }
  EXPECT_EQ(Scalar(db_, "PRAGMA integrity_check"), "ok");
  sqlite3_close(stock);
}

// A write transaction that changes nothing writes no commit, yet SQLite
// bumps the change counter in its cached page 1.  Another connection's
// next commit then stores that same counter: the first connection must
// still drop its cached pages, or its next write is made on page 1 as it
// was before that commit (found by differential_soak_bench, seed 5004:
// an ALTER TABLE RENAME brought back a view another connection had
// dropped).
void WriteThatChangesNothingThenAnotherCommit(const std::string& store) {
  sqlite3* a = OpenOrDie(store);
  sqlite3* b = OpenOrDie(store);
  Exec(a, "CREATE TABLE t(x); CREATE TABLE empty(y); CREATE VIEW v AS "
          "SELECT 1");
  EXPECT_EQ(Scalar(b, "SELECT count(*) FROM sqlite_schema"), "3");
  Exec(b, "DELETE FROM empty");   // changes nothing
  Exec(a, "DROP VIEW v");         // one commit
  Exec(b, "ALTER TABLE t RENAME TO u");
  const Rows expected = {{"table", "empty"}, {"table", "u"}};
  const std::string schema =
      "SELECT type, name FROM sqlite_schema ORDER BY name";
  EXPECT_EQ(Query(b, schema), expected);
  EXPECT_EQ(Query(a, schema), expected);
  sqlite3* fresh = OpenOrDie(store);
  EXPECT_EQ(Query(fresh, schema), expected);
  EXPECT_EQ(Scalar(fresh, "PRAGMA integrity_check"), "ok");
  for (sqlite3* db : {a, b, fresh}) sqlite3_close(db);
}

TEST_F(VfsTest, AWriteThatChangesNothingDoesNotHideTheNextCommit) {
  WriteThatChangesNothingThenAnotherCommit(test::MemoryStoreName());
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("larix_noop_write_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  WriteThatChangesNothingThenAnotherCommit(dir.string());
  std::filesystem::remove_all(dir);
}

TEST_F(VfsTest, VacuumToAnotherPageSizeFailsAndWritesNothing) {
  Exec(db_, "CREATE TABLE t(a, b); INSERT INTO t VALUES (1, randomblob(3000))");
  ObjectId head = *store()->refs()->Resolve(BranchRef("main"));
  Exec(db_, "PRAGMA page_size = 512");
  EXPECT_NE(ExecRc(db_, "VACUUM"), SQLITE_OK);
  BranchFile* f = GetBranchFile(db_);
  EXPECT_NE(BranchFileControl::LastError(f).find("page size"),
            std::string::npos)
      << BranchFileControl::LastError(f);
  // What front ends show: SQLite's message and Larix's reason.
  EXPECT_NE(ErrorMessage(db_).find("disk I/O error: "), std::string::npos)
      << ErrorMessage(db_);
  EXPECT_NE(ErrorMessage(db_).find("page size of a Larix database cannot "
                                   "change (from 4096 to 512 bytes"),
            std::string::npos)
      << ErrorMessage(db_);
  // The same reason through SQL (what the Python package appends); a
  // statement that reads no table starts no transaction and keeps it.
  EXPECT_EQ(Scalar(db_, "SELECT larix_error_detail()"),
            BranchFileControl::LastError(f));
  EXPECT_EQ(*store()->refs()->Resolve(BranchRef("main")), head);
  EXPECT_EQ(Scalar(db_, "PRAGMA page_size"), "4096");
  EXPECT_EQ(Scalar(db_, "SELECT count(*) || '/' || sum(length(b)) FROM t"),
            "1/3000");
  sqlite3* other = OpenOrDie(name_);
  EXPECT_EQ(Scalar(other, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Scalar(other, "SELECT count(*) FROM t"), "1");
  sqlite3_close(other);
  // VACUUM at the same page size still works.
  Exec(db_, "PRAGMA page_size = 4096");
  Exec(db_, "VACUUM");
  EXPECT_EQ(Scalar(db_, "PRAGMA integrity_check"), "ok");
}

TEST_F(VfsTest, ReaderKeepsItsSnapshot) {
  Exec(db_, "CREATE TABLE t(a); INSERT INTO t VALUES (1)");
  sqlite3* reader = OpenOrDie(name_);
  Exec(reader, "BEGIN");
  EXPECT_EQ(Scalar(reader, "SELECT count(*) FROM t"), "1");
  Exec(db_, "INSERT INTO t VALUES (2)");  // the writer is not blocked
  EXPECT_EQ(Scalar(reader, "SELECT count(*) FROM t"), "1");
  Exec(reader, "COMMIT");
  EXPECT_EQ(Scalar(reader, "SELECT count(*) FROM t"), "2");
  sqlite3_close(reader);
}

TEST_F(VfsTest, StaleSnapshotWriterGetsBusyInsideExplicitTransaction) {
  Exec(db_, "CREATE TABLE t(a); INSERT INTO t VALUES (1)");
  sqlite3* other = OpenOrDie(name_);
  Exec(other, "BEGIN; SELECT count(*) FROM t");
  Exec(db_, "INSERT INTO t VALUES (2)");
  // `other` read an older state; letting it write would lose the update.
  EXPECT_EQ(ExecRc(other, "INSERT INTO t VALUES (3)") & 0xff, SQLITE_BUSY);
  Exec(other, "ROLLBACK");
  Exec(other, "INSERT INTO t VALUES (3)");
  EXPECT_EQ(Scalar(db_, "SELECT group_concat(a) FROM t"), "1,2,3");
  sqlite3_close(other);
}

TEST_F(VfsTest, TenWritersWithDefaultTimeoutAllSucceed) {
  Exec(db_, "CREATE TABLE t(thread INTEGER, i INTEGER)");
  constexpr int kThreads = 10, kRows = 30;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      sqlite3* db = nullptr;
      if (!OpenDatabase(name_, {}, &db).ok()) {
        failures++;
        return;
      }
      for (int i = 0; i < kRows; i++) {
        std::string sql = "INSERT INTO t VALUES (" + std::to_string(t) + ", " +
                          std::to_string(i) + ")";
        if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) !=
            SQLITE_OK) {
          failures++;
        }
      }
      sqlite3_close(db);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM t"),
            std::to_string(kThreads * kRows));
}

// The pitfall from the design brief: two branches whose page 1 carries the
// same change counter and schema cookie but different content.  A
// connection moving between them must see each branch's own pages and
// schema.
TEST_F(VfsTest, NoStalePagesOrSchemaAcrossBranchesWithEqualCounters) {
  Exec(db_, "CREATE TABLE t(a); INSERT INTO t VALUES (1)");
  CreateBranch("dev", "main");
  sqlite3* dev = OpenOrDie(name_ + "@dev");
  // The same number of transactions on each side, each changing the schema
  // once, keeps counter and cookie equal.
  Exec(db_, "CREATE TABLE only_main(x); INSERT INTO t VALUES (2)");
  Exec(dev, "CREATE TABLE only_dev(y); INSERT INTO t VALUES (3)");
  auto header = [&](const std::string& branch) {
    ObjectId head = *store()->refs()->Resolve(BranchRef(branch));
    ObjectId tree = (*store()->commits()->Load(head))->tree;
    ObjectId page1 = *store()->trees()->Get(tree, 0);
    std::string bytes = **store()->odb()->Read(page1);
    return bytes.substr(2 + 24, 4) + bytes.substr(2 + 40, 4);
  };
  ASSERT_EQ(header("main"), header("dev")) << "test premise: equal counters";

  EXPECT_EQ(Scalar(db_, "SELECT group_concat(a) FROM t"), "1,2");
  BranchFile* f = GetBranchFile(db_);
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(BranchFileControl::SwitchBranch(f, "dev").ok());
  EXPECT_EQ(Scalar(db_, "SELECT group_concat(a) FROM t"), "1,3");
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM only_dev"), "0");
  EXPECT_NE(ExecRc(db_, "SELECT * FROM only_main"), SQLITE_OK);
  ASSERT_TRUE(BranchFileControl::SwitchBranch(f, "main").ok());
  EXPECT_EQ(Scalar(db_, "SELECT group_concat(a) FROM t"), "1,2");
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM only_main"), "0");
  // Writes after switching land on the right branch.
  Exec(db_, "INSERT INTO t VALUES (4)");
  EXPECT_EQ(Scalar(dev, "SELECT group_concat(a) FROM t"), "1,3");
  sqlite3_close(dev);
}

// A branch head that jumps (a reset to an older commit) must not leave the
// connection with pages of the newer state.
TEST_F(VfsTest, NoStalePagesAfterHeadJumpsBack) {
  Exec(db_, "CREATE TABLE t(a); INSERT INTO t VALUES (1)");
  ObjectId old_head = *store()->refs()->Resolve(BranchRef("main"));
  Exec(db_, "INSERT INTO t VALUES (2)");
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM t"), "2");
  ObjectId new_head = *store()->refs()->Resolve(BranchRef("main"));
  RefTransaction tx;
  tx.Update(BranchRef("main"), new_head, old_head, "reset");
  ASSERT_TRUE(store()->UpdateRefs(tx).ok());
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM t"), "1");
  Exec(db_, "INSERT INTO t VALUES (3)");
  EXPECT_EQ(Scalar(db_, "SELECT group_concat(a) FROM t"), "1,3");
  EXPECT_EQ(Scalar(db_, "PRAGMA integrity_check"), "ok");
}

TEST_F(VfsTest, WritersOnDifferentBranchesDoNotBlock) {
  Exec(db_, "CREATE TABLE t(a)");
  CreateBranch("dev", "main");
  sqlite3* dev = OpenOrDie(name_ + "@dev");
  Exec(db_, "BEGIN IMMEDIATE; INSERT INTO t VALUES (1)");
  Exec(dev, "INSERT INTO t VALUES (2)");  // would time out if blocked
  Exec(db_, "COMMIT");
  EXPECT_EQ(Scalar(db_, "SELECT group_concat(a) FROM t"), "1");
  EXPECT_EQ(Scalar(dev, "SELECT group_concat(a) FROM t"), "2");
  sqlite3_close(dev);
}

}  // namespace
}  // namespace larix
