// BtreeReader: decodes what SQLite wrote, exactly (types included), and
// reports damage as Corruption naming the page instead of crashing.
//
// Every decoding test reads the same table twice: through SQL (SQLite on
// the Larix VFS) and through BtreeReader on the commit's page tree, and
// requires the same rows with the same types and bytes.

#include "sql/btree_reader.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "larix/store.h"
#include "larix/sys/backend.h"
#include "objects/commit_graph.h"
#include "objects/object_format.h"
#include "objects/odb.h"
#include "objects/page_tree.h"
#include "sql/engine.h"
#include "sql/sqlite_values.h"
#include "sql_test_util.h"

namespace larix {
namespace {

using test::Exec;
using test::OpenOrDie;
using test::QueryValues;

std::string Describe(const std::vector<SqlValue>& row) {
  std::string s;
  for (const SqlValue& v : row) {
    s += (s.empty() ? "" : ", ") + v.ToSqlLiteral().substr(0, 40);
    s += "/" + std::to_string(static_cast<int>(v.type));
  }
  return s;
}

SqlValue RandomValue(std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  switch (pick(6)) {
    case 0:
      return SqlValue::Null();
    case 1: {
      static const int64_t kInts[] = {0,
                                      1,
                                      -1,
                                      127,
                                      128,
                                      -129,
                                      32767,
                                      32768,
                                      8388607,
                                      -8388609,
                                      2147483647,
                                      2147483648LL,
                                      140737488355327LL,
                                      140737488355328LL,
                                      std::numeric_limits<int64_t>::max(),
                                      std::numeric_limits<int64_t>::min()};
      if (pick(3) == 0) return SqlValue::Integer(static_cast<int64_t>(rng()));
      return SqlValue::Integer(kInts[pick(std::size(kInts))]);
    }
    case 2: {
      static const double kReals[] = {0.0,  1.0,    -1.5,  0.1,   1e300,
                                      -1e-300, 3.0, 9007199254740992.0,
                                      -0.0, 1e20};
      if (pick(3) == 0) {
        return SqlValue::Real(std::ldexp(static_cast<double>(rng() % 100000),
                                         static_cast<int>(pick(80)) - 40));
      }
      return SqlValue::Real(kReals[pick(std::size(kReals))]);
    }
    case 3: {
      static const char* kTexts[] = {"", "1", "1.0", " 12 ", "héllo wörld",
                                     "0x10", "1e3", "abc"};
      if (pick(2) == 0) return SqlValue::Text(kTexts[pick(std::size(kTexts))]);
      size_t n = pick(8) == 0 ? 3000 + pick(70000) : pick(40);
      std::string s;
      for (size_t i = 0; i < n; i++) s += static_cast<char>('a' + pick(26));
      return SqlValue::Text(s);
    }
    default: {
      size_t n = pick(8) == 0 ? 3000 + pick(60000) : pick(30);
      std::string s;
      for (size_t i = 0; i < n; i++) s += static_cast<char>(rng());
      return SqlValue::Blob(s);
    }
  }
}

class BtreeReaderTest : public test::MemoryStoreTest {
 protected:
  ObjectId HeadTree() {
    ObjectId head = *store()->ResolveRevision("main");
    return (*store()->commits()->Load(head))->tree;
  }

  std::unique_ptr<BtreeReader> Reader(const ObjectId& tree) {
    std::unique_ptr<BtreeReader> reader;
    Status s = BtreeReader::Open(store(), tree, &reader);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return reader;
  }

  // Inserts `rows` into `table` with bound parameters, in one transaction.
  void Insert(const std::string& table, size_t ncols,
              const std::vector<std::vector<SqlValue>>& rows,
              const std::string& verb = "INSERT") {
    std::string sql = verb + " INTO " + table + " VALUES (";
    for (size_t i = 0; i < ncols; i++) sql += i ? ", ?" : "?";
    sql += ")";
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db_);
    Exec(db_, "BEGIN");
    for (const auto& row : rows) {
      for (size_t i = 0; i < ncols; i++) {
        BindSqlValue(stmt, static_cast<int>(i + 1), row[i]);
      }
      ASSERT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db_);
      sqlite3_reset(stmt);
    }
    Exec(db_, "COMMIT");
    sqlite3_finalize(stmt);
  }

