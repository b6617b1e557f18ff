// Row-level diff from page-level diff.  The argument for exactness and the
// edge cases are in docs/row_diff.md; the steps below follow it.
//
// One VersionDiff serves one call.  It holds a BtreeReader per version and
// the changed page set D, and works through the b-trees it needs:
//
//   Walk          interior pages of both versions -> entry pages H_from, H_to
//   ReadChanged   the entry pages not in U = (H_from & H_to) - D, per side:
//                 decoded into row maps (the table diffed) or only followed
//                 through their overflow chains (other b-trees)
//   Unresolved    the pages of D nothing explains yet (see "explained")
//   ptrmap/scan   trace those to the unchanged entry page that owns them,
//                 and read that page on both sides too ("forced")
//
// "Explained" (explained_): a changed page q is explained once we know that
// in at least one version q is NOT an overflow page of a row on an
// unchanged entry page.  Such a page can never be the first changed page
// of an unchanged row's chain, which would be an overflow page in *both*
// versions (the chain is identical up to it).  So when every page of D is
// explained, every row on every page of U is unchanged, overflow included.
//
// Invariant: every row map holds the rows of one version of one table, and
// a key appears once in it (Corruption otherwise).

#include "sql/row_diff.h"
#include "sql/tokenizer.h"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <unordered_set>

#include "larix/store.h"
#include "objects/commit_graph.h"
#include "objects/page_tree.h"

