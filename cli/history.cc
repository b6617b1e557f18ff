// The verbs show, diff and blame (see commands.h): what changed, row by row.
//
// All three read history through the row-level diff (sql/row_diff.h):
// DiffTables names the tables whose rows changed between two commits and
// counts the changes, DiffTable lists one table's changed rows, both in
// time proportional to the change.  Schema objects (indexes, views,
// triggers, and tables created, dropped or altered) come from the diff of
// sqlite_schema itself.
//
// Output (docs/cli.md):
//
//   table orders: 1 added, 1 modified, 1 removed
//   + id=4: total=40.0, note='new'
//   ~ id=2: total 20.0 -> 25.0
//   - id=3: total=30.0, note=NULL
//
// Values are SQL literals (SqlValue::ToSqlLiteral) with control characters
// escaped, so output can never drive the terminal, and long ones cut
// (kMaxValueChars) with their full size noted.

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "larix/store.h"
#include "objects/commit_graph.h"
#include "sql/row_diff.h"

namespace larix::cli {
namespace {

constexpr size_t kMaxValueChars = 120;

// A value as a SQL literal, safe to print.
std::string Literal(const SqlValue& v) {
  std::string lit = v.ToSqlLiteral();
  std::string out;
  for (unsigned char c : lit) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  if (out.size() > kMaxValueChars) {
    size_t cut = kMaxValueChars;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) {
      cut--;  // not inside a UTF-8 sequence
    }
    out = out.substr(0, cut) + "...(" + std::to_string(v.bytes.size()) +
          " bytes)";
  }
  return out;
}

// "id=42" or "k='a', n=7".
std::string KeyText(const RowDiffResult& r, const RowKey& key) {
  if (key.primary_key.empty()) {
    std::string name = r.key_columns.empty() ? "rowid" : r.key_columns[0];
    return name + "=" + std::to_string(key.rowid);
  }
  std::string out;
  for (size_t i = 0; i < key.primary_key.size(); i++) {
    if (i > 0) out += ", ";
    out += (i < r.key_columns.size() ? r.key_columns[i] : "?") + "=" +
           Literal(key.primary_key[i]);
  }
  return out;
}

bool IsKeyColumn(const RowDiffResult& r, const std::string& column) {
  for (const std::string& k : r.key_columns) {
    if (k == column) return true;
  }
  return false;
}

// "col=value, ..." of the non-key columns of `values`.
std::string ValuesText(const RowDiffResult& r,
                       const std::vector<SqlValue>& values) {
  std::string out;
  for (size_t i = 0; i < values.size() && i < r.columns.size(); i++) {
    if (IsKeyColumn(r, r.columns[i])) continue;
    if (!out.empty()) out += ", ";
    out += r.columns[i] + "=" + Literal(values[i]);
  }
  return out;
}

std::string ChangeLine(const RowDiffResult& r, const RowChange& c) {
  std::string key = KeyText(r, c.key);
  switch (c.type) {
    case RowChangeType::kAdded:
      return "+ " + key + ": " + ValuesText(r, c.new_values);
    case RowChangeType::kRemoved:
      return "- " + key + ": " + ValuesText(r, c.old_values);
    case RowChangeType::kModified: {
      std::string out;
      for (size_t i = 0; i < r.columns.size(); i++) {
        const SqlValue* before =
            i < c.old_values.size() ? &c.old_values[i] : nullptr;
        const SqlValue* after =
            i < c.new_values.size() ? &c.new_values[i] : nullptr;
        if (before && after && *before == *after) continue;
        if (!out.empty()) out += ", ";
        out += r.columns[i] + " " +
               (before ? Literal(*before) : std::string("NULL")) + " -> " +
               (after ? Literal(*after) : std::string("NULL"));
      }
      return "~ " + key + ": " + out;
    }
  }
  return "";
}

std::string Plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string CountsText(const TableChangeSummary& t) {
  return std::to_string(t.rows_added) + " added, " +
         std::to_string(t.rows_modified) + " modified, " +
         std::to_string(t.rows_removed) + " removed";
}

std::string TableHeader(const TableChangeSummary& t) {
  std::string what = t.added     ? " (new)"
                     : t.removed ? " (dropped)"
                     : t.schema_changed ? " (schema changed)"
                                        : "";
  return "table " + t.table + what + ": " + CountsText(t);
}

// The schema objects (sqlite_schema rows) that differ, as lines like
// "+ index idx_name on items".  Changes of rootpage alone (a table moved
// by VACUUM) are not changes of the schema.
Status SchemaLines(Store* store, const ObjectId& from, const ObjectId& to,
                   std::vector<std::string>* out) {
  RowDiffResult r;
  Status s = DiffTable(store, from, to, "sqlite_schema", &r);
  if (s.IsNotFound()) return Status::OK();  // both versions empty
  LARIX_RETURN_IF_ERROR(s);
  auto column = [&](const std::vector<SqlValue>& values,
                    const char* name) -> std::string {
    for (size_t i = 0; i < r.columns.size() && i < values.size(); i++) {
      if (r.columns[i] == name) return values[i].bytes;
    }
    return "";
  };
  for (const RowChange& c : r.changes) {
    const std::vector<SqlValue>& v =
        c.type == RowChangeType::kRemoved ? c.old_values : c.new_values;
    if (c.type == RowChangeType::kModified &&
        column(c.old_values, "sql") == column(c.new_values, "sql") &&
        column(c.old_values, "name") == column(c.new_values, "name")) {
      continue;
    }
    std::string type = column(v, "type");
    std::string name = column(v, "name");
    std::string table = column(v, "tbl_name");
    std::string line = std::string(c.type == RowChangeType::kAdded ? "+ "
                                   : c.type == RowChangeType::kRemoved
                                       ? "- "
                                       : "~ ") +
                       type + " " + name;
    if (type != "table" && !table.empty() && table != name) {
      line += " on " + table;
    }
    out->push_back(line);
  }
  return Status::OK();
}

// Prints the changes between two commits: schema lines, then per table
// either its header (stat) or its header and rows; then a summary.
// `only_table` limits the output to one table.
Status PrintDiff(Store* store, const ObjectId& from, const ObjectId& to,
                 const std::string& only_table, bool stat) {
  std::vector<TableChangeSummary> tables;
  if (only_table.empty()) {
    std::vector<std::string> schema;
    LARIX_RETURN_IF_ERROR(SchemaLines(store, from, to, &schema));
    if (!schema.empty()) {
      std::printf("schema:\n");
      for (const std::string& line : schema) {
        std::printf("  %s\n", line.c_str());
      }
    }
    LARIX_RETURN_IF_ERROR(DiffTables(store, from, to, &tables));
  } else {
    RowDiffResult r;
    LARIX_RETURN_IF_ERROR(DiffTable(store, from, to, only_table, &r));
    TableChangeSummary t;
    t.table = r.table;
    t.added = !r.in_from;
    t.removed = !r.in_to;
    t.schema_changed = r.schema_changed;
    for (const RowChange& c : r.changes) {
      (c.type == RowChangeType::kAdded     ? t.rows_added
       : c.type == RowChangeType::kRemoved ? t.rows_removed
                                           : t.rows_modified)++;
    }
    if (t.rows_added + t.rows_removed + t.rows_modified > 0 ||
        t.schema_changed || t.added || t.removed) {
      tables.push_back(t);
    }
  }
  uint64_t added = 0, modified = 0, removed = 0;
  for (const TableChangeSummary& t : tables) {
    added += t.rows_added;
    modified += t.rows_modified;
    removed += t.rows_removed;
    std::printf("%s\n", TableHeader(t).c_str());
    if (stat) continue;
    RowDiffResult r;
    LARIX_RETURN_IF_ERROR(DiffTable(store, from, to, t.table, &r));
    if (!r.added_columns.empty() || !r.dropped_columns.empty()) {
      std::string cols;
      for (const std::string& c : r.added_columns) cols += " +" + c;
      for (const std::string& c : r.dropped_columns) cols += " -" + c;
      std::printf("  columns:%s\n", cols.c_str());
    }
    if (r.key_changed) {
      std::printf("  (the key changed: rows are shown removed and added)\n");
    }
    for (const RowChange& c : r.changes) {
      std::printf("%s\n", ChangeLine(r, c).c_str());
    }
  }
  if (tables.empty()) {
    std::printf("no row changes\n");
  } else {
    std::printf("%s changed: %s added, %" PRIu64 " modified, %" PRIu64
                " removed\n",
                Plural(tables.size(), "table", "tables").c_str(),
                Plural(added, "row", "rows").c_str(), modified, removed);
  }
  return Status::OK();
}

// The branch STORE@branch names, else HEAD's.
std::string BranchOf(Store* store, const StoreSpec& spec) {
  return spec.branch.empty() ? DefaultBranch(store) : spec.branch;
}

}  // namespace

