// Bad input at the SQL level: damaged objects met during a query, a full
// disk during a commit, stores that are not stores.  Each gives one clear
// error with SQLite's code, leaves no partial commit, and everything
// committed before stays readable.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "larix/store.h"
#include "larix/sys/backend.h"
#include "objects/commit_graph.h"
#include "objects/odb.h"
#include "objects/page_tree.h"
#include "refs/ref_db.h"
#include "refs/ref_name.h"
#include "sql/engine.h"
#include "sql/vfs.h"
#include "sql_test_util.h"
#include "support/fault_injection_env.h"

namespace larix {
namespace {

namespace fs = std::filesystem;
using test::Exec;
using test::ExecRc;
using test::Scalar;

TEST(BadInputTest, DamagedPageIsSqliteCorruptNamingTheObject) {
  std::string name = test::MemoryStoreName();
  auto engine = *Engine::Adopt(name, Store::OpenInMemory());
  sqlite3* db = test::OpenOrDie(name);
  Exec(db, "CREATE TABLE small(a); INSERT INTO small VALUES (1);");
  Exec(db, "CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB)");
  Exec(db, "WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s "
           "WHERE v < 50) INSERT INTO big SELECT v, randomblob(3000) FROM s");
  // Find a page of `big` (its last page) and damage its stored bytes.
  Store* store = engine->store();
  ObjectId head = *store->refs()->Resolve(BranchRef("main"));
  ObjectId tree = (*store->commits()->Load(head))->tree;
  uint32_t pages = *store->trees()->PageCount(tree);
  ObjectId victim = *store->trees()->Get(tree, pages - 1);
  std::string stored;
  ASSERT_TRUE(store->backend()->ReadObject(victim, &stored).ok());
  stored[stored.size() - 10] ^= 0x01;
  WriteBatch del, put;
  del.DeleteObject(victim);
  put.PutObject(victim, stored);
  ASSERT_TRUE(store->backend()->Apply(del, {}).ok());
  ASSERT_TRUE(store->backend()->Apply(put, {}).ok());
  store->odb()->Forget(victim);

  sqlite3_close(db);  // drop SQLite's page cache too
  db = test::OpenOrDie(name);
  EXPECT_EQ(Scalar(db, "SELECT a FROM small"), "1");  // the rest is readable
  int rc = ExecRc(db, "SELECT sum(length(b)) FROM big");
  EXPECT_EQ(rc & 0xff, SQLITE_CORRUPT);
  BranchFile* f = GetBranchFile(db);
  std::string detail = BranchFileControl::LastError(f);
  EXPECT_NE(detail.find(victim.ToHex()), std::string::npos) << detail;
  EXPECT_NE(detail.find("hash mismatch"), std::string::npos) << detail;
  // Nothing was written: the head is where it was.
  EXPECT_EQ(*store->refs()->Resolve(BranchRef("main")), head);
  sqlite3_close(db);
}

TEST(BadInputTest, FullDiskDuringCommitIsSqliteFullAndLeavesNoPartialCommit) {
  fs::path dir = fs::temp_directory_path() /
                 ("larix_full_sql_" + std::to_string(getpid()));
  fs::remove_all(dir);
  test::FaultInjectionEnv env;
  StoreOptions options;
  options.create_if_missing = true;
  options.env = &env;
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(dir.string(), options, &store).ok());
  Store* raw = store.get();
  std::string name = dir.string();
  auto engine = *Engine::Adopt(name, std::move(store));
  sqlite3* db = test::OpenOrDie(name);
  Exec(db, "CREATE TABLE t(a INTEGER, b BLOB)");
  Exec(db, "INSERT INTO t VALUES (1, randomblob(100))");
  ObjectId head = *raw->refs()->Resolve(BranchRef("main"));

  env.FailNthFaultPoint(1, test::FaultInjectionEnv::FaultKind::kNoSpace,
                        /*torn_write=*/false, /*sticky=*/true);
  int rc = ExecRc(db, "INSERT INTO t VALUES (2, randomblob(5000))");
  EXPECT_EQ(rc & 0xff, SQLITE_FULL);
  rc = ExecRc(db,
              "BEGIN; INSERT INTO t VALUES (3, NULL); "
              "INSERT INTO t VALUES (4, NULL); COMMIT");
  EXPECT_EQ(rc & 0xff, SQLITE_FULL);
  ExecRc(db, "ROLLBACK");
  env.ClearFault();

  EXPECT_EQ(*raw->refs()->Resolve(BranchRef("main")), head);
  EXPECT_EQ(Scalar(db, "SELECT group_concat(a) FROM t"), "1");
  EXPECT_EQ(Scalar(db, "PRAGMA integrity_check"), "ok");
  sqlite3_close(db);
  engine.reset();
  fs::remove_all(dir);
}

TEST(BadInputTest, NotAStoreAndNewerFormatAreClearErrors) {
  fs::path dir = fs::temp_directory_path() /
                 ("larix_notstore_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "data.csv") << "1,2,3\n";
  sqlite3* db = nullptr;
  Status s = OpenDatabase(dir.string(), {}, &db);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("not a Larix store"), std::string::npos);
  EXPECT_EQ(db, nullptr);
  EXPECT_TRUE(fs::exists(dir / "data.csv"));
  fs::remove_all(dir);

  fs::create_directories(dir);
  {
    std::unique_ptr<Store> store;
    StoreOptions o;
    o.create_if_missing = true;
    ASSERT_TRUE(Store::Open(dir.string(), o, &store).ok());
  }
  std::ofstream(dir / "LARIX", std::ios::trunc) << "larix-store 7 pack\n";
  s = OpenDatabase(dir.string(), {}, &db);
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
  EXPECT_NE(s.message().find("newer"), std::string::npos);
  fs::remove_all(dir);
}

TEST(BadInputTest, TempTablesAndInMemoryStoresWork) {
  std::string name = test::MemoryStoreName();
  sqlite3* db = test::OpenOrDie(name);
  Exec(db, "CREATE TEMP TABLE scratch(x); INSERT INTO scratch VALUES (1), (2)");
  Exec(db, "CREATE TABLE kept(x); INSERT INTO kept SELECT x FROM scratch");
  Exec(db, "CREATE TEMP TABLE big AS WITH RECURSIVE s(v) AS (SELECT 1 "
           "UNION ALL SELECT v + 1 FROM s WHERE v < 2000) SELECT "
           "randomblob(2000) b FROM s");  // spills to a temp file
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM big"), "2000");
  EXPECT_EQ(Scalar(db, "SELECT sum(x) FROM kept"), "3");
  // Temp tables are not versioned: a second connection sees only kept.
  sqlite3* other = test::OpenOrDie(name);
  EXPECT_EQ(Scalar(other, "SELECT count(*) FROM kept"), "2");
  EXPECT_NE(ExecRc(other, "SELECT * FROM scratch"), SQLITE_OK);
  // The in-memory store is versioned: history and branches work.
  EXPECT_EQ(test::ScalarLarix(other, "SELECT count(*) FROM larix_log"), "3");
  sqlite3_close(other);
  sqlite3_close(db);
}

}  // namespace
}  // namespace larix