namespace larix {
namespace {

constexpr int kFrom = 0;
constexpr int kTo = 1;

// Up to this many unexplained changed pages are classified by reading
// each (CheaplyExplained: two page reads); beyond it, walking the other
// b-trees' interior pages is cheaper.
constexpr size_t kClassifyByReadingLimit = 32;

// Pointer-map entry types (fileformat2, "Pointer Map or Ptrmap Pages").
constexpr uint8_t kPtrmapOverflow1 = 3;
constexpr uint8_t kPtrmapOverflow2 = 4;

struct KeyLess {
  bool operator()(const RowKey& a, const RowKey& b) const {
    return CompareRowKeys(a, b) < 0;
  }
};
using RowMap = std::map<RowKey, std::vector<SqlValue>, KeyLess>;

bool Contains(const std::vector<uint32_t>& sorted, uint32_t pgno) {
  return std::binary_search(sorted.begin(), sorted.end(), pgno);
}

bool IsInternalName(std::string_view name) {
  return sql::AsciiLower(name.substr(0, 7)) == "sqlite_";
}

// The columns a version stores (virtual generated columns have no value
// without SQLite, and are derived from the others anyway).
std::vector<int> StoredColumns(const TableInfo& t) {
  std::vector<int> out;
  for (size_t i = 0; i < t.columns.size(); i++) {
    if (!t.columns[i].virtual_generated) out.push_back(static_cast<int>(i));
  }
  return out;
}

// Whether a record decodes to the same values, column by column name, under
// both schemas: then an unchanged page holds unchanged rows.  True for
// identical schemas and for `to` = `from` plus columns appended by ALTER
// TABLE ADD COLUMN with a NULL default (old records lack those fields and
// read NULL, which is what "missing column" means in the comparison).
bool SameStorage(const TableInfo& a, const TableInfo& b) {
  if (a.without_rowid != b.without_rowid || a.rowid_alias != b.rowid_alias ||
      a.primary_key != b.primary_key || b.columns.size() < a.columns.size() ||
      b.record_columns.size() < a.record_columns.size() ||
      !std::equal(a.record_columns.begin(), a.record_columns.end(),
                  b.record_columns.begin())) {
    return false;
  }
  for (size_t i = 0; i < a.columns.size(); i++) {
    const ColumnInfo &x = a.columns[i], &y = b.columns[i];
    if (sql::AsciiLower(x.name) != sql::AsciiLower(y.name) || x.affinity != y.affinity ||
        x.virtual_generated != y.virtual_generated ||
        !(x.default_value == y.default_value)) {
      return false;
    }
  }
  for (size_t i = a.columns.size(); i < b.columns.size(); i++) {
    const ColumnInfo& y = b.columns[i];
    if (y.in_primary_key || !y.default_value.is_null()) return false;
  }
  for (size_t i = a.record_columns.size(); i < b.record_columns.size(); i++) {
    if (b.record_columns[i] < static_cast<int>(a.columns.size())) return false;
  }
  return true;
}

// Whether keys of the two versions mean the same thing.
bool SameKey(const TableInfo& a, const TableInfo& b) {
  if (a.without_rowid != b.without_rowid) return false;
  if (!a.without_rowid) return true;
  if (a.primary_key.size() != b.primary_key.size()) return false;
  for (size_t i = 0; i < a.primary_key.size(); i++) {
    if (sql::AsciiLower(a.columns[a.primary_key[i]].name) !=
        sql::AsciiLower(b.columns[b.primary_key[i]].name)) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> KeyColumns(const TableInfo& t) {
  std::vector<std::string> out;
  if (t.without_rowid) {
    for (int c : t.primary_key) out.push_back(t.columns[c].name);
  } else {
    out.push_back(t.rowid_alias >= 0 ? t.columns[t.rowid_alias].name
                                     : "rowid");
  }
  return out;
}

// The union of both versions' columns and where each comes from.
struct ColumnMap {
  std::vector<std::string> columns;
  std::vector<int> index[2];  // per union column: the version's column or -1

  void Align(int side, const std::vector<SqlValue>& row,
             std::vector<SqlValue>* out) const {
    out->clear();
    for (int c : index[side]) {
      out->push_back(c >= 0 ? row[c] : SqlValue());
    }
  }
};

ColumnMap MakeColumnMap(const TableInfo* info[2]) {
  ColumnMap map;
  for (int side : {kTo, kFrom}) {
    if (!info[side]) continue;
    for (int c : StoredColumns(*info[side])) {
      const std::string& name = info[side]->columns[c].name;
      bool known = false;
      for (const std::string& have : map.columns) {
        if (sql::AsciiLower(have) == sql::AsciiLower(name)) known = true;
      }
      if (!known) map.columns.push_back(name);
    }
  }
  for (int side : {kFrom, kTo}) {
    for (const std::string& name : map.columns) {
      int c = info[side] ? info[side]->FindColumn(name) : -1;
      if (c >= 0 && info[side]->columns[c].virtual_generated) c = -1;
      map.index[side].push_back(c);
    }
  }
  return map;
}

// Receives the changed rows in key order.  Rows are aligned to the
// ColumnMap; a null pointer is the missing side.
using ChangeSink =
    std::function<void(RowChangeType, const RowKey&,
                       const std::vector<SqlValue>*,
                       const std::vector<SqlValue>*)>;

// One b-tree (table or index) as the two versions have it, matched by name.
struct Btree {
  std::string name;
  bool present[2] = {false, false};
  uint32_t root[2] = {0, 0};
  BtreeShape shape[2];
  std::vector<uint32_t> entries[2];  // entry pages, sorted
  bool walked = false;
  // Read every entry page of both versions (no unchanged-page shortcut).
  bool compare_all = false;
  std::unordered_set<uint32_t> read[2];  // entry pages already read

  // Set for the tables whose rows are wanted.
  bool decode_rows = false;
  TableInfo info[2];
  RowMap rows[2];
};

class VersionDiff {
 public:
  explicit VersionDiff(Store* store) : store_(store) {}

  Status Open(const ObjectId& from_commit, const ObjectId& to_commit);
  Status DiffTable(const std::string& name, const RowDiffOptions& options,
                   RowDiffResult* out);
  Status Summarize(std::vector<TableChangeSummary>* out);
  void FillStats(RowDiffStats* stats) const;

 private:
  bool Changed(uint32_t pgno) const { return Contains(changed_, pgno); }
  void Explain(uint32_t pgno) {
    if (Changed(pgno)) explained_.insert(pgno);
  }
  Status LoadTable(const std::string& name, Btree* b);
  Status Walk(Btree* b);
  std::vector<uint32_t> PagesToRead(const Btree& b, int side) const;
  Status ReadEntryPages(Btree* b, int side, const std::vector<uint32_t>& pages);
  Status ReadChanged(Btree* b);
  Status Force(Btree* b, uint32_t pgno);
  Status CheaplyExplained(uint32_t pgno, bool* yes);
  Status Unresolved(std::vector<uint32_t>* out);
  int PtrmapSide() const;
  Status OwnerByPtrmap(int side, uint32_t pgno, uint32_t* owner);
  Status ScanOverflowOwners(Btree* b, std::unordered_set<uint32_t>* pending);
  Status CollectBtrees(std::map<std::string, Btree>* out);
  Status ResolveOverflow(Btree* target);
  Status EmitChanges(Btree* b, const ColumnMap& map, bool key_changed,
                     const ChangeSink& sink);
  Status MergeRowidTables(Btree* b, const ColumnMap& map,
                          const ChangeSink& sink);

  Store* const store_;
  std::unique_ptr<BtreeReader> readers_[2];
  std::vector<uint32_t> changed_;  // D: SQLite page numbers, sorted
  std::unordered_set<uint32_t> explained_;
  bool freelists_read_ = false;
  uint64_t interior_pages_ = 0;
  uint64_t entry_pages_read_ = 0;
  uint64_t overflow_owner_pages_ = 0;
  bool overflow_scan_ = false;
};

Status VersionDiff::Open(const ObjectId& from_commit,
                         const ObjectId& to_commit) {
  ObjectId trees[2];
  const ObjectId* commits[2] = {&from_commit, &to_commit};
  for (int side : {kFrom, kTo}) {
    if (commits[side]->IsNull()) continue;  // the empty database
    auto commit = store_->commits()->Load(*commits[side]);
    if (!commit.ok()) {
      return commit.status().WithContext("commit " + commits[side]->ToHex());
    }
    trees[side] = (*commit)->tree;
  }
  for (int side : {kFrom, kTo}) {
    Status s = BtreeReader::Open(store_, trees[side], &readers_[side]);
    if (!s.ok()) {
      return s.WithContext(std::string(side == kFrom ? "from" : "to") +
                           " version");
    }
  }
  std::vector<PageChange> changes;
  LARIX_RETURN_IF_ERROR(store_->trees()->Diff(trees[kFrom], trees[kTo],
                                              &changes));
  changed_.reserve(changes.size());
  for (const PageChange& c : changes) changed_.push_back(c.pgno + 1);
  return Status::OK();
}

void VersionDiff::FillStats(RowDiffStats* stats) const {
  stats->changed_pages = changed_.size();
  stats->pages_read = 0;
  stats->overflow_pages_read = 0;
  for (const auto& r : readers_) {
    if (!r) continue;
    stats->pages_read += r->stats().pages_read;
    stats->overflow_pages_read += r->stats().overflow_pages_read;
  }
  stats->interior_pages = interior_pages_;
  stats->entry_pages_read = entry_pages_read_;
  stats->overflow_owner_pages = overflow_owner_pages_;
  stats->overflow_scan = overflow_scan_;
}

// Finds table `name` in both versions and sets b up to decode its rows.
Status VersionDiff::LoadTable(const std::string& name, Btree* b) {
  b->decode_rows = true;
  for (int side : {kFrom, kTo}) {
    if (readers_[side]->page_count() == 0) continue;  // the empty database
    Status s = readers_[side]->FindTable(name, &b->info[side]);
    if (s.IsNotFound()) continue;
    LARIX_RETURN_IF_ERROR(s);
    b->present[side] = true;
    b->root[side] = b->info[side].root_page;
    b->name = b->info[side].name;
  }
  return Status::OK();
}

Status VersionDiff::Walk(Btree* b) {
  if (b->walked) return Status::OK();
  b->walked = true;
  for (int side : {kFrom, kTo}) {
    if (!b->present[side]) continue;
    BtreeShape& shape = b->shape[side];
    Status s = readers_[side]->WalkBtree(b->root[side], &shape);
    if (!s.ok()) return s.WithContext(b->name);
    if (b->decode_rows) {
      BtreeKind want = b->info[side].without_rowid ? BtreeKind::kIndex
                                                   : BtreeKind::kTable;
      if (shape.kind != want) {
        return Status::Corruption(
            b->name + ": root page " + std::to_string(b->root[side]) +
            " is not the b-tree kind its CREATE TABLE implies");
      }
    }
    b->entries[side] = shape.EntryPages();
    interior_pages_ += shape.interior.size();
    // Every page of the b-tree is a b-tree page in this version: not an
    // overflow page, so explained.
    for (uint32_t p : shape.interior) Explain(p);
    for (uint32_t p : shape.leaves) Explain(p);
  }
  return Status::OK();
}

std::vector<uint32_t> VersionDiff::PagesToRead(const Btree& b, int side) const {
  std::vector<uint32_t> out;
  if (!b.present[side]) return out;
  int other = 1 - side;
  for (uint32_t p : b.entries[side]) {
    if (b.read[side].count(p)) continue;
    bool unchanged = !b.compare_all && b.present[other] && !Changed(p) &&
                     Contains(b.entries[other], p);
    if (!unchanged) out.push_back(p);
  }
  return out;
}

Status VersionDiff::ReadEntryPages(Btree* b, int side,
                                   const std::vector<uint32_t>& pages) {
  BtreeReader* reader = readers_[side].get();
  const TableInfo& info = b->info[side];
  std::vector<BtreeCell> cells;
  std::vector<SqlValue> row;
  for (uint32_t p : pages) {
    if (!b->read[side].insert(p).second) continue;
    entry_pages_read_++;
    Status s = reader->ReadCells(p, b->shape[side].kind, b->decode_rows,
                                 &cells);
    if (!s.ok()) return s.WithContext(b->name);
    for (const BtreeCell& cell : cells) {
      for (uint32_t q : cell.overflow) Explain(q);
      if (!b->decode_rows) continue;
      s = BtreeReader::DecodeRow(info, cell, &row);
      if (!s.ok()) {
        return s.WithContext(b->name + ": page " + std::to_string(p));
      }
      RowKey key;
      if (info.without_rowid) {
        for (int c : info.primary_key) key.primary_key.push_back(row[c]);
      } else {
        key.rowid = cell.rowid;
      }
      auto [it, inserted] = b->rows[side].emplace(std::move(key), row);
      if (!inserted) {
        return Status::Corruption(b->name + ": page " + std::to_string(p) +
                                  ": key " + it->first.ToString() +
                                  " appears twice");
      }
    }
  }
  return Status::OK();
}

Status VersionDiff::ReadChanged(Btree* b) {
  for (int side : {kFrom, kTo}) {
    LARIX_RETURN_IF_ERROR(ReadEntryPages(b, side, PagesToRead(*b, side)));
  }
  return Status::OK();
}

// Reads an unchanged entry page in both versions: an overflow page of one
// of its rows changed.
Status VersionDiff::Force(Btree* b, uint32_t pgno) {
  bool any = false;
  for (int side : {kFrom, kTo}) {
    if (!Contains(b->entries[side], pgno) || b->read[side].count(pgno)) {
      continue;
    }
    any = true;
    LARIX_RETURN_IF_ERROR(ReadEntryPages(b, side, {pgno}));
  }
  if (any) overflow_owner_pages_++;
  return Status::OK();
}

// The rules that explain a changed page without knowing the b-trees: page
// 1 (the schema root), a page absent in one version, a pointer-map page,
// the lock-byte page, and a page whose first byte could not start an
// overflow page (it is the high byte of the next page number, which is at
// most page_count >> 24: b-tree pages start with their type 2, 5, 10, 13).
Status VersionDiff::CheaplyExplained(uint32_t pgno, bool* yes) {
  *yes = true;
  if (pgno == 1) return Status::OK();
  for (const auto& r : readers_) {
    if (pgno > r->page_count() || r->IsPtrmapPage(pgno) ||
        pgno == r->PendingBytePage()) {
      return Status::OK();
    }
  }
  for (const auto& r : readers_) {
    LARIX_ASSIGN_OR_RETURN(BtreeReader::PageRef page, r->Page(pgno));
    if (static_cast<unsigned char>(page.bytes[0]) > (r->page_count() >> 24)) {
      return Status::OK();
    }
  }
  *yes = false;
  return Status::OK();
}

Status VersionDiff::Unresolved(std::vector<uint32_t>* out) {
  out->clear();
  for (uint32_t q : changed_) {
    if (explained_.count(q)) continue;
    bool yes;
    LARIX_RETURN_IF_ERROR(CheaplyExplained(q, &yes));
    if (yes) {
      explained_.insert(q);
    } else {
      out->push_back(q);
    }
  }
  if (out->empty() || freelists_read_) return Status::OK();
  // A free page is not an overflow page.  Trunk pages list ~U/4 free
  // pages each, so this reads few pages even for a large freelist.
  freelists_read_ = true;
  for (const auto& r : readers_) {
    if (r->page_count() == 0) continue;
    std::vector<uint32_t> free;
    LARIX_RETURN_IF_ERROR(r->FreelistPages(&free));
    for (uint32_t p : free) Explain(p);
  }
  out->erase(std::remove_if(out->begin(), out->end(),
                            [&](uint32_t q) { return explained_.count(q); }),
             out->end());
  return Status::OK();
}

// A version with a pointer map (auto_vacuum), the `to` one preferred; -1
// if neither has one.
int VersionDiff::PtrmapSide() const {
  if (readers_[kTo]->auto_vacuum()) return kTo;
  if (readers_[kFrom]->auto_vacuum()) return kFrom;
  return -1;
}

// The b-tree page whose cell starts the overflow chain holding `pgno` in
// version `side`, by the pointer map; 0 if `pgno` is not an overflow page
// there.
Status VersionDiff::OwnerByPtrmap(int side, uint32_t pgno, uint32_t* owner) {
  BtreeReader* r = readers_[side].get();
  *owner = 0;
  uint32_t cur = pgno;
  for (uint32_t steps = 0; steps <= r->page_count(); steps++) {
    uint8_t type;
    uint32_t parent;
    LARIX_RETURN_IF_ERROR(r->ReadPtrmap(cur, &type, &parent));
    if (type == kPtrmapOverflow1) {
      *owner = parent;
      return Status::OK();
    }
    if (type != kPtrmapOverflow2) return Status::OK();
    if (parent < 3 || parent > r->page_count()) {
      return Status::Corruption("pointer map: overflow page " +
                                std::to_string(cur) + " has parent " +
                                std::to_string(parent) + ", out of range");
    }
    cur = parent;
  }
  return Status::Corruption("pointer map: the overflow chain through page " +
                            std::to_string(pgno) + " loops");
}

// Reads every unchanged entry page of `b` (in the `to` version) through
// its overflow chains, and forces the pages whose chains reach a page of
// *pending; those pages leave *pending.
Status VersionDiff::ScanOverflowOwners(Btree* b,
                                       std::unordered_set<uint32_t>* pending) {
  if (!b->present[kTo] || !b->present[kFrom] || b->compare_all) {
    return Status::OK();
  }
  overflow_scan_ = true;
  std::vector<uint32_t> owners;
  std::vector<BtreeCell> cells;
  for (uint32_t p : b->entries[kTo]) {
    if (pending->empty()) break;
    if (b->read[kTo].count(p)) continue;
    Status s = readers_[kTo]->ReadCells(p, b->shape[kTo].kind, false, &cells);
    if (!s.ok()) return s.WithContext(b->name);
    bool owns = false;
    for (const BtreeCell& cell : cells) {
      for (uint32_t q : cell.overflow) {
        if (pending->erase(q)) owns = true;
      }
    }
    if (owns) owners.push_back(p);
  }
  for (uint32_t p : owners) LARIX_RETURN_IF_ERROR(Force(b, p));
  return Status::OK();
}

// Every b-tree named in either version's schema, plus sqlite_schema itself,
// matched by name.  Tables are not set up to decode rows.
Status VersionDiff::CollectBtrees(std::map<std::string, Btree>* out) {
  out->clear();
  for (int side : {kFrom, kTo}) {
    if (readers_[side]->page_count() == 0) continue;
    LARIX_ASSIGN_OR_RETURN(const std::vector<SchemaEntry>* schema,
                           readers_[side]->Schema());
    Btree& s = (*out)["sqlite_schema"];
    s.name = "sqlite_schema";
    s.present[side] = true;
    s.root[side] = 1;
    for (const SchemaEntry& e : *schema) {
      if (e.root_page == 0) continue;
      Btree& b = (*out)[sql::AsciiLower(e.name)];
      b.name = e.name;
      b.present[side] = true;
      b.root[side] = e.root_page;
    }
  }
  return Status::OK();
}

// Step 4 of the header comment for one table: traces every unexplained
// changed page to the unchanged entry page of `target` that owns it, if
// any, and reads that page in both versions.
Status VersionDiff::ResolveOverflow(Btree* target) {
  // The other b-trees, walked (interior pages only) on demand: their pages
  // are then explained by the walk instead of one read per version each.
  std::map<std::string, Btree> others;
  bool others_walked = false;
  auto walk_others = [&]() -> Status {
    if (others_walked) return Status::OK();
    others_walked = true;
    LARIX_RETURN_IF_ERROR(CollectBtrees(&others));
    for (auto& [key, b] : others) {
      if (sql::AsciiLower(b.name) == sql::AsciiLower(target->name)) continue;
      LARIX_RETURN_IF_ERROR(Walk(&b));
    }
    return Status::OK();
  };
  size_t open = 0;
  for (uint32_t q : changed_) open += explained_.count(q) == 0;
  if (open > kClassifyByReadingLimit) LARIX_RETURN_IF_ERROR(walk_others());

  std::vector<uint32_t> pending;
  LARIX_RETURN_IF_ERROR(Unresolved(&pending));
  if (pending.empty()) return Status::OK();
  int side = PtrmapSide();
  if (side >= 0) {
    for (uint32_t q : pending) {
      uint32_t owner;
      LARIX_RETURN_IF_ERROR(OwnerByPtrmap(side, q, &owner));
      if (owner != 0 && Contains(target->entries[side], owner)) {
        LARIX_RETURN_IF_ERROR(Force(target, owner));
      }
      explained_.insert(q);  // not target's, or now read on both sides
    }
    return Status::OK();
  }
  // No pointer map.  First let the other b-trees' changed pages explain
  // what they can (their overflow chains are read, their rows are not);
  // b-trees present in only one version are not read (that would cost
  // their size, and their pages are mostly explained already).
  LARIX_RETURN_IF_ERROR(walk_others());
  for (auto& [key, b] : others) {
    if (sql::AsciiLower(b.name) == sql::AsciiLower(target->name)) continue;
    if (!b.present[kFrom] || !b.present[kTo]) continue;
    LARIX_RETURN_IF_ERROR(ReadChanged(&b));
  }
  LARIX_RETURN_IF_ERROR(Unresolved(&pending));
  if (pending.empty()) return Status::OK();
  // Last resort: the table's own overflow chains, O(table).
  std::unordered_set<uint32_t> set(pending.begin(), pending.end());
  LARIX_RETURN_IF_ERROR(ScanOverflowOwners(target, &set));
  for (uint32_t q : pending) explained_.insert(q);
  return Status::OK();
}

// Streams both versions of a rowid table in rowid order (leaves left to
// right) and emits the differences; memory stays at one leaf per side.
Status VersionDiff::MergeRowidTables(Btree* b, const ColumnMap& map,
                                     const ChangeSink& sink) {
  struct Cursor {
    BtreeReader* reader = nullptr;
    const TableInfo* info = nullptr;
    const std::vector<uint32_t>* leaves = nullptr;
    size_t leaf = 0, cell = 0;
    std::vector<BtreeCell> cells;
    bool valid = false;
    int64_t rowid = 0;
    bool have_previous = false;
    std::vector<SqlValue> row;
    VersionDiff* self = nullptr;

    Status Next() {
      while (leaves && cell >= cells.size() && leaf < leaves->size()) {
        uint32_t p = (*leaves)[leaf++];
        self->entry_pages_read_++;
        LARIX_RETURN_IF_ERROR(
            reader->ReadCells(p, BtreeKind::kTable, true, &cells));
        cell = 0;
      }
      if (!leaves || cell >= cells.size()) {
        valid = false;
        return Status::OK();
      }
      const BtreeCell& c = cells[cell++];
      for (uint32_t q : c.overflow) self->Explain(q);
      if (have_previous && c.rowid <= rowid) {
        return Status::Corruption(info->name + ": rowid " +
                                  std::to_string(c.rowid) +
                                  " is out of order");
      }
      have_previous = true;
      rowid = c.rowid;
      valid = true;
      return BtreeReader::DecodeRow(*info, c, &row);
    }
  };
  Cursor cur[2];
  for (int side : {kFrom, kTo}) {
    cur[side].reader = readers_[side].get();
    cur[side].info = &b->info[side];
    cur[side].self = this;
    if (b->present[side]) cur[side].leaves = &b->shape[side].leaves;
    LARIX_RETURN_IF_ERROR(cur[side].Next());
  }
  std::vector<SqlValue> a, n;
  RowKey key;
  while (cur[kFrom].valid || cur[kTo].valid) {
    bool take_from = cur[kFrom].valid &&
                     (!cur[kTo].valid || cur[kFrom].rowid <= cur[kTo].rowid);
    bool take_to = cur[kTo].valid &&
                   (!cur[kFrom].valid || cur[kTo].rowid <= cur[kFrom].rowid);
    key.rowid = take_from ? cur[kFrom].rowid : cur[kTo].rowid;
    if (take_from) map.Align(kFrom, cur[kFrom].row, &a);
    if (take_to) map.Align(kTo, cur[kTo].row, &n);
    if (take_from && take_to) {
      if (a != n) sink(RowChangeType::kModified, key, &a, &n);
    } else if (take_from) {
      sink(RowChangeType::kRemoved, key, &a, nullptr);
    } else {
      sink(RowChangeType::kAdded, key, nullptr, &n);
    }
    if (take_from) LARIX_RETURN_IF_ERROR(cur[kFrom].Next());
    if (take_to) LARIX_RETURN_IF_ERROR(cur[kTo].Next());
  }
  return Status::OK();
}

// Emits the differences between the row maps of `b` (or, for a rowid
// table compared in full, between the streamed versions).
Status VersionDiff::EmitChanges(Btree* b, const ColumnMap& map,
                                bool key_changed, const ChangeSink& sink) {
  std::vector<SqlValue> a, n;
  if (key_changed) {
    for (auto& [key, row] : b->rows[kFrom]) {
      map.Align(kFrom, row, &a);
      sink(RowChangeType::kRemoved, key, &a, nullptr);
    }
    for (auto& [key, row] : b->rows[kTo]) {
      map.Align(kTo, row, &n);
      sink(RowChangeType::kAdded, key, nullptr, &n);
    }
    return Status::OK();
  }
  auto i = b->rows[kFrom].begin(), ie = b->rows[kFrom].end();
  auto j = b->rows[kTo].begin(), je = b->rows[kTo].end();
  while (i != ie || j != je) {
    int c = i == ie ? 1 : j == je ? -1 : CompareRowKeys(i->first, j->first);
    if (c < 0) {
      map.Align(kFrom, i->second, &a);
      sink(RowChangeType::kRemoved, i->first, &a, nullptr);
      ++i;
    } else if (c > 0) {
      map.Align(kTo, j->second, &n);
      sink(RowChangeType::kAdded, j->first, nullptr, &n);
      ++j;
    } else {
      map.Align(kFrom, i->second, &a);
      map.Align(kTo, j->second, &n);
      if (a != n) sink(RowChangeType::kModified, i->first, &a, &n);
      ++i;
      ++j;
    }
  }
  return Status::OK();
}

Status VersionDiff::DiffTable(const std::string& name,
                              const RowDiffOptions& options,
                              RowDiffResult* out) {
  *out = RowDiffResult();
  Btree table;
  LARIX_RETURN_IF_ERROR(LoadTable(name, &table));
  if (!table.present[kFrom] && !table.present[kTo]) {
    return Status::NotFound("table " + name + " is in neither version");
  }
  out->table = table.name;
  out->in_from = table.present[kFrom];
  out->in_to = table.present[kTo];
  const TableInfo* info[2] = {nullptr, nullptr};
  for (int side : {kFrom, kTo}) {
    if (table.present[side]) info[side] = &table.info[side];
  }
  const TableInfo& latest = info[kTo] ? *info[kTo] : *info[kFrom];
  out->without_rowid = latest.without_rowid;
  out->key_columns = KeyColumns(latest);
  ColumnMap map = MakeColumnMap(info);
  out->columns = map.columns;
  for (int side : {kFrom, kTo}) {
    if (!info[side]) continue;
    auto& names = side == kFrom ? out->from_columns : out->to_columns;
    for (int c : StoredColumns(*info[side])) {
      names.push_back(info[side]->columns[c].name);
    }
  }
  bool both = info[kFrom] && info[kTo];
  if (both) {
    out->key_changed = !SameKey(*info[kFrom], *info[kTo]);
    for (size_t i = 0; i < map.columns.size(); i++) {
      if (map.index[kFrom][i] < 0) out->added_columns.push_back(map.columns[i]);
      if (map.index[kTo][i] < 0) out->dropped_columns.push_back(map.columns[i]);
    }
    bool same_columns = out->from_columns == out->to_columns;
    out->schema_changed = out->key_changed || !same_columns ||
                          !(info[kFrom]->columns == info[kTo]->columns) ||
                          info[kFrom]->without_rowid !=
                              info[kTo]->without_rowid ||
                          info[kFrom]->primary_key != info[kTo]->primary_key;
  }

  RowDiffStats& stats = out->stats;
  if (options.full_scan) {
    stats.full_scan_reason = "requested";
  } else if (!both) {
    stats.full_scan_reason = std::string("table only in the ") +
                             (info[kTo] ? "to" : "from") + " version";
  } else if (!SameStorage(*info[kFrom], *info[kTo])) {
    stats.full_scan_reason =
        "schema changed: a record no longer decodes to the same row";
  }
  table.compare_all = !stats.full_scan_reason.empty();
  stats.full_scan = table.compare_all;

  LARIX_RETURN_IF_ERROR(Walk(&table));
  std::vector<RowChange>& changes = out->changes;
  ChangeSink sink = [&](RowChangeType type, const RowKey& key,
                        const std::vector<SqlValue>* a,
                        const std::vector<SqlValue>* n) {
    RowChange c;
    c.type = type;
    c.key = key;
    if (a) c.old_values = *a;
    if (n) c.new_values = *n;
    changes.push_back(std::move(c));
  };
  bool stream = table.compare_all && !latest.without_rowid &&
                !out->key_changed;
  if (stream) {
    LARIX_RETURN_IF_ERROR(MergeRowidTables(&table, map, sink));
  } else {
    LARIX_RETURN_IF_ERROR(ReadChanged(&table));
    if (!table.compare_all) LARIX_RETURN_IF_ERROR(ResolveOverflow(&table));
    LARIX_RETURN_IF_ERROR(EmitChanges(&table, map, out->key_changed, sink));
  }
  FillStats(&stats);
  return Status::OK();
}

Status VersionDiff::Summarize(std::vector<TableChangeSummary>* out) {
  out->clear();
  std::map<std::string, Btree> btrees;
  LARIX_RETURN_IF_ERROR(CollectBtrees(&btrees));
  // Which entries are user tables (in either version).
  std::unordered_set<std::string> tables;
  for (int side : {kFrom, kTo}) {
    if (readers_[side]->page_count() == 0) continue;
    LARIX_ASSIGN_OR_RETURN(const std::vector<SchemaEntry>* schema,
                           readers_[side]->Schema());
    for (const SchemaEntry& e : *schema) {
      if (e.type == "table" && e.root_page != 0 && !IsInternalName(e.name)) {
        tables.insert(sql::AsciiLower(e.name));
      }
    }
  }
  struct TableState {
    Btree* b;
    TableChangeSummary summary;
    ColumnMap map;
    bool key_changed = false;
    bool streamed = false;  // compared in full by MergeRowidTables
  };
  auto counter = [](TableChangeSummary* sum) -> ChangeSink {
    return [sum](RowChangeType type, const RowKey&,
                 const std::vector<SqlValue>*, const std::vector<SqlValue>*) {
      if (type == RowChangeType::kAdded) sum->rows_added++;
      if (type == RowChangeType::kModified) sum->rows_modified++;
      if (type == RowChangeType::kRemoved) sum->rows_removed++;
    };
  };
  std::vector<TableState> states;
  for (auto& [key, b] : btrees) {
    if (!tables.count(key)) {
      // Indexes, SQLite's tables, the schema: their changed pages are
      // followed through their overflow chains only, to explain pages.
      LARIX_RETURN_IF_ERROR(Walk(&b));
      if (b.present[kFrom] && b.present[kTo]) {
        LARIX_RETURN_IF_ERROR(ReadChanged(&b));
      }
      continue;
    }
    Btree fresh;
    LARIX_RETURN_IF_ERROR(LoadTable(b.name, &fresh));
    b = std::move(fresh);
    TableState st;
    st.b = &b;
    st.summary.table = b.name;
    const TableInfo* info[2] = {nullptr, nullptr};
    for (int side : {kFrom, kTo}) {
      if (b.present[side]) info[side] = &b.info[side];
    }
    st.map = MakeColumnMap(info);
    LARIX_RETURN_IF_ERROR(Walk(&b));
    if (!info[kFrom] || !info[kTo]) {
      // Added or dropped table: count its entries from page headers.
      int side = info[kTo] ? kTo : kFrom;
      (side == kTo ? st.summary.added : st.summary.removed) = true;
      uint64_t n = 0;
      for (uint32_t p : b.entries[side]) {
        LARIX_ASSIGN_OR_RETURN(uint32_t cells, readers_[side]->CellCount(
                                                   p, b.shape[side].kind));
        n += cells;
      }
      (side == kTo ? st.summary.rows_added : st.summary.rows_removed) = n;
      states.push_back(std::move(st));
      continue;
    }
    st.key_changed = !SameKey(*info[kFrom], *info[kTo]);
    st.summary.schema_changed =
        st.key_changed || !(info[kFrom]->columns == info[kTo]->columns) ||
        info[kFrom]->without_rowid != info[kTo]->without_rowid ||
        info[kFrom]->primary_key != info[kTo]->primary_key;
    b.compare_all = !SameStorage(*info[kFrom], *info[kTo]);
    states.push_back(std::move(st));
  }
  // Changed pages of the tables compared page by page; rowid tables whose
  // schema changed are streamed in full instead.
  for (TableState& st : states) {
    Btree& b = *st.b;
    if (!b.present[kFrom] || !b.present[kTo]) continue;
    if (b.compare_all && !b.info[kTo].without_rowid && !st.key_changed) {
      st.streamed = true;
      LARIX_RETURN_IF_ERROR(
          MergeRowidTables(&b, st.map, counter(&st.summary)));
    } else {
      LARIX_RETURN_IF_ERROR(ReadChanged(&b));
    }
  }
  // Overflow pages nothing explains: find their owners.
  std::vector<uint32_t> pending;
  LARIX_RETURN_IF_ERROR(Unresolved(&pending));
  if (!pending.empty()) {
    int side = PtrmapSide();
    if (side >= 0) {
      for (uint32_t q : pending) {
        uint32_t owner;
        LARIX_RETURN_IF_ERROR(OwnerByPtrmap(side, q, &owner));
        for (TableState& st : states) {
          if (owner != 0 && !st.b->compare_all && st.b->present[kFrom] &&
              st.b->present[kTo] && Contains(st.b->entries[side], owner)) {
            LARIX_RETURN_IF_ERROR(Force(st.b, owner));
          }
        }
        explained_.insert(q);
      }
    } else {
      std::unordered_set<uint32_t> set(pending.begin(), pending.end());
      for (TableState& st : states) {
        if (set.empty()) break;
        LARIX_RETURN_IF_ERROR(ScanOverflowOwners(st.b, &set));
      }
      for (uint32_t q : pending) explained_.insert(q);
    }
  }
  for (TableState& st : states) {
    Btree& b = *st.b;
    if (b.present[kFrom] && b.present[kTo] && !st.streamed) {
      LARIX_RETURN_IF_ERROR(
          EmitChanges(&b, st.map, st.key_changed, counter(&st.summary)));
    }
    const TableChangeSummary& s = st.summary;
    if (s.added || s.removed || s.schema_changed || s.rows_added ||
        s.rows_modified || s.rows_removed) {
      out->push_back(s);
    }
  }
  std::sort(out->begin(), out->end(),
            [](const TableChangeSummary& a, const TableChangeSummary& b) {
              return sql::AsciiLower(a.table) < sql::AsciiLower(b.table);
            });
  return Status::OK();
}

}  // namespace

std::string RowKey::ToString() const {
  if (primary_key.empty()) return std::to_string(rowid);
  std::string s = "(";
  for (size_t i = 0; i < primary_key.size(); i++) {
    if (i) s += ", ";
    s += primary_key[i].ToSqlLiteral();
  }
  return s + ")";
}

int CompareRowKeys(const RowKey& a, const RowKey& b) {
  if (a.primary_key.empty() && b.primary_key.empty()) {
    return a.rowid < b.rowid ? -1 : a.rowid > b.rowid ? 1 : 0;
  }
  size_t n = std::min(a.primary_key.size(), b.primary_key.size());
  for (size_t i = 0; i < n; i++) {
    int c = CompareSqlValues(a.primary_key[i], b.primary_key[i]);
    if (c != 0) return c;
  }
  if (a.primary_key.size() != b.primary_key.size()) {
    return a.primary_key.size() < b.primary_key.size() ? -1 : 1;
  }
  return a.rowid < b.rowid ? -1 : a.rowid > b.rowid ? 1 : 0;
}

const char* RowChangeTypeName(RowChangeType type) {
  switch (type) {
    case RowChangeType::kAdded:
      return "added";
    case RowChangeType::kModified:
      return "modified";
    case RowChangeType::kRemoved:
      return "removed";
  }
  return "?";
}

Status DiffTable(Store* store, const ObjectId& from_commit,
                 const ObjectId& to_commit, const std::string& table,
                 RowDiffResult* out, const RowDiffOptions& options) {
  VersionDiff diff(store);
  LARIX_RETURN_IF_ERROR(diff.Open(from_commit, to_commit));
  return diff.DiffTable(table, options, out);
}

Status DiffTables(Store* store, const ObjectId& from_commit,
                  const ObjectId& to_commit,
                  std::vector<TableChangeSummary>* out, RowDiffStats* stats) {
  VersionDiff diff(store);
  LARIX_RETURN_IF_ERROR(diff.Open(from_commit, to_commit));
  LARIX_RETURN_IF_ERROR(diff.Summarize(out));
  if (stats) diff.FillStats(stats);
  return Status::OK();
}

}  // namespace larix