int RunShow(const ShowArgs& args) {
  StoreSpec spec = ParseStoreSpec(args.store);
  std::unique_ptr<Store> store;
  Status s = OpenStore(spec.path, /*create=*/false, &store);
  if (!s.ok()) return Fail(s);
  std::string rev = args.rev.empty() ? BranchOf(store.get(), spec) : args.rev;
  Result<ObjectId> id = ResolveRev(store.get(), rev);
  if (!id.ok()) return Fail(id.status());
  Result<std::shared_ptr<const Commit>> commit = store->commits()->Load(*id);
  if (!commit.ok()) return Fail(commit.status());
  std::map<ObjectId, std::string> decorations = RefDecorations(store.get());
  auto deco = decorations.find(*id);
  for (const std::string& line :
       CommitLines(*id, **commit, deco == decorations.end() ? "" : deco->second,
                   /*oneline=*/false)) {
    std::printf("%s\n", line.c_str());
  }
  std::printf("\n");
  ObjectId parent;  // null: the empty database before the first commit
  if (!(*commit)->parents.empty()) {
    parent = (*commit)->parents[0];
    if ((*commit)->parents.size() > 1) {
      std::printf("changes against the first parent %s:\n",
                  parent.ShortHex().c_str());
    }
  }
  s = PrintDiff(store.get(), parent, *id, "", /*stat=*/true);
  if (!s.ok()) return Fail(s);
  return kExitOk;
}

