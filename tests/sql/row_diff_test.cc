// Row diff: DiffTable and DiffTables against a brute-force oracle, and the
// cost bound that is the point of computing rows from changed pages.
//
// The oracle opens each commit through SQL (a temporary branch pinned at
// the commit), reads every row of the table, and diffs the two row sets by
// key, comparing values by column name with missing columns as NULL.
// DiffTable must agree with it exactly: same changes, same keys, same
// values, same types.

#include "sql/row_diff.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>
#include <random>
#include <set>

#include "larix/store.h"
#include "objects/commit_graph.h"
#include "objects/object_format.h"
#include "objects/odb.h"
#include "objects/page_tree.h"
#include "refs/ref_db.h"
#include "refs/ref_name.h"
#include "sql/engine.h"
#include "sql/sqlite_values.h"
#include "sql_test_util.h"

namespace larix {
namespace {

using test::Exec;
using test::OpenOrDie;
using test::QueryValues;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(c));
  return s;
}

struct KeyLess {
  bool operator()(const RowKey& a, const RowKey& b) const {
    return CompareRowKeys(a, b) < 0;
  }
};

// One version of a table as SQL sees it.
struct SqlTable {
  bool exists = false;
  bool without_rowid = false;
  std::string sql;
  std::vector<std::string> columns;
  std::vector<std::string> key_columns;  // WITHOUT ROWID primary key
  std::map<RowKey, std::vector<SqlValue>, KeyLess> rows;
};

std::string Show(const std::vector<SqlValue>& row) {
  std::string s = "[";
  for (const SqlValue& v : row) {
    std::string lit = v.ToSqlLiteral();
    if (lit.size() > 30) lit = lit.substr(0, 30) + "...";
    s += (s.size() > 1 ? ", " : "") + lit;
  }
  return s + "]";
}

class RowDiffTest : public test::MemoryStoreTest {
 protected:
  ObjectId Head() { return *store()->ResolveRevision("main"); }
  ObjectId TreeOf(const ObjectId& commit) {
    return (*store()->commits()->Load(commit))->tree;
  }

  // Runs `sql` with `blob` bound to its one parameter.
  void ExecBlob(const std::string& sql, const std::string& blob) {
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db_);
    sqlite3_bind_blob(stmt, 1, blob.data(), static_cast<int>(blob.size()),
                      SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
  }

  // `table` at `commit` (null: the empty database), read through SQL.
  SqlTable ReadAt(const ObjectId& commit, const std::string& table) {
    SqlTable t;
    if (commit.IsNull()) return t;
    std::string branch = "snap" + std::to_string(snapshots_++);
    RefTransaction tx;
    tx.Update(BranchRef(branch), ObjectId(), commit, "test snapshot");
    EXPECT_TRUE(store()->UpdateRefs(tx).ok());
    OpenOptions options;
    options.read_only = true;
    sqlite3* db = OpenOrDie(name_ + "@" + branch, options);
    auto list = QueryValues(
        db, "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND "
            "name = '" + table + "' COLLATE NOCASE");
    if (list.empty()) {
      sqlite3_close(db);
      return t;
    }
    std::string name = list[0][0].bytes;
    t.exists = true;
    t.sql = list[0][1].bytes;
    auto wr = QueryValues(
        db, "SELECT wr FROM pragma_table_list WHERE name = '" + name + "'");
    t.without_rowid = !wr.empty() && wr[0][0].integer == 1;
    auto info = QueryValues(db, "SELECT name, pk FROM pragma_table_info('" +
                                    name + "') ORDER BY cid");
    std::vector<std::pair<int64_t, int>> pk;  // (pk position, column index)
    for (size_t i = 0; i < info.size(); i++) {
      t.columns.push_back(info[i][0].bytes);
      if (info[i][1].integer > 0) {
        pk.emplace_back(info[i][1].integer, static_cast<int>(i));
      }
    }
    std::sort(pk.begin(), pk.end());
    for (auto [pos, c] : pk) t.key_columns.push_back(t.columns[c]);
    auto rows = QueryValues(db, std::string("SELECT ") +
                                    (t.without_rowid ? "" : "_rowid_, ") +
                                    "* FROM \"" + name + "\"");
    for (auto& row : rows) {
      RowKey key;
      if (t.without_rowid) {
        for (auto [pos, c] : pk) key.primary_key.push_back(row[c]);
      } else {
        key.rowid = row[0].integer;
        row.erase(row.begin());
      }
      EXPECT_TRUE(t.rows.emplace(std::move(key), row).second);
    }
    sqlite3_close(db);
    return t;
  }