  // The rows of `table` by SQL and by BtreeReader, both as
  // [rowid-or-nothing, columns...], in the same order.
  void ExpectSameRows(const std::string& table, const std::string& columns) {
    std::unique_ptr<BtreeReader> reader = Reader(HeadTree());
    ASSERT_NE(reader, nullptr);
    TableInfo info;
    Status s = reader->FindTable(table, &info);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::vector<std::vector<SqlValue>> got;
    s = reader->ScanTable(info, [&](int64_t rowid, std::vector<SqlValue>& row) {
      std::vector<SqlValue> r;
      if (!info.without_rowid) r.push_back(SqlValue::Integer(rowid));
      for (size_t c = 0; c < row.size(); c++) {
        if (!info.columns[c].virtual_generated) r.push_back(row[c]);
      }
      got.push_back(std::move(r));
      return Status::OK();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::string sql = "SELECT " +
                      std::string(info.without_rowid ? "" : "_rowid_, ") +
                      columns + " FROM " + table;
    if (!info.without_rowid) sql += " ORDER BY _rowid_";
    std::vector<std::vector<SqlValue>> want = QueryValues(db_, sql);
    if (info.without_rowid) {
      // Order both by primary key (columns are listed in declaration order).
      auto by_key = [&](const std::vector<SqlValue>& a,
                        const std::vector<SqlValue>& b) {
        for (int c : info.primary_key) {
          int cmp = CompareSqlValues(a[c], b[c]);
          if (cmp != 0) return cmp < 0;
        }
        return false;
      };
      std::sort(got.begin(), got.end(), by_key);
      std::sort(want.begin(), want.end(), by_key);
    }
    ASSERT_EQ(got.size(), want.size()) << table;
    for (size_t i = 0; i < got.size(); i++) {
      ASSERT_EQ(got[i].size(), want[i].size());
      for (size_t c = 0; c < got[i].size(); c++) {
        ASSERT_TRUE(got[i][c] == want[i][c])
            << table << " row " << i << " column " << c << "\n  reader: "
            << Describe(got[i]) << "\n  sqlite: " << Describe(want[i]);
      }
    }
  }

  // A new tree: `tree` with page `pgno` (1-based) replaced by `bytes`.
  ObjectId ReplacePage(const ObjectId& tree, uint32_t pgno,
                       const std::string& bytes) {
    WriteBatch batch;
    ObjectId page = store()->odb()->Stage(&batch, EncodePage(bytes));
    Result<ObjectId> root =
        store()->trees()->Apply(tree, {{pgno - 1, page}}, std::nullopt, &batch);
    EXPECT_TRUE(root.ok());
    EXPECT_TRUE(store()->WriteObjects(batch, false).ok());
    return *root;
  }

  std::string PageBytes(const ObjectId& tree, uint32_t pgno) {
    ObjectId id = *store()->trees()->Get(tree, pgno - 1);
    return std::string(*DecodePage(**store()->odb()->Read(id)));
  }
};

TEST_F(BtreeReaderTest, EmptyDatabaseHasNoTables) {
  std::unique_ptr<BtreeReader> reader = Reader(ObjectId());
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->page_count(), 0u);
  auto schema = reader->Schema();
  ASSERT_TRUE(schema.ok());
  EXPECT_TRUE((*schema)->empty());
  TableInfo info;
  EXPECT_TRUE(reader->FindTable("t", &info).IsNotFound());
}

TEST_F(BtreeReaderTest, HeaderAndSchemaMatchSqlite) {
  Exec(db_,
       "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
       "CREATE INDEX items_name ON items(name);"
       "CREATE TABLE kv(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
       "CREATE TABLE u(a UNIQUE, b);"
       "CREATE VIEW big AS SELECT * FROM items WHERE id > 10;"
       "CREATE TRIGGER tr AFTER INSERT ON items BEGIN SELECT 1; END;");
  std::unique_ptr<BtreeReader> reader = Reader(HeadTree());
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->page_size(), 4096u);
  EXPECT_EQ(reader->usable_size(), 4096u);
  EXPECT_FALSE(reader->auto_vacuum());
  auto schema = reader->Schema();
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  auto want = QueryValues(
      db_, "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema "
           "ORDER BY rowid");
  ASSERT_EQ((*schema)->size(), want.size());
  for (size_t i = 0; i < want.size(); i++) {
    const SchemaEntry& e = (**schema)[i];
    EXPECT_EQ(e.type, want[i][0].bytes);
    EXPECT_EQ(e.name, want[i][1].bytes);
    EXPECT_EQ(e.tbl_name, want[i][2].bytes);
    EXPECT_EQ(e.root_page, static_cast<uint32_t>(want[i][3].integer));
    EXPECT_EQ(e.sql, want[i][4].bytes);
  }
  TableInfo info;
  ASSERT_TRUE(reader->FindTable("ITEMS", &info).ok());
  EXPECT_EQ(info.name, "items");
  EXPECT_EQ(info.rowid_alias, 0);
  ASSERT_TRUE(reader->FindTable("sqlite_master", &info).ok());
  EXPECT_EQ(info.root_page, 1u);
  EXPECT_TRUE(reader->FindTable("big", &info).IsNotFound());  // a view
}

