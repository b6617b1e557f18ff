// BtreeReader: reads one version of a database straight from its page tree,
// without SQLite.
//
// A Larix database version is a page tree whose pages are the pages of an
// ordinary SQLite file (https://sqlite.org/fileformat2.html).  Row-level
// diff (sql/row_diff.h) needs to decode a handful of those pages in two
// versions and nothing else, which SQLite cannot do: it reads whole b-trees
// through its pager.  This module is the small, read-only subset of the
// file format that diff needs:
//
//   header      page size, reserved bytes, text encoding (UTF-8 only: a
//               UTF-16 database is NotSupported), auto-vacuum, freelist
//   schema      the rows of sqlite_schema (page 1), and a parser for the
//               CREATE TABLE statements stored there (column names, declared
//               types and affinities, PRIMARY KEY, INTEGER PRIMARY KEY,
//               WITHOUT ROWID, generated columns, literal defaults)
//   b-trees     the interior-page walk that lists a b-tree's pages without
//               reading its leaves, cell decoding on any b-tree page, and
//               overflow chains
//   records     SQLite's record format decoded into SqlValues, then mapped
//               onto a table's columns exactly as SQLite would read them
//               (INTEGER PRIMARY KEY from the rowid, REAL affinity turning
//               stored integers back into reals, defaults for short records)
//   freelist,   so that a diff can tell what an otherwise unexplained changed
//   ptrmap      page is
//
// Page numbers in this API are SQLite's: 1-based (page 1 holds the header
// and the schema root).  The page tree is 0-based; the reader converts.
//
// Invariants:
//   1. Never trust the file.  Every offset, length, page number and varint
//      is bounds-checked; anything out of place is Status::Corruption that
//      names the page and what is wrong with it.  No input makes the reader
//      crash, read out of bounds or loop: walks keep a visited set and are
//      bounded by the page count (and b-trees by SQLite's own depth limit).
//   2. Read-only and side-effect free: the reader never writes to the store.
//   3. A page that is in range but absent from the tree reads as zeros, as
//      the VFS presents it to SQLite.
//
// Thread-safety: a BtreeReader is used by one thread at a time (it caches
// pages and counts reads).  Several readers may share one Store.

#ifndef LARIX_SQL_BTREE_READER_H_
#define LARIX_SQL_BTREE_READER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "larix/object_id.h"
#include "larix/status.h"

namespace larix {

class Store;

// One SQL value as SQLite stores it.
struct SqlValue {
  enum class Type : uint8_t { kNull, kInteger, kReal, kText, kBlob };

  Type type = Type::kNull;
  int64_t integer = 0;  // kInteger
  double real = 0;      // kReal
  std::string bytes;    // kText (UTF-8) and kBlob

  static SqlValue Null() { return SqlValue(); }
  static SqlValue Integer(int64_t v);
  static SqlValue Real(double v);
  static SqlValue Text(std::string v);
  static SqlValue Blob(std::string v);

  bool is_null() const { return type == Type::kNull; }

  // Exact equality: same type and same value (reals bit for bit), so 1,
  // 1.0 and '1' are three different values.  This is "the row changed".
  bool operator==(const SqlValue& other) const;

  // A SQL literal for the value, in the style of SQLite's quote():
  // NULL, 42, 1.5, 'it''s', X'00FF'.  Reals keep enough digits to round
  // trip and always show a '.' or an exponent.
  std::string ToSqlLiteral() const;
};

// SQLite's order of values under the BINARY collation: NULL < numbers
// (integers and reals compared by value) < text (memcmp) < blob (memcmp).
// Returns <0, 0 or >0.  This is the order of keys in a WITHOUT ROWID b-tree
// whose primary key uses the default collation.
int CompareSqlValues(const SqlValue& a, const SqlValue& b);

// Column affinity (https://sqlite.org/datatype3.html, section 3).
enum class Affinity : uint8_t { kBlob, kText, kNumeric, kInteger, kReal };

// The affinity of a declared column type by SQLite's five rules, in order:
// "INT" -> INTEGER; "CHAR", "CLOB", "TEXT" -> TEXT; "BLOB" or no type ->
// BLOB; "REAL", "FLOA", "DOUB" -> REAL; otherwise NUMERIC.  In a STRICT
// table the type ANY has no affinity (BLOB).
Affinity AffinityOfDeclaredType(std::string_view declared_type, bool strict);

// `value` converted as SQLite converts a value stored into a column of
// affinity `affinity` (numeric text becomes a number under NUMERIC,
// INTEGER and REAL; numbers become text under TEXT; integral reals become
// integers under NUMERIC and INTEGER).  Used for DEFAULT literals.
SqlValue ApplyAffinity(SqlValue value, Affinity affinity);

// One column of a table, from its CREATE TABLE statement.
struct ColumnInfo {
  std::string name;           // as declared, quotes removed
  std::string declared_type;  // as written ("VARCHAR(10)"), may be empty
  Affinity affinity = Affinity::kBlob;
  bool in_primary_key = false;
  // GENERATED ALWAYS AS (...) VIRTUAL (or no storage keyword): not stored
  // in the record, so a reader without SQLite cannot produce its value.
  bool virtual_generated = false;
  bool stored_generated = false;  // ... STORED: in the record like any column
  // The value of a field missing from a short record (rows written before
  // ALTER TABLE ADD COLUMN): the DEFAULT literal with the column's affinity
  // applied; NULL when there is no DEFAULT or it is not a literal.
  SqlValue default_value;