  // The oracle: the row diff of two SqlTables by full comparison.
  static void Oracle(const SqlTable& a, const SqlTable& b,
                     std::vector<std::string>* columns,
                     std::vector<RowChange>* changes) {
    columns->clear();
    changes->clear();
    for (const SqlTable* t : {&b, &a}) {
      for (const std::string& c : t->columns) {
        bool known = false;
        for (const std::string& have : *columns) {
          known = known || Lower(have) == Lower(c);
        }
        if (!known) columns->push_back(c);
      }
    }
    auto align = [&](const SqlTable& t, const std::vector<SqlValue>& row) {
      std::vector<SqlValue> out;
      for (const std::string& c : *columns) {
        SqlValue v;
        for (size_t i = 0; i < t.columns.size(); i++) {
          if (Lower(t.columns[i]) == Lower(c)) v = row[i];
        }
        out.push_back(v);
      }
      return out;
    };
    bool key_changed = a.exists && b.exists &&
                       (a.without_rowid != b.without_rowid ||
                        (a.without_rowid &&
                         [&] {
                           if (a.key_columns.size() != b.key_columns.size())
                             return true;
                           for (size_t i = 0; i < a.key_columns.size(); i++) {
                             if (Lower(a.key_columns[i]) !=
                                 Lower(b.key_columns[i]))
                               return true;
                           }
                           return false;
                         }()));
    auto removed = [&](const RowKey& k, const std::vector<SqlValue>& row) {
      changes->push_back({RowChangeType::kRemoved, k, align(a, row), {}});
    };
    auto added = [&](const RowKey& k, const std::vector<SqlValue>& row) {
      changes->push_back({RowChangeType::kAdded, k, {}, align(b, row)});
    };
    if (key_changed) {
      for (auto& [k, row] : a.rows) removed(k, row);
      for (auto& [k, row] : b.rows) added(k, row);
      return;
    }
    auto i = a.rows.begin();
    auto j = b.rows.begin();
    while (i != a.rows.end() || j != b.rows.end()) {
      int c = i == a.rows.end()   ? 1
              : j == b.rows.end() ? -1
                                  : CompareRowKeys(i->first, j->first);
      if (c < 0) {
        removed(i->first, i->second);
        ++i;
      } else if (c > 0) {
        added(j->first, j->second);
        ++j;
      } else {
        auto x = align(a, i->second), y = align(b, j->second);
        if (x != y) {
          changes->push_back({RowChangeType::kModified, i->first, x, y});
        }
        ++i;
        ++j;
      }
    }
  }

  // DiffTable (page-driven and full scan) must equal the oracle.  Returns
  // the page-driven result for further checks.
  RowDiffResult ExpectDiff(const ObjectId& from, const ObjectId& to,
                           const std::string& table) {
    SqlTable a = ReadAt(from, table), b = ReadAt(to, table);
    std::vector<std::string> columns;
    std::vector<RowChange> want;
    Oracle(a, b, &columns, &want);
    RowDiffResult result;
    for (bool full : {false, true}) {
      RowDiffOptions options;
      options.full_scan = full;
      RowDiffResult got;
      Status s = DiffTable(store(), from, to, table, &got, options);
      if (!a.exists && !b.exists) {
        EXPECT_TRUE(s.IsNotFound()) << s.ToString();
        return got;
      }
      EXPECT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(got.in_from, a.exists);
      EXPECT_EQ(got.in_to, b.exists);
      EXPECT_EQ(got.columns, columns) << table;
      EXPECT_EQ(got.from_columns, a.columns);
      EXPECT_EQ(got.to_columns, b.columns);
      EXPECT_EQ(got.changes.size(), want.size())
          << table << (full ? " (full scan)" : "")
          << " reason: " << got.stats.full_scan_reason;
      size_t n = std::min(got.changes.size(), want.size());
      for (size_t k = 0; k < n; k++) {
        const RowChange &g = got.changes[k], &w = want[k];
        EXPECT_EQ(g.type, w.type) << table << " key " << w.key.ToString();
        EXPECT_EQ(CompareRowKeys(g.key, w.key), 0)
            << table << ": got key " << g.key.ToString() << ", want "
            << w.key.ToString();
        EXPECT_TRUE(g.old_values == w.old_values)
            << table << " key " << w.key.ToString() << " old: got "
            << Show(g.old_values) << " want " << Show(w.old_values);
        EXPECT_TRUE(g.new_values == w.new_values)
            << table << " key " << w.key.ToString() << " new: got "
            << Show(g.new_values) << " want " << Show(w.new_values);
        if (::testing::Test::HasFailure()) break;
      }
      if (full) {
        EXPECT_TRUE(got.stats.full_scan);
      } else {
        diffs_checked_++;
        changes_checked_ += got.changes.size();
        overflow_owner_pages_ += got.stats.overflow_owner_pages;
        incremental_ += !got.stats.full_scan;
        result = std::move(got);
      }
    }
    return result;
  }

  // DiffTables must count what the oracle finds, for every user table.
  void ExpectSummary(const ObjectId& from, const ObjectId& to,
                     const std::set<std::string>& tables) {
    std::vector<TableChangeSummary> got;
    Status s = DiffTables(store(), from, to, &got);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::map<std::string, TableChangeSummary> by_name;
    for (const auto& t : got) by_name[Lower(t.table)] = t;
    for (const std::string& table : tables) {
      SqlTable a = ReadAt(from, table), b = ReadAt(to, table);
      std::vector<std::string> columns;
      std::vector<RowChange> want;
      Oracle(a, b, &columns, &want);
      TableChangeSummary expect;
      expect.added = !a.exists && b.exists;
      expect.removed = a.exists && !b.exists;
      expect.schema_changed = a.exists && b.exists && a.sql != b.sql;
      for (const RowChange& c : want) {
        if (c.type == RowChangeType::kAdded) expect.rows_added++;
        if (c.type == RowChangeType::kModified) expect.rows_modified++;
        if (c.type == RowChangeType::kRemoved) expect.rows_removed++;
      }
      bool listed = expect.added || expect.removed || expect.schema_changed ||
                    !want.empty();
      auto it = by_name.find(Lower(table));
      ASSERT_EQ(it != by_name.end(), listed) << table;
      if (!listed) continue;
      const TableChangeSummary& g = it->second;
      EXPECT_EQ(g.added, expect.added) << table;
      EXPECT_EQ(g.removed, expect.removed) << table;
      EXPECT_EQ(g.schema_changed, expect.schema_changed) << table;
      EXPECT_EQ(g.rows_added, expect.rows_added) << table;
      EXPECT_EQ(g.rows_modified, expect.rows_modified) << table;
      EXPECT_EQ(g.rows_removed, expect.rows_removed) << table;
      by_name.erase(it);
    }
    for (const auto& [name, t] : by_name) {
      ADD_FAILURE() << "unexpected table in summary: " << name;
    }
  }