TEST_F(BtreeReaderTest, Utf16DatabaseIsNotSupported) {
  // Flip the header's text encoding field (bytes 56..59) to UTF-16le.
  Exec(db_, "CREATE TABLE t(x)");
  std::string page1 = PageBytes(HeadTree(), 1);
  page1[59] = 2;
  std::unique_ptr<BtreeReader> reader;
  Status s = BtreeReader::Open(store(), ReplacePage(HeadTree(), 1, page1),
                               &reader);
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
}

TEST_F(BtreeReaderTest, ParseCreateTable) {
  TableInfo t;
  ASSERT_TRUE(ParseCreateTable(
                  "CREATE TABLE \"we\"\"ird\"([a b] INTEGER PRIMARY KEY, "
                  "`c` VARCHAR(10) DEFAULT 'x', d DOUBLE PRECISION DEFAULT -3,"
                  " e, f DECIMAL(10, 2) CHECK (f > 0) DEFAULT (1 + 1), "
                  "'g' BLOB DEFAULT x'00ff', h TEXT DEFAULT 5)",
                  &t)
                  .ok());
  ASSERT_EQ(t.columns.size(), 7u);
  EXPECT_EQ(t.columns[0].name, "a b");
  EXPECT_EQ(t.columns[1].name, "c");
  EXPECT_EQ(t.columns[1].declared_type, "VARCHAR(10)");
  EXPECT_EQ(t.columns[1].affinity, Affinity::kText);
  EXPECT_EQ(t.columns[2].affinity, Affinity::kReal);
  EXPECT_TRUE(t.columns[2].default_value == SqlValue::Real(-3));
  EXPECT_EQ(t.columns[3].affinity, Affinity::kBlob);
  EXPECT_EQ(t.columns[4].affinity, Affinity::kNumeric);
  EXPECT_TRUE(t.columns[4].default_value.is_null());  // an expression
  EXPECT_EQ(t.columns[5].name, "g");
  EXPECT_TRUE(t.columns[5].default_value ==
              SqlValue::Blob(std::string("\0\xff", 2)));
  EXPECT_TRUE(t.columns[6].default_value == SqlValue::Text("5"));
  EXPECT_EQ(t.rowid_alias, 0);
  EXPECT_EQ(t.primary_key, std::vector<int>{0});

  // The rowid alias quirks of sqlite3AddPrimaryKey.
  auto alias = [](const char* sql) {
    TableInfo info;
    EXPECT_TRUE(ParseCreateTable(sql, &info).ok()) << sql;
    return info.rowid_alias;
  };
  EXPECT_EQ(alias("CREATE TABLE t(x INTEGER PRIMARY KEY DESC)"), -1);
  EXPECT_EQ(alias("CREATE TABLE t(x INTEGER, PRIMARY KEY(x DESC))"), 0);
  EXPECT_EQ(alias("CREATE TABLE t(x INT PRIMARY KEY)"), -1);
  EXPECT_EQ(alias("create table t(y, x integer, primary key(x))"), 1);

  // WITHOUT ROWID: key columns first, in key order, duplicates dropped.
  ASSERT_TRUE(ParseCreateTable(
                  "CREATE TABLE w(a, b TEXT, c, d AS (a + 1), "
                  "CONSTRAINT pk PRIMARY KEY (c, a COLLATE nocase, c)) "
                  "WITHOUT ROWID, STRICT",
                  &t)
                  .ok());
  EXPECT_TRUE(t.without_rowid);
  EXPECT_TRUE(t.strict);
  EXPECT_EQ(t.primary_key, (std::vector<int>{2, 0}));
  EXPECT_EQ(t.record_columns, (std::vector<int>{2, 0, 1}));
  EXPECT_TRUE(t.columns[3].virtual_generated);

  ASSERT_TRUE(ParseCreateTable("CREATE TABLE s(a ANY, b INT) STRICT", &t).ok());
  EXPECT_EQ(t.columns[0].affinity, Affinity::kBlob);

  EXPECT_TRUE(ParseCreateTable("CREATE TABLE w(a) WITHOUT ROWID", &t)
                  .IsInvalidArgument());
  EXPECT_TRUE(
      ParseCreateTable("CREATE INDEX i ON t(a)", &t).IsInvalidArgument());
  EXPECT_TRUE(ParseCreateTable("CREATE TABLE t(a", &t).IsInvalidArgument());
  EXPECT_TRUE(
      ParseCreateTable("CREATE VIRTUAL TABLE v USING rtree(id, a, b)", &t)
          .IsNotSupported());
}