  bool operator==(const ColumnInfo& other) const = default;
};

// What a row of a table looks like on disk.
struct TableInfo {
  std::string name;
  uint32_t root_page = 0;  // SQLite page number; 0 for virtual tables
  bool without_rowid = false;
  bool strict = false;
  std::vector<ColumnInfo> columns;  // in declaration order
  // Primary key columns (indexes into `columns`) in key order, duplicates
  // removed; empty when the table has no PRIMARY KEY.
  std::vector<int> primary_key;
  // The INTEGER PRIMARY KEY column of a rowid table (an alias of the rowid,
  // stored as NULL in the record), or -1.
  int rowid_alias = -1;
  // record_columns[i] is the column whose value is field i of the record:
  // every non-virtual column in declaration order for rowid tables; the
  // primary key columns then the other non-virtual columns in declaration
  // order for WITHOUT ROWID tables.
  std::vector<int> record_columns;

  // The index of the column named `name` (ASCII case-insensitive), or -1.
  int FindColumn(std::string_view name) const;
};

// Parses a CREATE TABLE statement as sqlite_schema stores it and fills *out
// (all but name and root_page, which come from the schema row).  Uses the
// SQLite-exact tokenizer (sql/tokenizer.h); understands column definitions,
// column and table constraints, and the WITHOUT ROWID and STRICT options.
// NotSupported for CREATE VIRTUAL TABLE; InvalidArgument if the statement
// is not a CREATE TABLE with a column list or is malformed.
Status ParseCreateTable(std::string_view sql, TableInfo* out);

// The TableInfo of sqlite_schema itself (root page 1): type, name,
// tbl_name, rootpage, sql.
TableInfo SchemaTableInfo();

// One row of sqlite_schema.
struct SchemaEntry {
  std::string type;  // "table", "index", "view", "trigger"
  std::string name;
  std::string tbl_name;
  uint32_t root_page = 0;  // 0 for views, triggers and virtual tables
  std::string sql;         // empty for automatic indexes
};

enum class BtreeKind : uint8_t {
  kTable,  // rowid tables: rows live in the leaves, keyed by rowid
  kIndex,  // indexes and WITHOUT ROWID tables: entries live in every page
};

// The pages of one b-tree, found by walking its interior pages.
struct BtreeShape {
  BtreeKind kind = BtreeKind::kTable;
  uint32_t root = 0;
  int depth = 0;                   // levels; 1 when the root is a leaf
  std::vector<uint32_t> interior;  // interior pages, level by level
  std::vector<uint32_t> leaves;    // leaf pages, left to right

  // The pages that hold entries: the leaves of a table b-tree, every page
  // of an index b-tree (SQLite's index b-trees keep entries in interior
  // cells too).  Sorted ascending.
  std::vector<uint32_t> EntryPages() const;
};

// One cell of a b-tree page.
struct BtreeCell {
  int64_t rowid = 0;      // table leaf cells only
  std::string payload;    // the whole payload, overflow chain included
  std::vector<uint32_t> overflow;  // the cell's overflow pages, chain order
};

struct BtreeReaderStats {
  uint64_t pages_read = 0;      // pages fetched from the store
  uint64_t page_cache_hits = 0;
  uint64_t overflow_pages_read = 0;  // of pages_read: overflow chain pages
};

class BtreeReader {
 public:
  // Opens the database version whose page tree root is `tree` (the null id
  // is the empty database: no pages, no tables).  Reads and checks the
  // database header.  `store` must outlive the reader.
  // Errors: NotSupported for a UTF-16 database; Corruption for a malformed
  // header (magic, page size, reserved bytes, payload fractions) or a page
  // whose size is not the header's; NotFound/Corruption from the store.
  static Status Open(Store* store, const ObjectId& tree,
                     std::unique_ptr<BtreeReader>* out);

  BtreeReader(const BtreeReader&) = delete;
  BtreeReader& operator=(const BtreeReader&) = delete;

  const ObjectId& tree() const { return tree_; }
  uint32_t page_size() const { return page_size_; }
  uint32_t usable_size() const { return usable_size_; }
  // The pages of the database as SQLite sees them: the header's in-header
  // size when it is valid and smaller than the tree, else the tree's page
  // count.  Pages beyond it are out of range.
  uint32_t page_count() const { return page_count_; }
  bool auto_vacuum() const { return auto_vacuum_; }
  const BtreeReaderStats& stats() const { return stats_; }

  // A page's bytes and the object that keeps them alive.
  struct PageRef {
    std::shared_ptr<const std::string> holder;
    std::string_view bytes;  // page_size() bytes, valid while holder lives
  };

