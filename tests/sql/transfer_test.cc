// ImportSqliteFile / ExportToSqliteFile: a SQLite file made by stock SQLite
// goes into a branch page for page, reads back through the Larix VFS with
// the same content, and comes out as a file stock SQLite opens, byte for
// byte the original; the source is never modified; files that are not
// safely importable (hot journal, un-checkpointed WAL, a writer holding
// them, not SQLite) are refused.

#include "larix/transfer.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "larix/database.h"
#include "objects/commit_graph.h"
#include "objects/object_format.h"
#include "objects/odb.h"
#include "objects/page_tree.h"
#include "refs/ref_db.h"
#include "refs/ref_name.h"
#include "sql/engine.h"
#include "sql_test_util.h"

namespace larix {
namespace {

using test::Exec;
using test::Query;
using test::Rows;
using test::Scalar;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Opens a plain SQLite file with the default (unix) VFS.
sqlite3* OpenPlain(const std::string& path, int flags = SQLITE_OPEN_READWRITE |
                                                        SQLITE_OPEN_CREATE) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, flags, nullptr), SQLITE_OK)
      << path;
  return db;
}

// Every table's schema and rows, in a canonical order, each value with its
// storage class (blobs in hex): equal dumps mean equal content.
Rows Dump(sqlite3* db) {
  Rows out = Query(db,
                   "SELECT type, name, tbl_name, sql FROM sqlite_schema "
                   "ORDER BY type, name");
  for (const auto& t : Query(db,
                             "SELECT name FROM sqlite_schema WHERE type = "
                             "'table' AND name NOT LIKE 'sqlite_%' "
                             "ORDER BY name")) {
    std::string name = t[0];
    Rows cols = Query(db, "SELECT name FROM pragma_table_info('" + name + "')");
    std::string select, order;
    for (size_t i = 0; i < cols.size(); i++) {
      std::string c = "\"" + cols[i][0] + "\"";
      select += (i ? " || '|' || " : "") + std::string("typeof(") + c +
                ") || ':' || quote(" + c + ")";
      order += (i ? ", " : "") + c;
    }
    out.push_back({"table " + name});
    Rows rows = Query(db, "SELECT " + select + " FROM \"" + name +
                              "\" ORDER BY " + order);
    out.insert(out.end(), rows.begin(), rows.end());
  }
  return out;
}

class TransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") +
                       "/larix-transfer-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    name_ = test::MemoryStoreName();
    engine_ = *Engine::Acquire(name_, true);
  }
  void TearDown() override {
    engine_.reset();
    std::string cmd = "rm -rf '" + dir_ + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }

  Store* store() { return engine_->store(); }
  std::string Path(const std::string& name) { return dir_ + "/" + name; }

  // A database with an index, a WITHOUT ROWID table, a view, a trigger,
  // many small rows and overflow chains (one blob of 1 MiB).
  std::string MakeSource(const std::string& name,
                         const std::string& journal_mode = "delete") {
    std::string path = Path(name);
    sqlite3* db = OpenPlain(path);
    Exec(db, "PRAGMA page_size = 4096; PRAGMA journal_mode = " + journal_mode);
    Exec(db,
         "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
         "price REAL, note TEXT DEFAULT 'none');"
         "CREATE INDEX items_name ON items(name);"
         "CREATE TABLE blobs(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;"
         "CREATE TABLE log(at INTEGER, what TEXT);"
         "CREATE VIEW cheap AS SELECT * FROM items WHERE price < 10;"
         "CREATE TRIGGER items_log AFTER INSERT ON items BEGIN "
         "  INSERT INTO log VALUES (new.id, 'insert ' || new.name); END;");
    Exec(db,
         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
         "WHERE i < 500) INSERT INTO items(name, price, note) "
         "SELECT 'item ' || i, i * 0.25, CASE WHEN i % 7 = 0 THEN NULL "
         "ELSE printf('%.*c', i % 50, 'x') END FROM n");
    Exec(db,
         "INSERT INTO blobs VALUES ('big', randomblob(1048576)), "
         "('mid', randomblob(100000)), ('small', x'00ff10'), ('null', NULL)");
    sqlite3_close(db);
    return path;
  }

  // Page `pgno` (0-based) of commit `c`'s tree.
  std::string PageOf(const ObjectId& tree, uint32_t pgno) {
    ObjectId id = *store()->trees()->Get(tree, pgno);
    EXPECT_FALSE(id.IsNull()) << "page " << pgno;
    if (id.IsNull()) return "";
    return std::string(*DecodePage(**store()->odb()->Read(id)));
  }

  // Checks that `tree` holds exactly the pages of `file` (bytes 18/19 of
  // page 1 normalised to 1).
  void ExpectSamePages(const ObjectId& tree, std::string file) {
    ASSERT_GE(file.size(), 100u);
    file[18] = file[19] = 1;
    uint32_t page_size = (uint8_t(file[16]) << 8) | uint8_t(file[17]);
    if (page_size == 1) page_size = 65536;
    ASSERT_EQ(file.size() % page_size, 0u);
    uint32_t npages = file.size() / page_size;
    EXPECT_EQ(*store()->trees()->PageCount(tree), npages);
    for (uint32_t p = 0; p < npages; p++) {
      // A boolean, so a failure does not print two pages of bytes.
      ASSERT_TRUE(PageOf(tree, p) ==
                  file.substr(uint64_t{p} * page_size, page_size))
          << "page " << p + 1 << " differs";
    }
  }

  std::string dir_;
  std::string name_;
  std::shared_ptr<Engine> engine_;
};