int RunDiff(const DiffArgs& args) {
  StoreSpec spec = ParseStoreSpec(args.store);
  std::unique_ptr<Store> store;
  Status s = OpenStore(spec.path, /*create=*/false, &store);
  if (!s.ok()) return Fail(s);
  Result<ObjectId> from = ResolveRev(store.get(), args.from);
  if (!from.ok()) return Fail(from.status());
  std::string to_rev = args.to.empty() ? BranchOf(store.get(), spec) : args.to;
  Result<ObjectId> to = ResolveRev(store.get(), to_rev);
  if (!to.ok()) return Fail(to.status());
  s = PrintDiff(store.get(), *from, *to, args.table, args.stat);
  if (!s.ok()) return Fail(s);
  return kExitOk;
}

int RunBlame(const BlameArgs& args) {
  std::unique_ptr<Store> store;
  std::string rev;
  Status s = OpenStoreAtBranch(args.store, args.branch, &store, &rev);
  if (!s.ok()) return Fail(s);
  Result<ObjectId> head = ResolveRev(store.get(), rev);
  if (!head.ok()) return Fail(head.status());

  // The live rows: everything the head has, as a diff from nothing.
  RowDiffResult live;
  s = DiffTable(store.get(), ObjectId(), *head, args.table, &live);
  if (s.IsNotFound() || (s.ok() && !live.in_to)) {
    return Fail("no such table: " + args.table + " (at " + rev + ")");
  }
  if (!s.ok()) return Fail(s);
  auto less = [](const RowKey& a, const RowKey& b) {
    return CompareRowKeys(a, b) < 0;
  };
  std::map<RowKey, ObjectId, decltype(less)> owner(less);
  std::set<RowKey, decltype(less)> pending(less);
  for (const RowChange& c : live.changes) pending.insert(c.key);

  // Newest first along first parents: a row belongs to the newest commit
  // whose diff against its first parent added or changed it.
  ObjectId at = *head;
  while (!pending.empty() && !at.IsNull()) {
    Result<std::shared_ptr<const Commit>> c = store->commits()->Load(at);
    if (!c.ok()) return Fail(c.status());
    ObjectId parent = (*c)->parents.empty() ? ObjectId() : (*c)->parents[0];
    RowDiffResult r;
    s = DiffTable(store.get(), parent, at, args.table, &r);
    if (!s.ok()) return Fail(s);
    for (const RowChange& ch : r.changes) {
      if (ch.type == RowChangeType::kRemoved) continue;
      auto it = pending.find(ch.key);
      if (it == pending.end()) continue;
      owner.emplace(ch.key, at);
      pending.erase(it);
    }
    at = parent;
  }

  std::map<ObjectId, std::shared_ptr<const Commit>> commits;
  size_t author_width = 0;
  for (const auto& [key, id] : owner) {
    if (commits.count(id)) continue;
    Result<std::shared_ptr<const Commit>> c = store->commits()->Load(id);
    if (!c.ok()) return Fail(c.status());
    commits[id] = *c;
    author_width = std::max(author_width, (*c)->author.size());
  }
  for (const RowChange& row : live.changes) {
    auto it = owner.find(row.key);
    std::string who;
    if (it == owner.end()) {
      who = std::string(12, '?');  // not reached (a cut history)
    } else {
      const Commit& c = *commits[it->second];
      who = it->second.ShortHex() + "  " + FormatTime(c.time_us, false) +
            "  txn " + std::to_string(c.txn) + "  " + c.author +
            std::string(author_width - c.author.size(), ' ');
    }
    std::printf("%s  %s: %s\n", who.c_str(), KeyText(live, row.key).c_str(),
                ValuesText(live, row.new_values).c_str());
  }
  return kExitOk;
}

}  // namespace larix::cli