// Random values of every type into columns of every affinity (SQLite
// converts on the way in; the reader must read back what SQLite reads,
// e.g. 1 stored in a REAL column is 1.0, '1' in an INTEGER column is 1).
TEST_F(BtreeReaderTest, DecodesEveryRowExactlyAsSqlite) {
  const std::string columns =
      "a INTEGER, b REAL, c TEXT, d BLOB, e NUMERIC, f, g VARCHAR(10), "
      "h DOUBLE PRECISION, i INT8";
  const std::string names = "a, b, c, d, e, f, g, h, i";
  Exec(db_, "CREATE TABLE plain(" + columns + ");"
            "CREATE TABLE ipk(id INTEGER PRIMARY KEY, " + columns + ");"
            "CREATE TABLE wr(" + columns + ", k1 INT, k2 TEXT, "
            "PRIMARY KEY(k2, k1)) WITHOUT ROWID;"
            "CREATE TABLE st(a INT, b REAL, c TEXT, d BLOB, e ANY) STRICT;");
  for (uint64_t seed = 1; seed <= 6; seed++) {
    std::mt19937_64 rng(seed);
    std::vector<std::vector<SqlValue>> plain, ipk, wr, st;
    for (int r = 0; r < 150; r++) {
      std::vector<SqlValue> row;
      for (int c = 0; c < 9; c++) row.push_back(RandomValue(rng));
      plain.push_back(row);
      std::vector<SqlValue> with_id = row;
      with_id.insert(with_id.begin(),
                     rng() % 4 ? SqlValue::Integer(static_cast<int64_t>(
                                     seed * 100000 + r * 3))
                               : SqlValue::Null());  // NULL: next rowid
      ipk.push_back(with_id);
      std::vector<SqlValue> keyed = row;
      keyed.push_back(SqlValue::Integer(r % 5));
      keyed.push_back(SqlValue::Text("k" + std::to_string(seed) + "-" +
                                     std::to_string(r)));
      wr.push_back(keyed);
      st.push_back({rng() % 3 ? SqlValue::Integer(static_cast<int64_t>(rng()))
                              : SqlValue::Null(),
                    rng() % 2 ? SqlValue::Real(static_cast<double>(r))
                              : SqlValue::Integer(r),
                    SqlValue::Text("t" + std::to_string(r)),
                    SqlValue::Blob(std::string(r % 7, 'x')),
                    RandomValue(rng)});
    }
    Insert("plain", 9, plain);
    Insert("ipk", 10, ipk);
    Insert("wr", 11, wr);
    Insert("st", 5, st);
    // Deletes and updates leave free space and freelist pages behind.
    Exec(db_, "DELETE FROM plain WHERE rowid % 3 = 0;"
              "UPDATE ipk SET c = 1.0, b = 2, a = '17' WHERE id % 4 = 1;"
              "DELETE FROM wr WHERE k1 = 2;");
    ExpectSameRows("plain", names);
    ExpectSameRows("ipk", "id, " + names);
    ExpectSameRows("wr", names + ", k1, k2");
    ExpectSameRows("st", "a, b, c, d, e");
  }
}