  int snapshots_ = 0;
  // What ExpectDiff has checked (page-driven runs).
  uint64_t diffs_checked_ = 0, changes_checked_ = 0;
  uint64_t overflow_owner_pages_ = 0, incremental_ = 0;
};

TEST_F(RowDiffTest, InsertUpdateDelete) {
  Exec(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, price REAL);"
            "INSERT INTO t VALUES (1, 'one', 1.5), (2, 'two', 2), "
            "(3, 'three', NULL);");
  ObjectId a = Head();
  Exec(db_, "BEGIN; INSERT INTO t VALUES (4, 'four', 4.25);"
            "UPDATE t SET price = 9 WHERE id = 2; DELETE FROM t WHERE id = 3;"
            "COMMIT;");
  ObjectId b = Head();
  RowDiffResult r = ExpectDiff(a, b, "t");
  ASSERT_EQ(r.changes.size(), 3u);
  EXPECT_EQ(r.key_columns, std::vector<std::string>{"id"});
  EXPECT_EQ(r.changes[0].type, RowChangeType::kModified);
  EXPECT_EQ(r.changes[0].key.rowid, 2);
  EXPECT_TRUE(r.changes[0].old_values[2] == SqlValue::Real(2.0));
  EXPECT_TRUE(r.changes[0].new_values[2] == SqlValue::Real(9.0));
  EXPECT_EQ(r.changes[1].type, RowChangeType::kRemoved);
  EXPECT_EQ(r.changes[1].key.rowid, 3);
  EXPECT_EQ(r.changes[2].type, RowChangeType::kAdded);
  EXPECT_TRUE(r.changes[2].new_values[0] == SqlValue::Integer(4));  // the IPK
  EXPECT_FALSE(r.schema_changed);
  EXPECT_FALSE(r.stats.full_scan);
  // The reverse diff swaps added and removed.
  RowDiffResult back = ExpectDiff(b, a, "t");
  EXPECT_EQ(back.changes[1].type, RowChangeType::kAdded);
  // No change at all.
  RowDiffResult same;
  ASSERT_TRUE(DiffTable(store(), b, b, "T", &same).ok());
  EXPECT_TRUE(same.changes.empty());
  EXPECT_EQ(same.stats.changed_pages, 0u);
  ExpectSummary(a, b, {"t"});
}

TEST_F(RowDiffTest, TypeOnlyChangesAreModifications) {
  Exec(db_, "CREATE TABLE t(a, b);"
            "INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, 'z');");
  ObjectId a = Head();
  Exec(db_, "BEGIN; UPDATE t SET a = 1.0 WHERE a = 1;"
            "UPDATE t SET a = '2' WHERE a = 2; UPDATE t SET a = 3; COMMIT;");
  RowDiffResult r = ExpectDiff(a, Head(), "t");
  ASSERT_EQ(r.changes.size(), 2u);  // 3 -> 3 is no change
  EXPECT_EQ(r.key_columns, std::vector<std::string>{"rowid"});
}

TEST_F(RowDiffTest, WithoutRowidCompositeKey) {
  Exec(db_, "CREATE TABLE w(a TEXT, b INT, v, PRIMARY KEY(b, a)) WITHOUT ROWID;"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 3000) INSERT INTO w SELECT 'k' || (i % 17), i, "
            "printf('%.*c', i % 300, 'v') FROM n;");
  ObjectId a = Head();
  Exec(db_, "BEGIN; UPDATE w SET v = 'changed' WHERE b = 1500;"
            "UPDATE w SET a = 'moved' WHERE b = 10;"  // a key change
            "DELETE FROM w WHERE b BETWEEN 2000 AND 2005;"
            "INSERT INTO w VALUES ('new', 1500, 1), ('k1', 99999, x'00');"
            "COMMIT;");
  ObjectId b = Head();
  RowDiffResult r = ExpectDiff(a, b, "w");
  EXPECT_TRUE(r.without_rowid);
  EXPECT_EQ(r.key_columns, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(r.changes.size(), 1u + 2u + 6u + 2u);
  EXPECT_FALSE(r.stats.full_scan);
  // Only the pages that changed were decoded.
  EXPECT_LT(r.stats.entry_pages_read, 40u);
  ExpectSummary(a, b, {"w"});
}

TEST_F(RowDiffTest, IndexPagesProduceNoRowChanges) {
  Exec(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, n INT);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 5000) INSERT INTO t SELECT i, 'name' || i, i % 10 "
            "FROM n;");
  ObjectId a = Head();
  Exec(db_, "CREATE INDEX t_name ON t(name); CREATE INDEX t_n ON t(n, name);");
  ObjectId b = Head();
  RowDiffResult r = ExpectDiff(a, b, "t");
  EXPECT_TRUE(r.changes.empty());
  EXPECT_EQ(r.stats.entry_pages_read, 0u);
  EXPECT_GT(r.stats.changed_pages, 20u);  // the new index pages
  ExpectSummary(a, b, {"t"});
  // Updating an indexed column changes table and index pages; only the
  // table's rows are reported.
  Exec(db_, "UPDATE t SET name = 'renamed' WHERE id = 2500");
  r = ExpectDiff(b, Head(), "t");
  EXPECT_EQ(r.changes.size(), 1u);
  EXPECT_GT(r.stats.changed_pages, 1u);
  EXPECT_EQ(r.stats.entry_pages_read, 2u);
  ExpectSummary(b, Head(), {"t"});
}