TEST_F(TransferTest, ImportQueryExportRoundTrip) {
  std::string src = MakeSource("source.db");
  std::string before = ReadFile(src);
  ASSERT_GT(before.size(), 1000000u);
  ObjectId old_head = *store()->refs()->Resolve(BranchRef("main"));

  ImportOptions options;
  options.chunk_bytes = 64 << 10;  // many chunks: the multi-write path
  uint64_t last_done = 0, calls = 0;
  options.progress = [&](uint64_t done, uint64_t total) {
    EXPECT_GE(done, last_done);
    EXPECT_EQ(total, before.size() / 4096);
    last_done = done;
    calls++;
  };
  CommitResult result;
  ASSERT_TRUE(ImportSqliteFile(src, store(), "main", options, &result).ok());
  EXPECT_EQ(last_done, before.size() / 4096);
  EXPECT_GT(calls, 10u);

  // One commit on main, child of the initial commit, with the file's pages.
  EXPECT_EQ(*store()->refs()->Resolve(BranchRef("main")), result.commit);
  auto commit = *store()->commits()->Load(result.commit);
  EXPECT_EQ(commit->parents, std::vector<ObjectId>{old_head});
  EXPECT_EQ(commit->tree, result.tree);
  EXPECT_EQ(commit->message, "Import source.db");
  ExpectSamePages(result.tree, before);
  EXPECT_TRUE(ReadFile(src) == before) << "the source file changed";

  // The same content through SQL.
  sqlite3* plain = OpenPlain(src, SQLITE_OPEN_READONLY);
  Rows expected = Dump(plain);
  sqlite3_close(plain);
  sqlite3* db = test::OpenOrDie(name_);
  EXPECT_EQ(Dump(db), expected);
  EXPECT_EQ(Scalar(db, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Scalar(db, "SELECT length(v) FROM blobs WHERE k = 'big'"),
            "1048576");
  // And it is an ordinary branch: it takes writes.
  Exec(db, "INSERT INTO items(name, price) VALUES ('new', 1.5)");
  sqlite3_close(db);

  // Export the imported commit: byte for byte the source.
  std::string out = Path("out.db");
  ExportStats stats;
  uint64_t export_calls = 0;
  ExportOptions eo;
  eo.progress = [&](uint64_t, uint64_t) { export_calls++; };
  ASSERT_TRUE(
      ExportToSqliteFile(store(), result.commit, out, eo, &stats).ok());
  EXPECT_GT(export_calls, 0u);
  EXPECT_EQ(stats.page_size, 4096u);
  EXPECT_EQ(stats.pages, before.size() / 4096);
  EXPECT_TRUE(ReadFile(out) == before) << "export differs from the source";
  EXPECT_FALSE(Exists(out + ".tmp"));

  sqlite3* exported = OpenPlain(out, SQLITE_OPEN_READONLY);
  EXPECT_EQ(Scalar(exported, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Dump(exported), expected);
  sqlite3_close(exported);

  // The branch head (with the new row) exports too, and differs.
  ObjectId head = *store()->ResolveRevision("main");
  std::string out2 = Path("out2.db");
  ASSERT_TRUE(ExportToSqliteFile(store(), head, out2, {}).ok());
  sqlite3* e2 = OpenPlain(out2, SQLITE_OPEN_READONLY);
  EXPECT_EQ(Scalar(e2, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Scalar(e2, "SELECT price FROM items WHERE name = 'new'"), "1.5");
  sqlite3_close(e2);
}

TEST_F(TransferTest, ExportRefusesToOverwriteUnlessForced) {
  std::string src = MakeSource("source.db");
  CommitResult result;
  ASSERT_TRUE(ImportSqliteFile(src, store(), "main", {}, &result).ok());
  std::string out = Path("existing.db");
  WriteFile(out, "keep me");
  Status s = ExportToSqliteFile(store(), result.commit, out, {});
  EXPECT_TRUE(s.IsAlreadyExists()) << s.ToString();
  EXPECT_EQ(ReadFile(out), "keep me");
  ExportOptions force;
  force.force = true;
  ASSERT_TRUE(ExportToSqliteFile(store(), result.commit, out, force).ok());
  EXPECT_TRUE(ReadFile(out) == ReadFile(src)) << "export differs";

  // A journal beside the target would be rolled into the new file.
  std::string out2 = Path("fresh.db");
  WriteFile(out2 + "-journal", std::string("\xd9\xd5\x05\xf9 journal", 12));
  s = ExportToSqliteFile(store(), result.commit, out2, {});
  EXPECT_TRUE(s.IsAlreadyExists()) << s.ToString();
  EXPECT_FALSE(Exists(out2));
}

TEST_F(TransferTest, WalModeFileIsImportedAsLegacy) {
  std::string src = MakeSource("wal.db", "wal");
  std::string before = ReadFile(src);
  ASSERT_EQ(before[18], 2) << "test premise: a WAL-mode header";
  ASSERT_FALSE(Exists(src + "-wal") && ReadFile(src + "-wal").size() > 0);

  CommitResult result;
  ASSERT_TRUE(ImportSqliteFile(src, store(), "main", {}, &result).ok());
  std::string page1 = PageOf(result.tree, 0);
  EXPECT_EQ(page1[18], 1);
  EXPECT_EQ(page1[19], 1);
  ExpectSamePages(result.tree, before);  // every other byte identical
  EXPECT_TRUE(ReadFile(src) == before) << "the source file changed";

  sqlite3* plain = OpenPlain(src, SQLITE_OPEN_READONLY);
  Rows expected = Dump(plain);
  sqlite3_close(plain);
  sqlite3* db = test::OpenOrDie(name_);
  EXPECT_EQ(Dump(db), expected);
  EXPECT_EQ(Scalar(db, "PRAGMA integrity_check"), "ok");
  sqlite3_close(db);

  std::string out = Path("wal-out.db");
  ASSERT_TRUE(ExportToSqliteFile(store(), result.commit, out, {}).ok());
  sqlite3* e = OpenPlain(out, SQLITE_OPEN_READONLY);
  EXPECT_EQ(Scalar(e, "PRAGMA journal_mode"), "delete");
  EXPECT_EQ(Scalar(e, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Dump(e), expected);
  sqlite3_close(e);
}

TEST_F(TransferTest, UncheckpointedWalIsRefused) {
  std::string src = MakeSource("wal.db", "wal");
  sqlite3* writer = OpenPlain(src);
  Exec(writer, "PRAGMA wal_autocheckpoint = 0");
  Exec(writer, "INSERT INTO log VALUES (1, 'only in the WAL')");
  ASSERT_GT(ReadFile(src + "-wal").size(), 0u);
  std::string before = ReadFile(src);

  Status s = ImportSqliteFile(src, store(), "main", {}, nullptr);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(s.message().find("wal_checkpoint"), std::string::npos)
      << s.message();
  EXPECT_TRUE(ReadFile(src) == before) << "the source file changed";
  auto head = *store()->commits()->Load(
      *store()->refs()->Resolve(BranchRef("main")));
  EXPECT_TRUE(head->tree.IsNull()) << "nothing may be committed";

  // After a checkpoint the file holds everything, and imports.
  Exec(writer, "PRAGMA wal_checkpoint(TRUNCATE)");
  CommitResult result;
  Status ok = ImportSqliteFile(src, store(), "main", {}, &result);
  ASSERT_TRUE(ok.ok()) << ok.ToString();
  sqlite3_close(writer);
  sqlite3* db = test::OpenOrDie(name_);
  EXPECT_EQ(
      Scalar(db, "SELECT count(*) FROM log WHERE what = 'only in the WAL'"),
      "1");
  sqlite3_close(db);
}

TEST_F(TransferTest, HotJournalIsRefused) {
  std::string src = MakeSource("hot.db");
  // What a crashed writer leaves: a journal starting with SQLite's magic.
  WriteFile(src + "-journal",
            std::string("\xd9\xd5\x05\xf9\x20\xa1\x63\xd7", 8) +
                std::string(504, '\1'));
  std::string before = ReadFile(src);
  Status s = ImportSqliteFile(src, store(), "main", {}, nullptr);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(s.message().find("hot journal"), std::string::npos) << s.message();
  EXPECT_TRUE(CheckSqliteFile(src).IsBusy());
  EXPECT_TRUE(ReadFile(src) == before) << "the source file changed";

  // A journal whose header was zeroed (journal_mode=PERSIST) is not hot.
  WriteFile(src + "-journal", std::string(512, '\0'));
  EXPECT_TRUE(ImportSqliteFile(src, store(), "main", {}, nullptr).ok());
}

TEST_F(TransferTest, FileHeldByAWriterIsRefused) {
  std::string src = MakeSource("busy.db");
  sqlite3* writer = OpenPlain(src);
  Exec(writer, "BEGIN EXCLUSIVE; INSERT INTO log VALUES (1, 'uncommitted')");
  Status s = ImportSqliteFile(src, store(), "main", {}, nullptr);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  Exec(writer, "COMMIT");
  // Our lock is gone with our descriptor, and the writer's locks survived
  // it: the writer can still write.
  Exec(writer, "INSERT INTO log VALUES (2, 'after')");
  EXPECT_TRUE(ImportSqliteFile(src, store(), "main", {}, nullptr).ok());
  Exec(writer, "INSERT INTO log VALUES (3, 'after import')");
  sqlite3_close(writer);
}

TEST_F(TransferTest, NotASqliteFileIsRefused) {
  std::string path = Path("text.txt");
  WriteFile(path, std::string(4096, 'x'));
  Status s = ImportSqliteFile(path, store(), "main", {}, nullptr);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("not a SQLite database"), std::string::npos);

  std::string src = MakeSource("trunc.db");
  std::string bytes = ReadFile(src);
  WriteFile(src, bytes.substr(0, bytes.size() - 100));
  s = ImportSqliteFile(src, store(), "main", {}, nullptr);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();

  s = ImportSqliteFile(Path("missing.db"), store(), "main", {}, nullptr);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  s = ImportSqliteFile(dir_, store(), "main", {}, nullptr);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

TEST_F(TransferTest, NonEmptyBranchNeedsForce) {
  std::string src = MakeSource("a.db");
  CommitResult first;
  ASSERT_TRUE(ImportSqliteFile(src, store(), "", {}, &first).ok());
  Status s = ImportSqliteFile(src, store(), "main", {}, nullptr);
  EXPECT_TRUE(s.IsAlreadyExists()) << s.ToString();

  // --force replaces the content in a new commit; history is kept.
  sqlite3* small = OpenPlain(Path("small.db"));
  Exec(small, "CREATE TABLE only(x); INSERT INTO only VALUES (42)");
  sqlite3_close(small);
  ImportOptions force;
  force.force = true;
  force.message = "replace";
  CommitResult second;
  ASSERT_TRUE(
      ImportSqliteFile(Path("small.db"), store(), "main", force, &second).ok());
  auto c = *store()->commits()->Load(second.commit);
  EXPECT_EQ(c->parents, std::vector<ObjectId>{first.commit});
  EXPECT_EQ(c->message, "replace");
  ExpectSamePages(second.tree, ReadFile(Path("small.db")));
  sqlite3* db = test::OpenOrDie(name_);
  EXPECT_EQ(Query(db, "SELECT name FROM sqlite_schema"), (Rows{{"only"}}));
  sqlite3_close(db);
}

TEST_F(TransferTest, ImportIntoNewBranchCreatesARootCommit) {
  std::string src = MakeSource("a.db");
  CommitResult result;
  ASSERT_TRUE(ImportSqliteFile(src, store(), "imported", {}, &result).ok());
  auto c = *store()->commits()->Load(result.commit);
  EXPECT_TRUE(c->parents.empty());
  EXPECT_EQ(*store()->refs()->Resolve(BranchRef("imported")), result.commit);
  sqlite3* db = test::OpenOrDie(name_ + "@imported");
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM items"), "500");
  sqlite3_close(db);
  // main is untouched.
  auto main_head = *store()->commits()->Load(
      *store()->refs()->Resolve(BranchRef("main")));
  EXPECT_TRUE(main_head->tree.IsNull());

  Status s = ImportSqliteFile(src, store(), "bad name", {}, nullptr);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

TEST_F(TransferTest, EmptyDatabaseRoundTrips) {
  std::string empty = Path("empty.db");
  WriteFile(empty, "");
  CommitResult result;
  ASSERT_TRUE(ImportSqliteFile(empty, store(), "main", {}, &result).ok());
  EXPECT_TRUE(result.tree.IsNull());
  std::string out = Path("empty-out.db");
  ExportStats stats;
  ASSERT_TRUE(ExportToSqliteFile(store(), result.commit, out, {}, &stats).ok());
  EXPECT_EQ(stats.pages, 0u);
  EXPECT_EQ(ReadFile(out), "");
  sqlite3* e = OpenPlain(out);
  Exec(e, "CREATE TABLE t(a)");
  EXPECT_EQ(Scalar(e, "PRAGMA integrity_check"), "ok");
  sqlite3_close(e);
}

TEST_F(TransferTest, OtherPageSizes) {
  for (int page_size : {512, 65536}) {
    std::string path = Path("ps" + std::to_string(page_size) + ".db");
    sqlite3* db = OpenPlain(path);
    Exec(db, "PRAGMA page_size = " + std::to_string(page_size));
    Exec(db,
         "CREATE TABLE t(a, b); INSERT INTO t VALUES (1, randomblob(3000))");
    sqlite3_close(db);
    std::string bytes = ReadFile(path);
    std::string branch = "ps" + std::to_string(page_size);
    CommitResult result;
    ASSERT_TRUE(ImportSqliteFile(path, store(), branch, {}, &result).ok());
    ExpectSamePages(result.tree, bytes);
    sqlite3* l = test::OpenOrDie(name_ + "@" + branch);
    EXPECT_EQ(Scalar(l, "PRAGMA page_size"), std::to_string(page_size));
    EXPECT_EQ(Scalar(l, "SELECT length(b) FROM t"), "3000");
    sqlite3_close(l);
    std::string out = path + ".out";
    ASSERT_TRUE(ExportToSqliteFile(store(), result.commit, out, {}).ok());
    EXPECT_TRUE(ReadFile(out) == bytes) << "export differs";
  }
}

}  // namespace
}  // namespace larix