TEST_F(BtreeReaderTest, ShortRecordsReadColumnDefaults) {
  Exec(db_, "CREATE TABLE t(a INTEGER PRIMARY KEY, b);"
            "INSERT INTO t(b) VALUES (1), ('two'), (NULL);"
            "ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 7;"
            "ALTER TABLE t ADD COLUMN d TEXT DEFAULT 'x''y';"
            "ALTER TABLE t ADD COLUMN e REAL DEFAULT 3;"
            "ALTER TABLE t ADD COLUMN f DEFAULT -2.5;"
            "ALTER TABLE t ADD COLUMN g BLOB DEFAULT x'ab';"
            "ALTER TABLE t ADD COLUMN h INTEGER DEFAULT '12';"
            "ALTER TABLE t ADD COLUMN i TEXT DEFAULT 1.5;"
            "ALTER TABLE t ADD COLUMN j NUMERIC DEFAULT 2.0;"
            "ALTER TABLE t ADD COLUMN k;"
            "INSERT INTO t(b, c) VALUES ('new', 8);");
  ExpectSameRows("t", "a, b, c, d, e, f, g, h, i, j, k");
}

TEST_F(BtreeReaderTest, GeneratedColumns) {
  Exec(db_, "CREATE TABLE g(a INT, v AS (a * 2), s INT AS (a + 1) STORED, "
            "b TEXT);"
            "INSERT INTO g(a, b) VALUES (1, 'x'), (2, 'y');");
  ExpectSameRows("g", "a, s, b");
  std::unique_ptr<BtreeReader> reader = Reader(HeadTree());
  TableInfo info;
  ASSERT_TRUE(reader->FindTable("g", &info).ok());
  EXPECT_TRUE(info.columns[1].virtual_generated);
  EXPECT_TRUE(info.columns[2].stored_generated);
  EXPECT_EQ(info.record_columns, (std::vector<int>{0, 2, 3}));
}

TEST_F(BtreeReaderTest, WalkListsLeavesReadingOneLeafOnly) {
  Exec(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 30000) INSERT INTO t SELECT i, printf('%040d', i) "
            "FROM n;"
            "CREATE INDEX t_v ON t(v);");
  std::unique_ptr<BtreeReader> reader = Reader(HeadTree());
  TableInfo info;
  ASSERT_TRUE(reader->FindTable("t", &info).ok());
  uint64_t before = reader->stats().pages_read;
  BtreeShape shape;
  ASSERT_TRUE(reader->WalkBtree(info.root_page, &shape).ok());
  EXPECT_EQ(shape.kind, BtreeKind::kTable);
  EXPECT_GE(shape.depth, 2);
  EXPECT_GT(shape.leaves.size(), 100u);
  // Interior pages plus the leftmost leaf (which tells the depth).
  EXPECT_EQ(reader->stats().pages_read - before, shape.interior.size() + 1);
  // The leaves hold every row, in rowid order.
  int64_t last = 0, rows = 0;
  std::vector<BtreeCell> cells;
  for (uint32_t leaf : shape.leaves) {
    ASSERT_TRUE(reader->ReadCells(leaf, BtreeKind::kTable, true, &cells).ok());
    for (const BtreeCell& c : cells) {
      EXPECT_GT(c.rowid, last);
      last = c.rowid;
      rows++;
    }
  }
  EXPECT_EQ(rows, 30000);
  // An index b-tree keeps entries in its interior pages too.
  auto schema = *reader->Schema();
  uint32_t index_root = 0;
  for (const SchemaEntry& e : *schema) {
    if (e.name == "t_v") index_root = e.root_page;
  }
  ASSERT_TRUE(reader->WalkBtree(index_root, &shape).ok());
  EXPECT_EQ(shape.kind, BtreeKind::kIndex);
  uint64_t entries = 0;
  for (uint32_t p : shape.EntryPages()) {
    ASSERT_TRUE(reader->ReadCells(p, BtreeKind::kIndex, false, &cells).ok());
    entries += cells.size();
  }
  EXPECT_EQ(entries, 30000u);
}