// Inserting between existing keys splits leaves and moves rows to new
// pages: a moved row changes a page on both sides and is found unchanged.
TEST_F(RowDiffTest, RowsMovingBetweenPagesAreNotChanges) {
  Exec(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 1999) INSERT INTO t SELECT i * 10, printf('%.80c', 'x')"
            " FROM n;");
  ObjectId a = Head();
  Exec(db_, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 1999) INSERT INTO t SELECT i * 10 + 5, "
            "printf('%.80c', 'y') FROM n WHERE i % 3 = 0;");
  ObjectId b = Head();
  RowDiffResult r = ExpectDiff(a, b, "t");
  EXPECT_EQ(r.changes.size(), 667u);
  for (const RowChange& c : r.changes) {
    EXPECT_EQ(c.type, RowChangeType::kAdded);
  }
}

// A leaf can leave the table without changing: a page SQLite frees keeps
// its bytes (it is only listed on a freelist trunk).  Its rows are gone
// even though the page-tree diff does not name it, which is why the
// unchanged set is (H_from & H_to) - D and not H - D.
TEST_F(RowDiffTest, FreedLeafWithUnchangedBytes) {
  Exec(db_, "PRAGMA secure_delete = OFF;"
            "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 3000) INSERT INTO t SELECT i, printf('%.100c', 'v') "
            "FROM n;");
  ObjectId a = Head();
  Exec(db_, "DELETE FROM t WHERE id BETWEEN 1000 AND 2000");
  ObjectId b = Head();
  // The premise: some leaf of `a` is not a leaf of `b`, yet unchanged.
  BtreeShape shape[2];
  ObjectId trees[2] = {TreeOf(a), TreeOf(b)};
  for (int i = 0; i < 2; i++) {
    std::unique_ptr<BtreeReader> reader;
    ASSERT_TRUE(BtreeReader::Open(store(), trees[i], &reader).ok());
    TableInfo info;
    ASSERT_TRUE(reader->FindTable("t", &info).ok());
    ASSERT_TRUE(reader->WalkBtree(info.root_page, &shape[i]).ok());
  }
  std::vector<PageChange> changed;
  ASSERT_TRUE(store()->trees()->Diff(trees[0], trees[1], &changed).ok());
  std::set<uint32_t> d;
  for (const PageChange& c : changed) d.insert(c.pgno + 1);
  int freed_unchanged = 0;
  for (uint32_t p : shape[0].leaves) {
    if (!d.count(p) && std::find(shape[1].leaves.begin(), shape[1].leaves.end(),
                                 p) == shape[1].leaves.end()) {
      freed_unchanged++;
    }
  }
  EXPECT_GT(freed_unchanged, 0);
  RowDiffResult r = ExpectDiff(a, b, "t");
  EXPECT_EQ(r.changes.size(), 1001u);
  EXPECT_FALSE(r.stats.full_scan);
}

// SQLite overwrites a same-size payload in place (btreeOverwriteCell): the
// row's overflow page changes and its leaf does not.  The diff must still
// find the row — through the pointer map, or without one by scanning.
TEST_F(RowDiffTest, OverflowOnlyChangeWithUnchangedLeaf) {
  for (bool auto_vacuum : {false, true}) {
    SCOPED_TRACE(auto_vacuum ? "auto_vacuum" : "no auto_vacuum");
    sqlite3_close(db_);
    name_ = test::MemoryStoreName();
    db_ = OpenOrDie(name_);
    engine_ = *Engine::Acquire(name_, true);
    if (auto_vacuum) Exec(db_, "PRAGMA auto_vacuum = FULL");
    Exec(db_, "CREATE TABLE b(id INTEGER PRIMARY KEY, data BLOB, note TEXT);"
              "CREATE TABLE other(x);");
    std::mt19937_64 rng(7);
    std::vector<std::string> blobs;
    Exec(db_, "BEGIN");
    for (int i = 1; i <= 20; i++) {
      std::string blob(50 * 1024, '\0');
      for (char& c : blob) c = static_cast<char>(rng());
      blobs.push_back(blob);
      ExecBlob("INSERT INTO b VALUES (" + std::to_string(i) + ", ?, 'n')",
               blob);
    }
    Exec(db_, "COMMIT");
    ObjectId a = Head();
    // Same length, one byte changed deep in the overflow part.
    std::string blob = blobs[9];
    blob[40000] = static_cast<char>(blob[40000] ^ 0x5a);
    ExecBlob("UPDATE b SET data = ? WHERE id = 10", blob);
    ObjectId b = Head();

    // Prove the premise: the row's leaf is unchanged, only overflow pages.
    std::unique_ptr<BtreeReader> reader;
    ASSERT_TRUE(BtreeReader::Open(store(), TreeOf(b), &reader).ok());
    TableInfo info;
    ASSERT_TRUE(reader->FindTable("b", &info).ok());
    BtreeShape shape;
    ASSERT_TRUE(reader->WalkBtree(info.root_page, &shape).ok());
    uint32_t leaf = 0;
    std::vector<BtreeCell> cells;
    for (uint32_t p : shape.leaves) {
      ASSERT_TRUE(reader->ReadCells(p, BtreeKind::kTable, false, &cells).ok());
      for (const BtreeCell& c : cells) {
        if (c.rowid == 10) leaf = p;
      }
    }
    ASSERT_NE(leaf, 0u);
    std::vector<PageChange> changed;
    ASSERT_TRUE(store()->trees()->Diff(TreeOf(a), TreeOf(b), &changed).ok());
    ASSERT_FALSE(changed.empty());
    for (const PageChange& c : changed) {
      EXPECT_NE(c.pgno + 1, leaf) << "the leaf changed after all";
    }

    RowDiffResult r = ExpectDiff(a, b, "b");
    ASSERT_EQ(r.changes.size(), 1u);
    EXPECT_EQ(r.changes[0].key.rowid, 10);
    EXPECT_EQ(r.stats.overflow_owner_pages, 1u);
    EXPECT_EQ(r.stats.overflow_scan, !auto_vacuum);
    ExpectSummary(a, b, {"b", "other"});
    // A table that does not own the page is not scanned on its behalf
    // beyond what is needed, and reports nothing.
    RowDiffResult o = ExpectDiff(a, b, "other");
    EXPECT_TRUE(o.changes.empty());
  }
}