  // The bytes of page `pgno`.  Cached (bounded: see kPageCacheLimit).
  // Corruption if `pgno` is 0 or beyond page_count(); store errors name the
  // page.
  Result<PageRef> Page(uint32_t pgno);

  // The rows of sqlite_schema, in b-tree order.  Read once, then cached.
  // Errors: Corruption anywhere in the schema b-tree or its records.
  Result<const std::vector<SchemaEntry>*> Schema();

  // The table named `name` (ASCII case-insensitive; "sqlite_schema" and
  // "sqlite_master" name the schema table), its CREATE TABLE parsed.
  // NotFound if there is no such table; NotSupported for a virtual table;
  // InvalidArgument if its statement cannot be parsed; Corruption from
  // Schema().
  Status FindTable(std::string_view name, TableInfo* out);

  // Lists the pages of the b-tree rooted at `root` by reading its interior
  // pages, plus the leftmost leaf (the only way to learn the depth: SQLite
  // keeps every leaf at the same depth).  No other leaf is read.
  // Corruption (naming the page) for a page of the wrong type, a child
  // pointer out of range, a page reached twice (a cycle or shared page),
  // or a tree deeper than SQLite allows.
  Status WalkBtree(uint32_t root, BtreeShape* out);

  // The cells of page `pgno`, which must be a page of a `kind` b-tree.
  // Table interior cells hold no payload and are skipped, so for a table
  // b-tree the page must be a leaf.  With want_payload false, payloads are
  // not assembled but overflow chains are still followed (to list them).
  // Corruption naming the page for any malformed cell or overflow chain.
  Status ReadCells(uint32_t pgno, BtreeKind kind, bool want_payload,
                   std::vector<BtreeCell>* out);

  // The number of cells on page `pgno` (from its header), checked to be a
  // b-tree page of `kind`.
  Result<uint32_t> CellCount(uint32_t pgno, BtreeKind kind);

  // Calls fn for every row of `table`: rowid (0 for WITHOUT ROWID tables)
  // and the values of its columns in declaration order (see DecodeRow).
  // Stops at, and returns, the first non-OK Status fn returns.
  Status ScanTable(const TableInfo& table,
                   const std::function<Status(int64_t rowid,
                                              std::vector<SqlValue>& row)>& fn);

  // Every page on the freelist (trunk and leaf pages), ascending.
  // Corruption naming the trunk for a page out of range, a page listed
  // twice (which also ends any cycle) or a trunk listing more leaves than
  // fit on it.
  Status FreelistPages(std::vector<uint32_t>* out);

  // Whether `pgno` is a pointer-map page (auto-vacuum databases only).
  bool IsPtrmapPage(uint32_t pgno) const;

  // The pointer-map entry of `pgno`: type (1 root page, 2 free page,
  // 3 first overflow page, 4 later overflow page, 5 non-root b-tree page)
  // and parent page.  NotSupported unless auto_vacuum(); Corruption for an
  // unknown type.
  Status ReadPtrmap(uint32_t pgno, uint8_t* type, uint32_t* parent);

  // The page that SQLite never uses: the one holding the lock bytes at
  // file offset 2^30 (it exists only in databases larger than 1 GiB).
  uint32_t PendingBytePage() const;

  // Decodes a record into its fields, without affinity.  Corruption (with
  // no page named: callers add it) for a malformed header, a reserved
  // serial type or a body that does not fit.
  static Status DecodeRecord(std::string_view payload,
                             std::vector<SqlValue>* fields);

  // A row of `table` from one cell, values in column declaration order, as
  // SQLite would read them: the rowid alias column is the rowid; a stored
  // integer in a REAL-affinity column is a real; a field missing from a
  // short record is the column's default; a virtual generated column is
  // NULL (it is not stored).
  static Status DecodeRow(const TableInfo& table, const BtreeCell& cell,
                          std::vector<SqlValue>* row);

  // The most decoded pages the cache keeps; a full scan streams past it.
  static constexpr size_t kPageCacheLimit = 4096;

 private:
  struct PageHeader;

  BtreeReader(Store* store, const ObjectId& tree)
      : store_(store), tree_(tree) {}

  Status ReadHeader();
  Status ParsePageHeader(uint32_t pgno, std::string_view page,
                         PageHeader* out);
  Status ReadChildren(uint32_t pgno, std::string_view page,
                      const PageHeader& header, std::vector<uint32_t>* out);
  Status ReadPayload(uint32_t pgno, std::string_view page, size_t offset,
                     uint64_t payload_size, bool index_cell, bool want_payload,
                     BtreeCell* cell);

  Store* const store_;
  const ObjectId tree_;
  uint32_t page_size_ = 4096;
  uint32_t usable_size_ = 4096;
  uint32_t page_count_ = 0;
  bool auto_vacuum_ = false;
  uint32_t freelist_trunk_ = 0;
  std::unordered_map<uint32_t, PageRef> cache_;
  std::shared_ptr<const std::string> zero_page_;
  std::optional<std::vector<SchemaEntry>> schema_;
  BtreeReaderStats stats_;
};

}  // namespace larix

#endif  // LARIX_SQL_BTREE_READER_H_