TEST_F(BtreeReaderTest, OverflowChainsAreFollowed) {
  Exec(db_, "CREATE TABLE b(id INTEGER PRIMARY KEY, v BLOB);"
            "INSERT INTO b VALUES (1, randomblob(50000)), (2, randomblob(5)),"
            " (3, zeroblob(4062)), (4, randomblob(4061)), (5, randomblob(1e6));"
            "CREATE TABLE w(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
            "INSERT INTO w VALUES (printf('%.3000c', 'k'), 1),"
            " (printf('%.2000c', 'j'), randomblob(9000));");
  ExpectSameRows("b", "id, v");
  ExpectSameRows("w", "k, v");
}

TEST_F(BtreeReaderTest, AutoVacuumPointerMap) {
  Exec(db_, "PRAGMA auto_vacuum = FULL;"
            "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);"
            "INSERT INTO t VALUES (1, randomblob(20000));");
  std::unique_ptr<BtreeReader> reader = Reader(HeadTree());
  ASSERT_TRUE(reader->auto_vacuum());
  EXPECT_TRUE(reader->IsPtrmapPage(2));
  EXPECT_FALSE(reader->IsPtrmapPage(3));
  TableInfo info;
  ASSERT_TRUE(reader->FindTable("t", &info).ok());
  std::vector<BtreeCell> cells;
  ASSERT_TRUE(
      reader->ReadCells(info.root_page, BtreeKind::kTable, false, &cells).ok());
  ASSERT_EQ(cells.size(), 1u);
  ASSERT_GT(cells[0].overflow.size(), 2u);
  uint8_t type;
  uint32_t parent;
  ASSERT_TRUE(reader->ReadPtrmap(cells[0].overflow[0], &type, &parent).ok());
  EXPECT_EQ(type, 3);
  EXPECT_EQ(parent, info.root_page);
  ASSERT_TRUE(reader->ReadPtrmap(cells[0].overflow[1], &type, &parent).ok());
  EXPECT_EQ(type, 4);
  EXPECT_EQ(parent, cells[0].overflow[0]);
  ASSERT_TRUE(reader->ReadPtrmap(info.root_page, &type, &parent).ok());
  EXPECT_EQ(type, 1);
  ExpectSameRows("t", "id, v");
}