TEST_F(RowDiffTest, LargeRowsInsertedUpdatedDeleted) {
  Exec(db_, "CREATE TABLE b(id INTEGER PRIMARY KEY, data BLOB);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 30) INSERT INTO b SELECT i, randomblob(50000) FROM n;");
  ObjectId a = Head();
  Exec(db_, "BEGIN; UPDATE b SET data = randomblob(60000) WHERE id = 3;"
            "UPDATE b SET data = randomblob(10) WHERE id = 4;"
            "DELETE FROM b WHERE id = 5;"
            "INSERT INTO b VALUES (100, randomblob(50000)); COMMIT;");
  RowDiffResult r = ExpectDiff(a, Head(), "b");
  EXPECT_EQ(r.changes.size(), 4u);
  EXPECT_FALSE(r.stats.overflow_scan);
}

TEST_F(RowDiffTest, AddColumnWithNullDefaultStaysIncremental) {
  Exec(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 3000) INSERT INTO t SELECT i, 'a' || i FROM n;");
  ObjectId a = Head();
  Exec(db_, "ALTER TABLE t ADD COLUMN c REAL;"
            "UPDATE t SET c = 1 WHERE id = 7;");
  ObjectId b = Head();
  RowDiffResult r = ExpectDiff(a, b, "t");
  EXPECT_TRUE(r.schema_changed);
  EXPECT_EQ(r.added_columns, std::vector<std::string>{"c"});
  EXPECT_TRUE(r.dropped_columns.empty());
  EXPECT_FALSE(r.stats.full_scan);
  ASSERT_EQ(r.changes.size(), 1u);
  EXPECT_TRUE(r.changes[0].old_values[2].is_null());
  EXPECT_TRUE(r.changes[0].new_values[2] == SqlValue::Real(1.0));
  ExpectSummary(a, b, {"t"});
}

TEST_F(RowDiffTest, AddColumnWithDefaultComparesEveryRow) {
  Exec(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT);"
            "INSERT INTO t VALUES (1, 'x'), (2, 'y');");
  ObjectId a = Head();
  Exec(db_, "ALTER TABLE t ADD COLUMN c INT DEFAULT 5");
  RowDiffResult r = ExpectDiff(a, Head(), "t");
  EXPECT_TRUE(r.stats.full_scan);
  EXPECT_EQ(r.changes.size(), 2u);  // c: NULL (missing) -> 5
  ExpectSummary(a, Head(), {"t"});
}

TEST_F(RowDiffTest, DropColumnAndRenameColumn) {
  Exec(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b INT);"
            "INSERT INTO t VALUES (1, 'x', 1), (2, 'y', NULL);");
  ObjectId a = Head();
  Exec(db_, "ALTER TABLE t DROP COLUMN b");
  ObjectId b = Head();
  RowDiffResult r = ExpectDiff(a, b, "t");
  EXPECT_EQ(r.dropped_columns, std::vector<std::string>{"b"});
  EXPECT_EQ(r.changes.size(), 1u);  // row 2's b was NULL already
  Exec(db_, "ALTER TABLE t RENAME COLUMN a TO z");
  r = ExpectDiff(b, Head(), "t");
  EXPECT_EQ(r.added_columns, std::vector<std::string>{"z"});
  EXPECT_EQ(r.dropped_columns, std::vector<std::string>{"a"});
  ExpectSummary(a, Head(), {"t"});
}

TEST_F(RowDiffTest, DropAndRecreateTable) {
  Exec(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
            "CREATE TABLE filler(x);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 2000) INSERT INTO t SELECT i, 'v' || i FROM n;");
  ObjectId a = Head();
  Exec(db_, "BEGIN; DROP TABLE t; INSERT INTO filler VALUES (1);"
            "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 2000) INSERT INTO t SELECT i, CASE WHEN i % 100 = 0 "
            "THEN 'changed' ELSE 'v' || i END FROM n; COMMIT;");
  ObjectId b = Head();
  RowDiffResult r = ExpectDiff(a, b, "t");
  EXPECT_EQ(r.changes.size(), 20u);
  ExpectSummary(a, b, {"t", "filler"});
  // Dropped for good, and re-created as WITHOUT ROWID: the key changed.
  Exec(db_, "DROP TABLE t");
  ObjectId c = Head();
  r = ExpectDiff(b, c, "t");
  EXPECT_FALSE(r.in_to);
  EXPECT_EQ(r.changes.size(), 2000u);
  ExpectSummary(b, c, {"t", "filler"});
  Exec(db_, "CREATE TABLE t(id INTEGER, v TEXT, PRIMARY KEY(id)) WITHOUT ROWID;"
            "INSERT INTO t VALUES (1, 'v1'), (2, 'v2');");
  r = ExpectDiff(a, Head(), "t");
  EXPECT_TRUE(r.key_changed);
  EXPECT_EQ(r.changes.size(), 2002u);
  ExpectSummary(a, Head(), {"t", "filler"});
}

