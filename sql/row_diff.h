// Row-level diff between two commits, computed from the page-level diff.
//
// This is the engine under larix_diff, history, blame and merge: "which rows
// of table t differ between commit A and commit B", in time proportional to
// the change rather than to the table.  The full argument is in
// docs/row_diff.md; in short:
//
//   1. PageTree::Diff(A.tree, B.tree) names the changed pages D.
//   2. Walking the table's b-tree *interior* pages in each version lists its
//      entry pages H_A and H_B (the leaves of a rowid table; every page of a
//      WITHOUT ROWID table's index b-tree).  Leaves are not read.
//   3. An entry page p in both H_A and H_B and not in D is byte-identical in
//      both versions, so it holds the same rows in both.  Keys are unique
//      within a version, so those rows cannot appear anywhere else: the
//      diff of the whole table equals the diff of the rows on the remaining
//      pages, H_A minus those and H_B minus those.  Only those are decoded.
//   4. A row's overflow pages can change while its leaf does not (SQLite
//      overwrites a same-size payload in place).  Every changed page that is
//      not explained (a b-tree page, an overflow page of a row decoded in
//      step 3, a freelist or pointer-map page, a page absent in one version)
//      is traced back to its leaf, through the pointer map when the
//      database has one, else by a scan of the table's overflow chains; such
//      leaves are decoded too.  Exactness never depends on SQLite's write
//      habits.
//
// Rows are keyed by rowid (rowid tables; an INTEGER PRIMARY KEY column is
// the rowid) or by primary key values (WITHOUT ROWID tables).  When the
// table's schema differs between the versions, rows are compared by column
// name, a column missing on one side reading as NULL, and the result says
// which columns were added and dropped.
//
// Thread-safety: the functions are safe to call concurrently on one Store.

#ifndef LARIX_SQL_ROW_DIFF_H_
#define LARIX_SQL_ROW_DIFF_H_

#include <cstdint>
#include <string>
#include <vector>

#include "larix/object_id.h"
#include "larix/status.h"
#include "sql/btree_reader.h"

namespace larix {

class Store;

// The key of a row.
struct RowKey {
  int64_t rowid = 0;                  // rowid tables
  std::vector<SqlValue> primary_key;  // WITHOUT ROWID tables, in key order

  // "42" for a rowid, "('a', 7)" for a primary key.
  std::string ToString() const;
};

// Key order: rowids numerically, primary keys by CompareSqlValues column by
// column.  Returns <0, 0 or >0.
int CompareRowKeys(const RowKey& a, const RowKey& b);

enum class RowChangeType : uint8_t { kAdded, kModified, kRemoved };

// "added", "modified", "removed".
const char* RowChangeTypeName(RowChangeType type);

struct RowChange {
  RowChangeType type = RowChangeType::kModified;
  RowKey key;
  // Values in RowDiffResult::columns order.  old_values is empty for an
  // added row, new_values for a removed one.
  std::vector<SqlValue> old_values;
  std::vector<SqlValue> new_values;
};

// What a diff cost.  Page counts are summed over both versions.
struct RowDiffStats {
  uint64_t changed_pages = 0;     // pages the page-tree diff reported
  uint64_t pages_read = 0;        // database pages fetched from the store
  uint64_t interior_pages = 0;    // interior pages walked
  uint64_t entry_pages_read = 0;  // entry pages whose cells were decoded
  uint64_t overflow_pages_read = 0;
  // Unchanged entry pages decoded because an overflow page of one of their
  // rows changed (step 4 above).
  uint64_t overflow_owner_pages = 0;
  // Step 4 had to scan the table's overflow chains (no pointer map).
  bool overflow_scan = false;
  // Every row of both versions was compared (no unchanged-page shortcut);
  // full_scan_reason says why.
  bool full_scan = false;
  std::string full_scan_reason;
};

struct RowDiffResult {
  std::string table;
  bool in_from = false;  // the table exists in the `from` version
  bool in_to = false;    // ... and in the `to` version
  bool without_rowid = false;  // of the `to` version if it has the table
  // The columns that form RowChange::key: the rowid alias (or "rowid") for
  // rowid tables, the primary key columns for WITHOUT ROWID tables.
  std::vector<std::string> key_columns;
  // Each version's columns in declaration order (virtual generated columns,
  // which are not stored, left out), and the union the values are given
  // in: the `to` columns, then columns only the `from` version has.
  std::vector<std::string> from_columns;
  std::vector<std::string> to_columns;
  std::vector<std::string> columns;
  // The schemas differ (columns added, dropped, renamed or retyped, or the
  // key changed).  Rows are then compared by column name, a column missing
  // on one side reading as NULL.
  bool schema_changed = false;
  std::vector<std::string> added_columns;    // in `to` only
  std::vector<std::string> dropped_columns;  // in `from` only
  // The key itself changed (rowid table <-> WITHOUT ROWID, or different
  // primary key columns): keys are not comparable, so every `from` row is
  // reported removed and every `to` row added.
  bool key_changed = false;
  std::vector<RowChange> changes;  // sorted by key (CompareRowKeys)
  RowDiffStats stats;
};

struct RowDiffOptions {
  // Compare every row of both versions instead of only the changed pages.
  // Same result, slower: for tests and benchmarks.
  bool full_scan = false;
};

// The rows of `table` (ASCII case-insensitive; "sqlite_schema" works too)
// that differ between the versions at `from_commit` and `to_commit`.  A
// null commit id stands for the empty database.  A table present in only
// one version yields all its rows as added (or removed).
// Errors: NotFound if neither version has the table (or a commit is
// missing); NotSupported for a virtual table or a UTF-16 database;
// InvalidArgument if the table's CREATE TABLE cannot be parsed;
// Corruption naming the page for a malformed database.
Status DiffTable(Store* store, const ObjectId& from_commit,
                 const ObjectId& to_commit, const std::string& table,
                 RowDiffResult* out, const RowDiffOptions& options = {});

// How one table changed between two versions.
struct TableChangeSummary {
  std::string table;
  bool added = false;           // only in `to`: every row counts as added
  bool removed = false;         // only in `from`: every row counts as removed
  bool schema_changed = false;  // as RowDiffResult::schema_changed
  uint64_t rows_added = 0;
  uint64_t rows_modified = 0;
  uint64_t rows_removed = 0;
};

// Every table whose rows or schema differ between the two versions, sorted
// by name, with counts of changed rows (for `larix diff` and
// compare_branches).  Cost follows the change: each changed page is mapped
// to its b-tree through the interior-page walks of every b-tree, and only
// the changed entry pages are decoded; a table present in only one version
// is counted from its pages' cell counts, without decoding rows.  Tables
// named sqlite_* (SQLite's own) are left out; DiffTable reads them.
// `stats`, if given, receives the cost.  Errors as for DiffTable.
Status DiffTables(Store* store, const ObjectId& from_commit,
                  const ObjectId& to_commit,
                  std::vector<TableChangeSummary>* out,
                  RowDiffStats* stats = nullptr);

}  // namespace larix

#endif  // LARIX_SQL_ROW_DIFF_H_