// Damage in the places a reader trusts: each is Corruption naming a page.
TEST_F(BtreeReaderTest, CorruptionIsReportedWithThePage) {
  Exec(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 2000) INSERT INTO t SELECT i, randomblob(100) FROM n;"
            "INSERT INTO t VALUES (5000, randomblob(30000));");
  ObjectId tree = HeadTree();
  std::unique_ptr<BtreeReader> reader = Reader(tree);
  TableInfo info;
  ASSERT_TRUE(reader->FindTable("t", &info).ok());
  BtreeShape shape;
  ASSERT_TRUE(reader->WalkBtree(info.root_page, &shape).ok());
  ASSERT_FALSE(shape.interior.empty());
  uint32_t root = info.root_page;
  std::string root_bytes = PageBytes(tree, root);

  auto scan = [&](const ObjectId& t) {
    std::unique_ptr<BtreeReader> r;
    Status s = BtreeReader::Open(store(), t, &r);
    if (!s.ok()) return s;
    TableInfo ti;
    s = r->FindTable("t", &ti);
    if (!s.ok()) return s;
    return r->ScanTable(ti, [](int64_t, std::vector<SqlValue>&) {
      return Status::OK();
    });
  };
  auto expect_corrupt = [&](const ObjectId& t, const std::string& page) {
    Status s = scan(t);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(page), std::string::npos) << s.ToString();
  };

  // A child pointer back to the root: a cycle.
  std::string cyc = root_bytes;
  cyc[8] = static_cast<char>(root >> 24);
  cyc[9] = static_cast<char>(root >> 16);
  cyc[10] = static_cast<char>(root >> 8);
  cyc[11] = static_cast<char>(root);
  expect_corrupt(ReplacePage(tree, root, cyc), "page " + std::to_string(root));
  // A child pointer beyond the end of the database.
  std::string far = root_bytes;
  far[8] = 0x7f;
  expect_corrupt(ReplacePage(tree, root, far), "page " + std::to_string(root));
  // Not a b-tree page at all.
  std::string junk = root_bytes;
  junk[0] = 7;
  expect_corrupt(ReplacePage(tree, root, junk), "page " + std::to_string(root));
  // Too many cells for the page.
  std::string cells = root_bytes;
  cells[3] = static_cast<char>(0xff);
  expect_corrupt(ReplacePage(tree, root, cells),
                 "page " + std::to_string(root));
  // An overflow chain that loops on itself.
  std::vector<BtreeCell> last;
  ASSERT_TRUE(reader
                  ->ReadCells(shape.leaves.back(), BtreeKind::kTable, false,
                              &last)
                  .ok());
  ASSERT_FALSE(last.back().overflow.empty());
  uint32_t over = last.back().overflow[1];
  std::string loop = PageBytes(tree, over);
  loop[0] = static_cast<char>(over >> 24);
  loop[1] = static_cast<char>(over >> 16);
  loop[2] = static_cast<char>(over >> 8);
  loop[3] = static_cast<char>(over);
  expect_corrupt(ReplacePage(tree, over, loop), "page " + std::to_string(over));
  // A bad magic string.
  std::string page1 = PageBytes(tree, 1);
  page1[0] = 'X';
  expect_corrupt(ReplacePage(tree, 1, page1), "page 1");
}

// Random byte damage anywhere: the reader returns OK or an error, never
// crashes or hangs (run under ASan/UBSan to make this bite harder).
TEST_F(BtreeReaderTest, RandomDamageNeverCrashes) {
  Exec(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, v, w BLOB);"
            "CREATE INDEX tv ON t(v);"
            "CREATE TABLE k(a, b, PRIMARY KEY(b, a)) WITHOUT ROWID;"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 600) INSERT INTO t SELECT i, i * 1.5, "
            "CASE WHEN i % 50 = 0 THEN randomblob(9000) ELSE randomblob(30) END"
            " FROM n;"
            "INSERT INTO k SELECT v, id FROM t;");
  ObjectId tree = HeadTree();
  uint32_t pages = *store()->trees()->PageCount(tree);
  std::mt19937_64 rng(42);
  int errors = 0;
  for (int round = 0; round < 300; round++) {
    uint32_t pgno = 1 + static_cast<uint32_t>(rng() % pages);
    std::string bytes = PageBytes(tree, pgno);
    int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; f++) {
      size_t at = rng() % (pgno == 1 && rng() % 2 ? 120 : bytes.size());
      bytes[at] = static_cast<char>(rng());
    }
    ObjectId damaged = ReplacePage(tree, pgno, bytes);
    std::unique_ptr<BtreeReader> r;
    Status s = BtreeReader::Open(store(), damaged, &r);
    for (const char* table : {"t", "k", "sqlite_schema"}) {
      if (!s.ok()) break;
      TableInfo info;
      Status f = r->FindTable(table, &info);
      if (f.ok()) {
        f = r->ScanTable(info, [](int64_t, std::vector<SqlValue>&) {
          return Status::OK();
        });
      }
      if (!f.ok()) errors++;
    }
    std::vector<uint32_t> free;
    if (s.ok()) (void)r->FreelistPages(&free);
  }
  EXPECT_GT(errors, 0);  // the damage was noticed at least sometimes
}