TEST_F(RowDiffTest, VacuumMovesEverything) {
  Exec(db_, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
            "CREATE TABLE g(x, y);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 3000) INSERT INTO t SELECT i, 'v' || i FROM n;"
            "INSERT INTO g SELECT id, v FROM t WHERE id % 2 = 0;"
            "DELETE FROM t WHERE id % 3 = 0; DELETE FROM g WHERE x % 4 = 0;");
  ObjectId a = Head();
  Exec(db_, "VACUUM");
  ObjectId b = Head();
  ASSERT_NE(a, b);
  RowDiffResult r = ExpectDiff(a, b, "t");
  EXPECT_TRUE(r.changes.empty());
  ExpectDiff(a, b, "g");  // rowids may be renumbered: whatever SQL says
  ExpectSummary(a, b, {"t", "g"});
}

TEST_F(RowDiffTest, TablePresentOnOneSideOnly) {
  Exec(db_, "CREATE TABLE t(a, b); INSERT INTO t VALUES (1, 2), (3, 4);");
  RowDiffResult r = ExpectDiff(ObjectId(), Head(), "t");
  EXPECT_FALSE(r.in_from);
  EXPECT_EQ(r.changes.size(), 2u);
  EXPECT_TRUE(r.stats.full_scan);
  ExpectSummary(ObjectId(), Head(), {"t"});
  RowDiffResult gone;
  EXPECT_TRUE(DiffTable(store(), Head(), Head(), "nope", &gone).IsNotFound());
}

TEST_F(RowDiffTest, SchemaTableAndVirtualTables) {
  Exec(db_, "CREATE TABLE t(a)");
  ObjectId a = Head();
  Exec(db_, "CREATE TABLE u(b); CREATE INDEX ui ON u(b)");
  RowDiffResult r;
  ASSERT_TRUE(DiffTable(store(), a, Head(), "sqlite_master", &r).ok());
  EXPECT_EQ(r.table, "sqlite_schema");
  EXPECT_EQ(r.columns, (std::vector<std::string>{"type", "name", "tbl_name",
                                                 "rootpage", "sql"}));
  ASSERT_EQ(r.changes.size(), 2u);
  EXPECT_EQ(r.changes[0].type, RowChangeType::kAdded);
  EXPECT_TRUE(r.changes[0].new_values[1] == SqlValue::Text("u"));
  EXPECT_TRUE(r.changes[1].new_values[1] == SqlValue::Text("ui"));
  ASSERT_TRUE(DiffTable(store(), ObjectId(), Head(), "sqlite_schema", &r).ok());
  EXPECT_FALSE(r.in_from);
  EXPECT_EQ(r.changes.size(), 3u);
  Exec(db_, "CREATE VIRTUAL TABLE rt USING rtree(id, x0, x1)");
  RowDiffResult v;
  EXPECT_TRUE(DiffTable(store(), a, Head(), "rt", &v).IsNotSupported());
  // Its shadow tables are ordinary tables.
  ExpectDiff(a, Head(), "rt_node");
}

// Damage anywhere in the `to` version: DiffTable and DiffTables return OK
// or an error, never crash or hang (the ASan build makes this bite).
TEST_F(RowDiffTest, DamagedVersionsNeverCrash) {
  Exec(db_, "PRAGMA secure_delete = OFF;"
            "CREATE TABLE t(id INTEGER PRIMARY KEY, v, w BLOB);"
            "CREATE INDEX tv ON t(v);"
            "CREATE TABLE k(a, b, PRIMARY KEY(b, a)) WITHOUT ROWID;"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 800) INSERT INTO t SELECT i, i * 1.5, CASE WHEN "
            "i % 50 = 0 THEN randomblob(9000) ELSE randomblob(30) END FROM n;"
            "INSERT INTO k SELECT v, id FROM t;");
  ObjectId a = Head();
  Exec(db_, "BEGIN; DELETE FROM t WHERE id % 7 = 0; UPDATE k SET a = 0 "
            "WHERE b % 5 = 0; INSERT INTO t VALUES (5000, 'x', "
            "randomblob(20000)); COMMIT;");
  ObjectId b = Head();
  ObjectId tree = TreeOf(b);
  uint32_t pages = *store()->trees()->PageCount(tree);
  std::mt19937_64 rng(99);
  int errors = 0;
  for (int round = 0; round < 150; round++) {
    // Each round damages one page of b, on a branch reset to b.
    RefTransaction tx;
    tx.Update(BranchRef("damaged"), std::nullopt, b, "reset");
    ASSERT_TRUE(store()->UpdateRefs(tx).ok());
    uint32_t pgno = static_cast<uint32_t>(rng() % pages);
    ObjectId id = *store()->trees()->Get(tree, pgno);
    std::string bytes(*DecodePage(**store()->odb()->Read(id)));
    for (int f = 1 + static_cast<int>(rng() % 6); f > 0; f--) {
      bytes[rng() % bytes.size()] = static_cast<char>(rng());
    }
    CommitRequest request;
    request.ref = BranchRef("damaged");
    request.expected_head = b;
    request.base_tree = tree;
    request.pages.push_back({pgno, bytes});
    request.sync = false;
    Result<CommitResult> commit = store()->CommitPages(request);
    ASSERT_TRUE(commit.ok()) << commit.status().ToString();
    ObjectId head = commit->commit;
    for (const char* table : {"t", "k"}) {
      RowDiffResult r;
      errors += !DiffTable(store(), a, head, table, &r).ok();
    }
    std::vector<TableChangeSummary> summary;
    errors += !DiffTables(store(), a, head, &summary).ok();
  }
  EXPECT_GT(errors, 0);
}

// The point of the design: a one-row change in a large table reads the
// interior pages and a few leaves, not the table.
//
// Bound.  Per version DiffTable reads page 1 (header and schema, which fit
// in it), the table's interior pages, the leftmost leaf (to learn the
// depth: all leaves of a SQLite b-tree are at one depth), and the changed
// leaf; a changed page that is none of these (an index page) is read once
// per version to classify it.  With 100,000 rows of ~35 bytes a leaf holds
// ~110 rows and an interior page ~400 children, so ~900 leaves hang under
// 3 interior pages: about 2 * (1 + 3 + 1 + 1) = 12 pages, 16 with an index.
// Page 1 is read for the header, though no longer in the page diff (a
// commit does not store a page 1 whose only change is its counter).
TEST_F(RowDiffTest, CostFollowsTheChangeNotTheTable) {
  Exec(db_, "CREATE TABLE big(id INTEGER PRIMARY KEY, name TEXT, val INT);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 100000) INSERT INTO big SELECT i, printf('name-%08d', "
            "i), i * 7 FROM n;");
  ObjectId a = Head();
  Exec(db_, "UPDATE big SET val = -1 WHERE id = 54321");
  ObjectId b = Head();
  RowDiffResult r;
  ASSERT_TRUE(DiffTable(store(), a, b, "big", &r).ok());
  ASSERT_EQ(r.changes.size(), 1u);
  EXPECT_EQ(r.changes[0].key.rowid, 54321);
  EXPECT_TRUE(r.changes[0].new_values[2] == SqlValue::Integer(-1));
  const RowDiffStats& s = r.stats;
  // The leaf only: a new file change counter alone does not store page 1.
  EXPECT_EQ(s.changed_pages, 1u);
  EXPECT_EQ(s.entry_pages_read, 2u);
  EXPECT_LE(s.interior_pages, 2u * 6u);
  EXPECT_LE(s.pages_read, 2 * (1 + 1 + 1) + s.interior_pages);
  EXPECT_LT(s.pages_read, 50u);
  std::printf("one-row change in 100K rows: %llu pages read (%llu interior)\n",
              static_cast<unsigned long long>(s.pages_read),
              static_cast<unsigned long long>(s.interior_pages));

  // With an index on the changed column.
  Exec(db_, "CREATE INDEX big_name ON big(name)");
  ObjectId c = Head();
  Exec(db_, "UPDATE big SET name = 'zzz' WHERE id = 777");
  ASSERT_TRUE(DiffTable(store(), c, Head(), "big", &r).ok());
  ASSERT_EQ(r.changes.size(), 1u);
  EXPECT_EQ(r.stats.entry_pages_read, 2u);
  EXPECT_LE(r.stats.pages_read,
            2 * (1 + 1 + 1) + r.stats.interior_pages +
                2 * (r.stats.changed_pages - 2));
  EXPECT_LT(r.stats.pages_read, 50u);

  // Many changed pages of another table do not make the diff read them.
  Exec(db_, "CREATE TABLE other(id INTEGER PRIMARY KEY, v TEXT);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 20000) INSERT INTO other SELECT i, 'v' || i FROM n;");
  ObjectId d = Head();
  Exec(db_, "BEGIN; UPDATE other SET v = v || '!';"
            "UPDATE big SET val = 0 WHERE id = 99; COMMIT;");
  ASSERT_TRUE(DiffTable(store(), d, Head(), "big", &r).ok());
  ASSERT_EQ(r.changes.size(), 1u);
  EXPECT_GT(r.stats.changed_pages, 50u);
  EXPECT_LT(r.stats.pages_read, 60u) << r.stats.changed_pages;

  // The full scan reads every leaf.
  RowDiffOptions full;
  full.full_scan = true;
  ASSERT_TRUE(DiffTable(store(), a, b, "big", &r, full).ok());
  EXPECT_EQ(r.changes.size(), 1u);
  EXPECT_GT(r.stats.pages_read, 1000u);

  std::vector<TableChangeSummary> summary;
  RowDiffStats stats;
  ASSERT_TRUE(DiffTables(store(), a, b, &summary, &stats).ok());
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0].rows_modified, 1u);
  EXPECT_LT(stats.pages_read, 50u);
}