TEST(SqlValueTest, OrderAndEquality) {
  EXPECT_LT(CompareSqlValues(SqlValue::Null(), SqlValue::Integer(-5)), 0);
  EXPECT_EQ(CompareSqlValues(SqlValue::Integer(1), SqlValue::Real(1.0)), 0);
  EXPECT_LT(CompareSqlValues(SqlValue::Integer(1), SqlValue::Real(1.5)), 0);
  EXPECT_GT(CompareSqlValues(SqlValue::Real(2.5), SqlValue::Integer(2)), 0);
  EXPECT_LT(
      CompareSqlValues(SqlValue::Integer(INT64_MAX), SqlValue::Real(1e19)), 0);
  EXPECT_LT(CompareSqlValues(SqlValue::Real(1e300), SqlValue::Text("")), 0);
  EXPECT_LT(CompareSqlValues(SqlValue::Text("b"), SqlValue::Blob("a")), 0);
  EXPECT_LT(CompareSqlValues(SqlValue::Text("a"), SqlValue::Text("ab")), 0);
  EXPECT_FALSE(SqlValue::Integer(1) == SqlValue::Real(1.0));
  EXPECT_FALSE(SqlValue::Integer(1) == SqlValue::Text("1"));
  EXPECT_FALSE(SqlValue::Text("1") == SqlValue::Blob("1"));
  EXPECT_EQ(SqlValue::Text("it's").ToSqlLiteral(), "'it''s'");
  EXPECT_EQ(SqlValue::Blob("\x01\xab").ToSqlLiteral(), "X'01AB'");
  EXPECT_EQ(SqlValue::Real(1.0).ToSqlLiteral(), "1.0");
  EXPECT_EQ(SqlValue::Real(0.1).ToSqlLiteral(), "0.1");
  EXPECT_EQ(SqlValue::Integer(-7).ToSqlLiteral(), "-7");
}

TEST(SqlValueTest, Affinity) {
  EXPECT_EQ(AffinityOfDeclaredType("BIGINT", false), Affinity::kInteger);
  EXPECT_EQ(AffinityOfDeclaredType("POINT", false), Affinity::kInteger);
  EXPECT_EQ(AffinityOfDeclaredType("NCHAR(55)", false), Affinity::kText);
  EXPECT_EQ(AffinityOfDeclaredType("", false), Affinity::kBlob);
  EXPECT_EQ(AffinityOfDeclaredType("FLOATING POINT", false),
            Affinity::kInteger);  // "INT" wins, as in SQLite
  EXPECT_EQ(AffinityOfDeclaredType("DOUBLE", false), Affinity::kReal);
  EXPECT_EQ(AffinityOfDeclaredType("DATETIME", false), Affinity::kNumeric);
  EXPECT_EQ(AffinityOfDeclaredType("ANY", false), Affinity::kNumeric);
  EXPECT_EQ(AffinityOfDeclaredType("ANY", true), Affinity::kBlob);
  EXPECT_TRUE(ApplyAffinity(SqlValue::Text(" 12 "), Affinity::kInteger) ==
              SqlValue::Integer(12));
  EXPECT_TRUE(ApplyAffinity(SqlValue::Real(2.0), Affinity::kNumeric) ==
              SqlValue::Integer(2));
  EXPECT_TRUE(ApplyAffinity(SqlValue::Integer(2), Affinity::kReal) ==
              SqlValue::Real(2.0));
  EXPECT_TRUE(ApplyAffinity(SqlValue::Real(1.5), Affinity::kText) ==
              SqlValue::Text("1.5"));
  EXPECT_TRUE(ApplyAffinity(SqlValue::Text("abc"), Affinity::kNumeric) ==
              SqlValue::Text("abc"));
}

}  // namespace
}  // namespace larix