// Random edit scripts over several kinds of table, with and without
// auto_vacuum; every pair of commits (not only neighbours) is diffed.
TEST_F(RowDiffTest, RandomEditScriptsMatchTheOracle) {
  const std::set<std::string> tables = {"r1", "r2", "w1", "bl", "tmp"};
  for (uint64_t seed = 1; seed <= 12; seed++) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    sqlite3_close(db_);
    name_ = test::MemoryStoreName();
    db_ = OpenOrDie(name_);
    engine_ = *Engine::Acquire(name_, true);
    std::mt19937_64 rng(seed);
    auto pick = [&](uint64_t n) { return static_cast<int64_t>(rng() % n); };
    if (seed % 2 == 0) Exec(db_, "PRAGMA auto_vacuum = FULL");
    Exec(db_,
         "CREATE TABLE r1(id INTEGER PRIMARY KEY, a INT, b TEXT, c REAL);"
         "CREATE INDEX r1_b ON r1(b);"
         "CREATE TABLE r2(x, y, z BLOB);"
         "CREATE TABLE w1(k1 TEXT, k2 INT, v, big BLOB, PRIMARY KEY(k2, k1))"
         " WITHOUT ROWID;"
         "CREATE TABLE bl(id INTEGER PRIMARY KEY, data BLOB);");
    std::vector<ObjectId> commits{Head()};
    bool r1_has_d = false;
    for (int step = 0; step < 30; step++) {
      int op = static_cast<int>(pick(100));
      std::string n = std::to_string(1 + pick(40));
      std::string sql;
      if (op < 20) {
        sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM "
              "n WHERE i < " + std::to_string(1 + pick(op < 4 ? 800 : 60)) +
              ") INSERT INTO r1(a, b, c) SELECT abs(random()) % 1000, "
              "printf('%.*c', abs(random()) % 200, 'b'), random() / 7.0 "
              "FROM n;";
      } else if (op < 30) {
        sql = "UPDATE r1 SET a = a + 1 WHERE id % " + n + " = 0;"
              "UPDATE r1 SET b = 'upd' || id WHERE id % 37 = " +
              std::to_string(pick(37)) + ";";
        if (r1_has_d) sql += "UPDATE r1 SET d = id WHERE id % 11 = 0;";
      } else if (op < 38) {
        sql = "DELETE FROM r1 WHERE id % " + n + " = 1;";
      } else if (op < 50) {
        sql = "INSERT INTO r2 SELECT a, b, randomblob(abs(random()) % 3000) "
              "FROM r1 WHERE id % " + n + " = 0 LIMIT 300;"
              "DELETE FROM r2 WHERE rowid % 13 = " + std::to_string(pick(13)) +
              ";";
      } else if (op < 64) {
        sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM "
              "n WHERE i < " + std::to_string(1 + pick(300)) + ") INSERT OR "
              "REPLACE INTO w1 SELECT 'k' || (abs(random()) % 50), "
              "abs(random()) % 500, i, CASE WHEN i % 40 = 0 THEN "
              "randomblob(6000) ELSE NULL END FROM n;"
              "UPDATE w1 SET v = 'x' WHERE k2 % " + n + " = 0;"
              "DELETE FROM w1 WHERE k2 % 29 = " + std::to_string(pick(29)) +
              ";";
      } else if (op < 74) {
        sql = "INSERT INTO bl VALUES (NULL, randomblob(" +
              std::to_string(40000 + pick(20000)) + "));"
              "DELETE FROM bl WHERE id % 9 = " + std::to_string(pick(9)) + ";";
      } else if (op < 84) {
        // Same-size overwrite of a blob: only overflow pages change.
        auto rows = QueryValues(db_, "SELECT id, data FROM bl ORDER BY "
                                     "random() LIMIT 1");
        if (!rows.empty()) {
          std::string data = rows[0][1].bytes;
          if (data.size() > 10000) {
            data[5000 + pick(data.size() - 5000)] ^= 1;
            ExecBlob("UPDATE bl SET data = ? WHERE id = " +
                         std::to_string(rows[0][0].integer),
                     data);
            commits.push_back(Head());
          }
        }
        continue;
      } else if (op < 88) {
        if (!r1_has_d) {
          sql = "ALTER TABLE r1 ADD COLUMN d INT;";
          r1_has_d = true;
        } else {
          sql = "UPDATE r1 SET c = NULL WHERE id % 5 = 0;";
        }
      } else if (op < 93) {
        sql = "DROP TABLE IF EXISTS tmp; CREATE TABLE tmp(p INTEGER PRIMARY "
              "KEY, q); INSERT INTO tmp SELECT id, a FROM r1 WHERE id % " + n +
              " = 0;";
      } else if (op < 96) {
        sql = "DROP TABLE IF EXISTS tmp;";
      } else {
        Exec(db_, "VACUUM");
        commits.push_back(Head());
        continue;
      }
      Exec(db_, "BEGIN;" + sql + "COMMIT;");
      if (Head() != commits.back()) commits.push_back(Head());
    }
    // Neighbours, and a few random pairs in both directions.
    std::vector<std::pair<size_t, size_t>> pairs;
    for (size_t i = 1; i < commits.size(); i++) pairs.emplace_back(i - 1, i);
    for (int k = 0; k < 6; k++) {
      pairs.emplace_back(pick(commits.size()), pick(commits.size()));
    }
    for (auto [i, j] : pairs) {
      SCOPED_TRACE("commits " + std::to_string(i) + " -> " + std::to_string(j));
      for (const std::string& t : tables) ExpectDiff(commits[i], commits[j], t);
      ExpectSummary(commits[i], commits[j], tables);
      if (::testing::Test::HasFailure()) return;
    }
  }
  std::printf("checked %llu diffs (%llu page-driven), %llu row changes, "
              "%llu overflow-owner pages\n",
              static_cast<unsigned long long>(diffs_checked_),
              static_cast<unsigned long long>(incremental_),
              static_cast<unsigned long long>(changes_checked_),
              static_cast<unsigned long long>(overflow_owner_pages_));
  EXPECT_GT(changes_checked_, 1000u);
  EXPECT_GT(overflow_owner_pages_, 0u);
}

}  // namespace
}  // namespace larix
