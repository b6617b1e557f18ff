// Three-way merge, cherry-pick and revert.  See merge.h for the algorithm.

#include "sql/merge.h"

#include <algorithm>
#include <map>
#include <set>

#include "larix/database.h"
#include "objects/commit_graph.h"
#include "refs/ref_db.h"
#include "refs/ref_name.h"
#include "sql/branches.h"
#include "sql/btree_reader.h"
#include "sql/row_diff.h"
#include "sql/sqlite_values.h"
#include "sql/tokenizer.h"
#include "sql/translate.h"
#include "sql/vfs.h"

namespace larix {
namespace {

using Values = std::map<std::string, SqlValue>;  // column -> value

// ---------------------------------------------------------------------------
// A connection on the target branch holding its writer token.

class MergeConnection {
 public:
  ~MergeConnection() {
    if (db_ != nullptr) {
      if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
      sqlite3_close(db_);
    }
  }

  Status Open(Engine* engine, const std::string& target) {
    LARIX_RETURN_IF_ERROR(
        OpenDatabase(engine->name() + "@" + target, {}, &db_));
    LARIX_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    open_ = true;
    file_ = GetBranchFile(db_);
    LARIX_ASSIGN_OR_RETURN(head_, BranchFileControl::CurrentHead(file_));
    return Status::OK();
  }

  Status Exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::OK();
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    if ((rc & 0xff) == SQLITE_BUSY) return Status::Busy(msg);
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      return Status::InvalidArgument("constraint violated: " + msg);
    }
    return Status::IOError(msg + " (in: " + sql.substr(0, 200) + ")");
  }

  // A cached prepared statement, reset.
  Result<sqlite3_stmt*> Prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      sqlite3_reset(it->second);
      sqlite3_clear_bindings(it->second);
      return it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) !=
        SQLITE_OK) {
      return Status::IOError(std::string(sqlite3_errmsg(db_)) + " (in: " +
                             sql + ")");
    }
    cache_[sql] = stmt;
    return stmt;
  }

  // Steps a statement to completion; constraint failures become
  // InvalidArgument naming the constraint.
  Status Run(sqlite3_stmt* stmt) {
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc == SQLITE_DONE) return Status::OK();
    std::string msg = sqlite3_errmsg(db_);
    sqlite3_reset(stmt);
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      return Status::InvalidArgument("constraint violated: " + msg);
    }
    return Status::IOError(msg);
  }

  Status Commit() {
    open_ = false;
    return Exec("COMMIT");
  }
  Status Rollback() {
    if (!open_) return Status::OK();
    open_ = false;
    return Exec("ROLLBACK");
  }

  sqlite3* db() { return db_; }
  BranchFile* file() { return file_; }
  const BranchHead& head() const { return head_; }

 private:
  sqlite3* db_ = nullptr;
  BranchFile* file_ = nullptr;
  BranchHead head_;
  bool open_ = false;
  std::map<std::string, sqlite3_stmt*> cache_;
};

// ---------------------------------------------------------------------------
// Schema

using Schema = std::map<std::string, SchemaEntry>;  // by lower-case name

bool IsInternal(const std::string& name) {
  return sql::AsciiLower(name).rfind("sqlite_", 0) == 0;
}

Result<Schema> SchemaOf(Store* store, const ObjectId& commit) {
  Schema out;
  if (commit.IsNull()) return out;
  LARIX_ASSIGN_OR_RETURN(auto c, store->commits()->Load(commit));
  if (c->tree.IsNull()) return out;
  std::unique_ptr<BtreeReader> reader;
  LARIX_RETURN_IF_ERROR(BtreeReader::Open(store, c->tree, &reader));
  LARIX_ASSIGN_OR_RETURN(const std::vector<SchemaEntry>* entries,
                         reader->Schema());
  for (const SchemaEntry& e : *entries) {
    if (IsInternal(e.name) || e.sql.empty()) continue;
    out[sql::AsciiLower(e.name)] = e;
  }
  return out;
}

bool SameEntry(const SchemaEntry* a, const SchemaEntry* b) {
  if (a == nullptr || b == nullptr) return a == b;
  return a->type == b->type && a->sql == b->sql;
}

const SchemaEntry* Find(const Schema& s, const std::string& name) {
  auto it = s.find(name);
  return it == s.end() ? nullptr : &it->second;
}

// Column definitions `after` appends to `before` the way ALTER TABLE ADD
// COLUMN rewrites a CREATE TABLE: "CREATE TABLE t(a, b)" ->
// "CREATE TABLE t(a, b, c TEXT)".  NotSupported for any other change.
Result<std::vector<std::string>> AppendedColumns(const std::string& before,
                                                 const std::string& after) {
  size_t p = 0;
  while (p < before.size() && p < after.size() && before[p] == after[p]) p++;
  size_t s = 0;
  while (s < before.size() - p && s < after.size() - p &&
         before[before.size() - 1 - s] == after[after.size() - 1 - s]) {
    s++;
  }
  std::string removed = before.substr(p, before.size() - p - s);
  std::string added = after.substr(p, after.size() - p - s);
  // The common prefix may have eaten part of ", "; back up to the comma.
  while (p > 0 && !added.empty() && removed.empty() && added[0] != ',') {
    p--;
    added = after.substr(p, after.size() - p - s);
  }
  std::vector<std::string> cols;
  if (!removed.empty() || added.empty() || added[0] != ',') {
    return Status::NotSupported("table changed in a way other than adding "
                                "columns");
  }
  // Split at top-level commas, by tokens.
  int depth = 0;
  std::string current;
  const std::string defs = added.substr(1);  // tokens point into it
  for (const sql::Token& t : sql::Tokenize(defs)) {
    std::string_view text = t.text;
    if (text == "(") depth++;
    if (text == ")") depth--;
    if (text == "," && depth == 0) {
      cols.push_back(current);
      current.clear();
      continue;
    }
    if (!current.empty()) current += " ";
    current += std::string(text);
  }
  if (!current.empty()) cols.push_back(current);
  if (cols.empty() || depth != 0) {
    return Status::NotSupported("cannot read the added columns");
  }
  return cols;
}

int Order(const std::string& type) {
  if (type == "table") return 0;
  if (type == "index") return 1;
  if (type == "view") return 2;
  return 3;  // triggers last: their tables and views must exist
}

// Applies theirs' schema changes to the target.  Schema conflicts are
// errors under every policy.
Status MergeSchema(MergeConnection* conn, const Schema& base,
                   const Schema& ours, const Schema& theirs,
                   MergeResult* result) {
  std::set<std::string> names;
  for (const Schema* s : {&base, &ours, &theirs})
    for (const auto& [n, e] : *s) names.insert(n);
  std::vector<std::pair<int, std::string>> statements;  // (order, sql)
  std::vector<std::string> conflicts;
  for (const std::string& name : names) {
    const SchemaEntry* b = Find(base, name);
    const SchemaEntry* o = Find(ours, name);
    const SchemaEntry* t = Find(theirs, name);
    if (SameEntry(b, t) || SameEntry(o, t)) continue;  // theirs: no news
    if (!SameEntry(b, o)) {
      conflicts.push_back(name + " (changed differently on both sides)");
      continue;
    }
    const std::string& type = t ? t->type : b->type;
    const std::string& real = t ? t->name : b->name;
    if (t == nullptr) {
      statements.push_back({-1 - Order(type),
                            "DROP " + std::string(sql::AsciiLower(type) == "table" ? "TABLE"
                                                  : type == "index" ? "INDEX"
                                                  : type == "view"  ? "VIEW"
                                                                    : "TRIGGER") +
                                " IF EXISTS " + SqlIdentifier(real)});
    } else if (b == nullptr) {
      statements.push_back({Order(type), t->sql});
    } else if (type == "table" && b->type == "table") {
      Result<std::vector<std::string>> cols = AppendedColumns(b->sql, t->sql);
      if (!cols.ok()) {
        conflicts.push_back(name + " (" + cols.status().message() + ")");
        continue;
      }
      for (const std::string& c : *cols) {
        statements.push_back({Order(type), "ALTER TABLE " + SqlIdentifier(real) +
                                               " ADD COLUMN " + c});
      }
    } else {
      statements.push_back({-1 - Order(b->type),
                            "DROP " + std::string(b->type == "index" ? "INDEX"
                                                  : b->type == "view" ? "VIEW"
                                                                      : "TRIGGER") +
                                " IF EXISTS " + SqlIdentifier(b->name)});
      statements.push_back({Order(type), t->sql});
    }
  }
  if (!conflicts.empty()) {
    std::string msg = "schema conflict: ";
    for (size_t i = 0; i < conflicts.size(); i++) {
      msg += (i ? "; " : "") + conflicts[i];
    }
    return Status::Conflict(msg);
  }
  std::stable_sort(statements.begin(), statements.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [order, sql] : statements) {
    LARIX_RETURN_IF_ERROR(conn->Exec(sql));
    result->schema_changes.push_back(sql);
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------
// Rows

enum class KeyMode { kRowid, kPrimaryKey, kKeyless };

struct Change {
  RowChangeType type;
  bool has_base = false, has_new = false;
  Values base, now;
  int64_t rowid = 0;
};

struct TablePlan {
  std::string name;
  TableInfo info;  // the target's, after the schema merge
  KeyMode mode;
  std::vector<std::string> key_columns;  // kPrimaryKey
};

Values ToValues(const std::vector<std::string>& columns,
                const std::vector<SqlValue>& values) {
  Values out;
  for (size_t i = 0; i < columns.size() && i < values.size(); i++) {
    out[sql::AsciiLower(columns[i])] = values[i];
  }
  return out;
}

std::string KeyOf(const TablePlan& plan, const Change& c) {
  if (plan.mode == KeyMode::kRowid) return std::to_string(c.rowid);
  const Values& v = c.has_new ? c.now : c.base;
  std::string key = "(";
  for (size_t i = 0; i < plan.key_columns.size(); i++) {
    auto it = v.find(sql::AsciiLower(plan.key_columns[i]));
    key += (i ? ", " : "") +
           (it == v.end() ? std::string("NULL") : it->second.ToSqlLiteral());
  }
  return key + ")";
}

// One side's changes keyed for the merge.  For declared keys on rowid
// tables, a row deleted and re-inserted under a new rowid is one change.
std::map<std::string, Change> Keyed(const TablePlan& plan,
                                    const RowDiffResult& diff) {
  std::map<std::string, Change> out;
  for (const RowChange& rc : diff.changes) {
    Change c;
    c.type = rc.type;
    c.rowid = rc.key.rowid;
    c.has_base = !rc.old_values.empty();
    c.has_new = !rc.new_values.empty();
    c.base = ToValues(diff.columns, rc.old_values);
    c.now = ToValues(diff.columns, rc.new_values);
    std::string key = KeyOf(plan, c);
    auto it = out.find(key);
    if (it == out.end()) {
      out.emplace(key, std::move(c));
      continue;
    }
    // removed + added under one key: a modification.
    Change& prev = it->second;
    if (!prev.has_new && c.has_new) {
      prev.has_new = true;
      prev.now = c.now;
      prev.rowid = c.rowid;
    } else if (!c.has_new && prev.has_new) {
      prev.has_base = true;
      prev.base = c.base;
    }
    prev.type = prev.has_base && prev.has_new ? RowChangeType::kModified
                : prev.has_new               ? RowChangeType::kAdded
                                             : RowChangeType::kRemoved;
  }
  return out;
}

std::string Literal(const Values& v, const std::string& col, bool present) {
  if (!present) return "<absent>";
  auto it = v.find(sql::AsciiLower(col));
  return it == v.end() ? "NULL" : it->second.ToSqlLiteral();
}

class RowApplier {
 public:
  RowApplier(MergeConnection* conn, const TablePlan& plan, MergeResult* result)
      : conn_(conn), plan_(plan), result_(result) {}

  Status Insert(const Values& row) {
    std::string cols, marks;
    std::vector<const SqlValue*> values;
    for (const ColumnInfo& c : plan_.info.columns) {
      if (c.virtual_generated || c.stored_generated) continue;
      auto it = row.find(sql::AsciiLower(c.name));
      if (it == row.end()) continue;
      cols += (cols.empty() ? "" : ", ") + SqlIdentifier(c.name);
      marks += marks.empty() ? "?" : ", ?";
      values.push_back(&it->second);
    }
    std::string sql = "INSERT INTO " + SqlIdentifier(plan_.name) + " (" + cols +
                      ") VALUES (" + marks + ")";
    if (cols.empty()) sql = "INSERT INTO " + SqlIdentifier(plan_.name) +
                            " DEFAULT VALUES";
    LARIX_ASSIGN_OR_RETURN(sqlite3_stmt* stmt, conn_->Prepare(sql));
    for (size_t i = 0; i < values.size(); i++) BindSqlValue(stmt, i + 1, *values[i]);
    LARIX_RETURN_IF_ERROR(conn_->Run(stmt));
    result_->rows_inserted++;
    return Status::OK();
  }

  Status Update(const Change& key_of, const Values& set) {
    if (set.empty()) return Status::OK();
    std::string sql = "UPDATE " + SqlIdentifier(plan_.name) + " SET ";
    std::vector<const SqlValue*> values;
    for (const auto& [col, v] : set) {
      if (plan_.info.FindColumn(col) < 0) continue;
      sql += (values.empty() ? "" : ", ") + SqlIdentifier(col) + " = ?";
      values.push_back(&v);
    }
    if (values.empty()) return Status::OK();
    std::vector<SqlValue> key;
    sql += " WHERE " + KeyCondition(key_of, &key);
    LARIX_ASSIGN_OR_RETURN(sqlite3_stmt* stmt, conn_->Prepare(sql));
    int i = 1;
    for (const SqlValue* v : values) BindSqlValue(stmt, i++, *v);
    for (const SqlValue& k : key) BindSqlValue(stmt, i++, k);
    LARIX_RETURN_IF_ERROR(conn_->Run(stmt));
    result_->rows_updated += sqlite3_changes(conn_->db());
    return Status::OK();
  }

  Status Delete(const Change& key_of) {
    std::vector<SqlValue> key;
    std::string sql = "DELETE FROM " + SqlIdentifier(plan_.name) + " WHERE " +
                      KeyCondition(key_of, &key);
    LARIX_ASSIGN_OR_RETURN(sqlite3_stmt* stmt, conn_->Prepare(sql));
    for (size_t i = 0; i < key.size(); i++) BindSqlValue(stmt, i + 1, key[i]);
    LARIX_RETURN_IF_ERROR(conn_->Run(stmt));
    result_->rows_deleted += sqlite3_changes(conn_->db());
    return Status::OK();
  }

  // Keyless tables: delete one row equal to `row`, if any.
  Status DeleteOneLike(const Values& row) {
    std::string cond;
    std::vector<const SqlValue*> values;
    for (const ColumnInfo& c : plan_.info.columns) {
      if (c.virtual_generated) continue;
      auto it = row.find(sql::AsciiLower(c.name));
      if (it == row.end()) continue;
      cond += (cond.empty() ? "" : " AND ") + SqlIdentifier(c.name) + " IS ?";
      values.push_back(&it->second);
    }
    std::string t = SqlIdentifier(plan_.name);
    std::string sql = "DELETE FROM " + t + " WHERE rowid = (SELECT rowid FROM " +
                      t + (cond.empty() ? "" : " WHERE " + cond) + " LIMIT 1)";
    LARIX_ASSIGN_OR_RETURN(sqlite3_stmt* stmt, conn_->Prepare(sql));
    for (size_t i = 0; i < values.size(); i++) BindSqlValue(stmt, i + 1, *values[i]);
    LARIX_RETURN_IF_ERROR(conn_->Run(stmt));
    result_->rows_deleted += sqlite3_changes(conn_->db());
    return Status::OK();
  }

 private:
  std::string KeyCondition(const Change& c, std::vector<SqlValue>* key) {
    if (plan_.mode == KeyMode::kRowid) {
      key->push_back(SqlValue::Integer(c.rowid));
      return "rowid = ?";
    }
    const Values& v = c.has_base ? c.base : c.now;
    std::string cond;
    for (const std::string& col : plan_.key_columns) {
      auto it = v.find(sql::AsciiLower(col));
      key->push_back(it == v.end() ? SqlValue::Null() : it->second);
      cond += (cond.empty() ? "" : " AND ") + SqlIdentifier(col) + " IS ?";
    }
    return cond;
  }

  MergeConnection* conn_;
  const TablePlan& plan_;
  MergeResult* result_;
};

bool ValueEq(const Values& a, const Values& b, const std::string& col) {
  auto x = a.find(col), y = b.find(col);
  if (x == a.end() || y == b.end()) return (x == a.end()) == (y == b.end());
  return x->second == y->second;
}

Status MergeTableRows(Store* store, MergeConnection* conn,
                      const std::string& table, const ObjectId& base,
                      const ObjectId& ours, const ObjectId& theirs,
                      MergePolicy policy, MergeResult* result) {
  RowDiffResult their_diff, our_diff;
  LARIX_RETURN_IF_ERROR(DiffTable(store, base, theirs, table, &their_diff));
  if (their_diff.changes.empty()) return Status::OK();
  Status s = DiffTable(store, base, ours, table, &our_diff);
  if (s.IsNotFound()) our_diff = RowDiffResult();
  else LARIX_RETURN_IF_ERROR(s);

  TablePlan plan;
  plan.name = table;
  {
    sqlite3_stmt* stmt = nullptr;
    std::string q = "SELECT sql FROM main.sqlite_master WHERE type = 'table' "
                    "AND name = ? COLLATE NOCASE";
    sqlite3_prepare_v2(conn->db(), q.c_str(), -1, &stmt, nullptr);
    sqlite3_bind_text(stmt, 1, table.c_str(), -1, SQLITE_TRANSIENT);
    std::string sql;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0)) {
      sql = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    if (sql.empty()) {
      MergeConflict c;
      c.table = table;
      c.kind = "table dropped here, rows changed there";
      result->conflicts.push_back(c);
      return Status::OK();
    }
    LARIX_RETURN_IF_ERROR(ParseCreateTable(sql, &plan.info));
  }
  if (plan.info.rowid_alias >= 0 && !plan.info.without_rowid) {
    plan.mode = KeyMode::kRowid;
  } else if (!plan.info.primary_key.empty()) {
    plan.mode = KeyMode::kPrimaryKey;
    for (int i : plan.info.primary_key) {
      plan.key_columns.push_back(plan.info.columns[i].name);
    }
  } else {
    plan.mode = KeyMode::kKeyless;
  }
  RowApplier apply(conn, plan, result);

  if (plan.mode == KeyMode::kKeyless) {
    // Multisets: apply theirs' removals and additions; a removal both
    // sides made of equal rows is made once.
    std::multiset<std::string> ours_removed;
    for (const RowChange& rc : our_diff.changes) {
      if (!rc.old_values.empty()) {
        Values v = ToValues(our_diff.columns, rc.old_values);
        std::string k;
        for (auto& [c, x] : v) k += c + "=" + x.ToSqlLiteral() + ";";
        ours_removed.insert(k);
      }
    }
    for (const RowChange& rc : their_diff.changes) {
      if (!rc.old_values.empty()) {
        Values v = ToValues(their_diff.columns, rc.old_values);
        std::string k;
        for (auto& [c, x] : v) k += c + "=" + x.ToSqlLiteral() + ";";
        auto it = ours_removed.find(k);
        if (it != ours_removed.end()) {
          ours_removed.erase(it);
        } else {
          LARIX_RETURN_IF_ERROR(apply.DeleteOneLike(v));
        }
      }
      if (!rc.new_values.empty()) {
        LARIX_RETURN_IF_ERROR(apply.Insert(ToValues(their_diff.columns,
                                                    rc.new_values)));
      }
    }
    return Status::OK();
  }

  std::map<std::string, Change> theirs_by_key = Keyed(plan, their_diff);
  std::map<std::string, Change> ours_by_key = Keyed(plan, our_diff);
  auto conflict = [&](const std::string& key, const std::string& column,
                      const std::string& kind, const Change& t,
                      const Change* o) {
    MergeConflict c;
    c.table = table;
    c.key = key;
    c.column = column;
    c.kind = kind;
    if (t.has_base) c.base_row = t.base;
    if (o && o->has_new) c.our_row = o->now;
    if (t.has_new) c.their_row = t.now;
    if (column.empty()) {
      c.base = t.has_base ? "<row>" : "<absent>";
      c.ours = o && o->has_new ? "<row>" : "<absent>";
      c.theirs = t.has_new ? "<row>" : "<absent>";
    } else {
      c.base = Literal(t.base, column, t.has_base);
      c.ours = o ? Literal(o->now, column, o->has_new) : "";
      c.theirs = Literal(t.now, column, t.has_new);
    }
    result->conflicts.push_back(std::move(c));
  };
  bool theirs_win = policy == MergePolicy::kBranchWins;
  for (const auto& [key, t] : theirs_by_key) {
    auto oit = ours_by_key.find(key);
    if (oit == ours_by_key.end()) {
      // Only theirs touched the row.
      if (!t.has_new) {
        LARIX_RETURN_IF_ERROR(apply.Delete(t));
      } else if (!t.has_base) {
        LARIX_RETURN_IF_ERROR(apply.Insert(t.now));
      } else {
        Values set;
        for (const auto& [col, v] : t.now) {
          if (!ValueEq(t.now, t.base, col)) set[col] = v;
        }
        LARIX_RETURN_IF_ERROR(apply.Update(t, set));
      }
      continue;
    }
    const Change& o = oit->second;
    if (!t.has_new && !o.has_new) continue;  // both deleted it
    if (!t.has_new) {  // deleted there, changed here
      conflict(key, "", "deleted there, changed here", t, &o);
      if (theirs_win) LARIX_RETURN_IF_ERROR(apply.Delete(o));
      continue;
    }
    if (!o.has_new) {  // changed there, deleted here
      conflict(key, "", "changed there, deleted here", t, &o);
      if (theirs_win) LARIX_RETURN_IF_ERROR(apply.Insert(t.now));
      continue;
    }
    // Both sides have the row: cell by cell.
    Values set;
    for (const auto& [col, v] : t.now) {
      bool theirs_changed = !t.has_base || !ValueEq(t.now, t.base, col);
      if (!theirs_changed || ValueEq(t.now, o.now, col)) continue;
      bool ours_changed = !o.has_base || !ValueEq(o.now, o.base, col);
      if (!ours_changed) {
        set[col] = v;
      } else {
        conflict(key, col, "changed on both sides", t, &o);
        if (theirs_win) set[col] = v;
      }
    }
    LARIX_RETURN_IF_ERROR(apply.Update(o, set));
  }
  return Status::OK();
}

// AUTOINCREMENT counters: the larger of the two sides.
Status MergeSequences(Store* store, MergeConnection* conn,
                      const ObjectId& base, const ObjectId& theirs) {
  RowDiffResult diff;
  Status s = DiffTable(store, base, theirs, "sqlite_sequence", &diff);
  if (s.IsNotFound()) return Status::OK();
  LARIX_RETURN_IF_ERROR(s);
  for (const RowChange& rc : diff.changes) {
    if (rc.new_values.empty()) continue;
    Values v = ToValues(diff.columns, rc.new_values);
    LARIX_ASSIGN_OR_RETURN(
        sqlite3_stmt* up,
        conn->Prepare("UPDATE sqlite_sequence SET seq = max(seq, ?1) "
                      "WHERE name = ?2"));
    BindSqlValue(up, 1, v["seq"]);
    BindSqlValue(up, 2, v["name"]);
    LARIX_RETURN_IF_ERROR(conn->Run(up));
    if (sqlite3_changes(conn->db()) == 0) {
      LARIX_ASSIGN_OR_RETURN(
          sqlite3_stmt* ins,
          conn->Prepare("INSERT INTO sqlite_sequence(name, seq) VALUES (?2, ?1)"));
      BindSqlValue(ins, 1, v["seq"]);
      BindSqlValue(ins, 2, v["name"]);
      LARIX_RETURN_IF_ERROR(conn->Run(ins));
    }
  }
  return Status::OK();
}

std::string DescribeConflicts(const std::vector<MergeConflict>& conflicts) {
  std::string msg = std::to_string(conflicts.size()) + " conflict" +
                    (conflicts.size() == 1 ? "" : "s") + ": ";
  for (size_t i = 0; i < conflicts.size() && i < 20; i++) {
    const MergeConflict& c = conflicts[i];
    msg += (i ? "; " : "") + c.table + (c.key.empty() ? "" : " key " + c.key) +
           (c.column.empty() ? "" : " column " + c.column) + " (" + c.kind;
    if (!c.base.empty() || !c.ours.empty()) {
      msg += ": base " + c.base + ", ours " + c.ours + ", theirs " + c.theirs;
    }
    msg += ")";
  }
  if (conflicts.size() > 20) msg += "; …";
  return msg;
}

// larix_conflicts and one larix_conflicts_<table> per table with conflicts
// (see merge.h), on the merge's connection.
Status WriteConflictTables(MergeConnection* conn,
                           const std::vector<MergeConflict>& conflicts) {
  std::map<std::string, std::vector<const MergeConflict*>> by_table;
  for (const MergeConflict& c : conflicts) by_table[c.table].push_back(&c);
  LARIX_RETURN_IF_ERROR(conn->Exec(
      "CREATE TABLE larix_conflicts(table_name TEXT PRIMARY KEY, "
      "num_conflicts INTEGER)"));
  for (const auto& [table, list] : by_table) {
    // One row per conflicting key; its conflicts (columns) joined.
    std::map<std::string, std::vector<const MergeConflict*>> by_key;
    for (const MergeConflict* c : list) by_key[c->key].push_back(c);
    std::vector<std::string> columns;
    for (const MergeConflict* c : list) {
      for (const auto* row : {&c->base_row, &c->our_row, &c->their_row}) {
        for (const auto& [col, v] : *row) {
          if (std::find(columns.begin(), columns.end(), col) == columns.end()) {
            columns.push_back(col);
          }
        }
      }
    }
    std::string name = "larix_conflicts_" + table;
    std::string create = "CREATE TABLE " + SqlIdentifier(name) +
                         "(key TEXT PRIMARY KEY, conflict TEXT";
    for (const char* side : {"base_", "our_", "their_"}) {
      for (const std::string& col : columns) {
        create += ", " + SqlIdentifier(side + col);
      }
    }
    LARIX_RETURN_IF_ERROR(conn->Exec(create + ")"));
    std::string insert = "INSERT INTO " + SqlIdentifier(name) + " VALUES (?, ?";
    for (size_t i = 0; i < 3 * columns.size(); i++) insert += ", ?";
    LARIX_ASSIGN_OR_RETURN(sqlite3_stmt* stmt, conn->Prepare(insert + ")"));
    for (const auto& [key, cs] : by_key) {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
      std::string kinds;
      for (const MergeConflict* c : cs) {
        kinds += (kinds.empty() ? "" : "; ") + c->kind +
                 (c->column.empty() ? "" : " (" + c->column + ")");
      }
      sqlite3_bind_text(stmt, 1, key.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(stmt, 2, kinds.c_str(), -1, SQLITE_TRANSIENT);
      int i = 3;
      for (const auto* row : {&cs[0]->base_row, &cs[0]->our_row,
                              &cs[0]->their_row}) {
        for (const std::string& col : columns) {
          auto it = row->find(col);
          if (it == row->end()) {
            sqlite3_bind_null(stmt, i++);
          } else {
            BindSqlValue(stmt, i++, it->second);
          }
        }
      }
      LARIX_RETURN_IF_ERROR(conn->Run(stmt));
    }
    LARIX_ASSIGN_OR_RETURN(
        sqlite3_stmt* count,
        conn->Prepare("INSERT INTO larix_conflicts VALUES (?, ?)"));
    sqlite3_bind_text(count, 1, table.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(count, 2, static_cast<int64_t>(by_key.size()));
    LARIX_RETURN_IF_ERROR(conn->Run(count));
  }
  return Status::OK();
}

// The core: applies the change from `base` to `theirs` onto the target
// branch `conn` is on (at conn->head()), and commits it with
// `extra_parents`.
Status ApplyThreeWay(Engine* engine, MergeConnection* conn,
                     const ObjectId& base, const ObjectId& theirs,
                     std::vector<ObjectId> extra_parents, MergePolicy policy,
                     const std::string& message, MergeResult* result) {
  Store* store = engine->store();
  const ObjectId ours = conn->head().commit;
  LARIX_ASSIGN_OR_RETURN(Schema base_schema, SchemaOf(store, base));
  LARIX_ASSIGN_OR_RETURN(Schema our_schema, SchemaOf(store, ours));
  LARIX_ASSIGN_OR_RETURN(Schema their_schema, SchemaOf(store, theirs));

  // Triggers of the target must not fire for merged rows: theirs' side
  // already ran its own.  They are dropped for the transaction and
  // re-created before it commits.
  std::vector<std::string> triggers;
  for (const auto& [name, e] : our_schema) {
    if (e.type == "trigger") {
      triggers.push_back(e.sql);
      LARIX_RETURN_IF_ERROR(conn->Exec("DROP TRIGGER " + SqlIdentifier(e.name)));
    }
  }
  LARIX_RETURN_IF_ERROR(
      MergeSchema(conn, base_schema, our_schema, their_schema, result));
  for (const auto& [name, e] : their_schema) {
    if (e.type != "table") continue;
    LARIX_RETURN_IF_ERROR(MergeTableRows(store, conn, e.name, base, ours,
                                         theirs, policy, result));
  }
  LARIX_RETURN_IF_ERROR(MergeSequences(store, conn, base, theirs));
  for (const std::string& sql : triggers) {
    // A trigger theirs dropped stays dropped.
    Status s = conn->Exec(sql);
    if (!s.ok() && s.message().find("already exists") == std::string::npos) {
      (void)s;  // its table is gone: the trigger goes with it
    }
  }
  if (!result->conflicts.empty() && policy == MergePolicy::kFail) {
    return Status::Conflict(DescribeConflicts(result->conflicts));
  }
  if (!result->conflicts.empty() && policy == MergePolicy::kManual) {
    LARIX_RETURN_IF_ERROR(WriteConflictTables(conn, result->conflicts));
    extra_parents.clear();  // the merge commit comes with ContinueMerge
  }
  // Foreign keys are not enforced while applying (rows arrive in any
  // order); check them all now.
  {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(conn->db(), "PRAGMA foreign_key_check", -1, &stmt,
                       nullptr);
    std::string violations;
    int n = 0;
    while (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
      if (n++ < 10) {
        violations += (violations.empty() ? "" : "; ") +
                      std::string(reinterpret_cast<const char*>(
                          sqlite3_column_text(stmt, 0))) +
                      " rowid " + std::to_string(sqlite3_column_int64(stmt, 1)) +
                      " -> " +
                      reinterpret_cast<const char*>(sqlite3_column_text(stmt, 2));
      }
    }
    sqlite3_finalize(stmt);
    if (n > 0) {
      return Status::InvalidArgument(
          "merge would violate " + std::to_string(n) +
          " foreign key constraint" + (n == 1 ? "" : "s") + ": " + violations);
    }
  }
  BranchFileControl::SetExtraParents(conn->file(), extra_parents);
  BranchFileControl::SetCommitInfo(conn->file(), "", message);
  LARIX_RETURN_IF_ERROR(conn->Commit());
  LARIX_ASSIGN_OR_RETURN(BranchHead after,
                         engine->ReadHead(conn->head().ref));
  if (after.commit == ours && !extra_parents.empty()) {
    // Nothing changed in the data, but the history must record the merge
    // (so merging again is a no-op): a commit with the same tree.
    CommitRequest req;
    req.ref = conn->head().ref;
    req.expected_head = ours;
    req.base_tree = conn->head().tree;
    req.extra_parents = extra_parents;
    req.message = message;
    LARIX_ASSIGN_OR_RETURN(CommitResult r, store->CommitPages(req));
    result->commit = r.commit;
  } else {
    result->commit = after.commit;
  }
  result->kind = MergeResult::Kind::kMerged;
  return Status::OK();
}

}  // namespace

Result<MergePolicy> ParseMergePolicy(const std::string& name) {
  std::string n = sql::AsciiLower(name);
  if (n == "fail" || n.empty()) return MergePolicy::kFail;
  if (n == "branch_wins" || n == "theirs") return MergePolicy::kBranchWins;
  if (n == "target_wins" || n == "ours") return MergePolicy::kTargetWins;
  if (n == "manual") return MergePolicy::kManual;
  return Status::InvalidArgument(
      "unknown conflict_resolution '" + name +
      "' (use branch_wins, target_wins, fail or manual)");
}

// Busy if a manual merge into `target` is in progress: until it is
// continued or aborted, nothing else may commit to the target.
Status CheckNoMergeInProgress(Engine* engine, const std::string& target) {
  LARIX_ASSIGN_OR_RETURN(std::string ref, engine->ResolveBranchRef(target));
  std::string short_name(ShortRefName(ref));
  if (engine->store()->refs()->Read(kMergingPrefix + short_name).ok()) {
    return Status::Busy("a merge into '" + short_name +
                        "' is in progress: continue it with "
                        "larix_merge_continue() or abort it with "
                        "larix_merge_abort()");
  }
  return Status::OK();
}

Status MergeBranch(Engine* engine, const std::string& source,
                   const std::string& target, MergePolicy policy,
                   MergeResult* result) {
  *result = MergeResult();
  Store* store = engine->store();
  LARIX_RETURN_IF_ERROR(CheckNoMergeInProgress(engine, target));
  LARIX_ASSIGN_OR_RETURN(BranchHead src, engine->ReadHead(source));
  if (src.read_only) {
    return Status::InvalidArgument("'" + source + "' is not a branch");
  }
  MergeConnection conn;
  LARIX_RETURN_IF_ERROR(conn.Open(engine, target));
  const ObjectId ours = conn.head().commit;
  LARIX_ASSIGN_OR_RETURN(bool merged,
                         store->commits()->IsAncestor(src.commit, ours));
  if (merged) {
    result->kind = MergeResult::Kind::kUpToDate;
    result->commit = ours;
    return conn.Rollback();
  }
  LARIX_ASSIGN_OR_RETURN(bool ff, store->commits()->IsAncestor(ours, src.commit));
  if (ff) {
    // Move the ref while this connection holds the target's writer token.
    RefTransaction tx;
    tx.Update(conn.head().ref, ours, src.commit,
              "merge " + source + ": fast-forward");
    LARIX_RETURN_IF_ERROR(store->UpdateRefs(tx));
    result->kind = MergeResult::Kind::kFastForward;
    result->commit = src.commit;
    return conn.Rollback();
  }
  LARIX_ASSIGN_OR_RETURN(ObjectId base,
                         store->commits()->MergeBase(ours, src.commit));
  std::string message = "Merge branch '" + source + "' into '" + target + "'";
  if (policy != MergePolicy::kManual) {
    return ApplyThreeWay(engine, &conn, base, src.commit, {src.commit}, policy,
                         message, result);
  }
  // A manual merge works on refs/merging/<target>, which starts at the
  // target's head; the source is kept at refs/merge-sources/<target>.
  LARIX_RETURN_IF_ERROR(conn.Rollback());
  std::string short_name(ShortRefName(conn.head().ref));
  if (!IsBranchRef(conn.head().ref)) {
    return Status::Busy("a merge into '" + short_name + "' is in progress");
  }
  RefTransaction start;
  start.Update(kMergingPrefix + short_name, ObjectId(), ours,
               "merge " + source + ": started");
  start.Update(kMergeSourcePrefix + short_name, ObjectId(), src.commit,
               "merge " + source + ": source");
  Status s = store->UpdateRefs(start);
  if (s.IsConflict()) {
    return Status::Busy("a merge into '" + short_name + "' is in progress");
  }
  LARIX_RETURN_IF_ERROR(s);
  MergeConnection work;
  LARIX_RETURN_IF_ERROR(work.Open(engine, target));
  s = ApplyThreeWay(engine, &work, base, src.commit, {src.commit}, policy,
                    message + " (in progress)", result);
  if (!s.ok()) {
    // The attempt is thrown away; its failure is what the caller needs.
    (void)work.Rollback();
    (void)AbortMerge(engine, target);
    return s;
  }
  if (result->conflicts.empty()) return ContinueMerge(engine, target, result);
  return Status::OK();
}

Status ContinueMerge(Engine* engine, const std::string& target,
                     MergeResult* result) {
  *result = MergeResult();
  Store* store = engine->store();
  LARIX_ASSIGN_OR_RETURN(std::string ref, engine->ResolveBranchRef(target));
  std::string short_name(ShortRefName(ref));
  std::string merging = kMergingPrefix + short_name;
  std::string source_ref = kMergeSourcePrefix + short_name;
  Result<ObjectId> source = store->refs()->Resolve(source_ref);
  if (!source.ok()) {
    return Status::NotFound("no merge into '" + short_name + "' is in progress");
  }
  {
    MergeConnection conn;
    LARIX_RETURN_IF_ERROR(conn.Open(engine, target));
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(conn.db(),
                       "SELECT name FROM sqlite_master WHERE type = 'table' "
                       "AND name LIKE 'larix!_conflicts!_%' ESCAPE '!'",
                       -1, &stmt, nullptr);
    std::vector<std::string> tables;
    while (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
      tables.push_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    }
    sqlite3_finalize(stmt);
    std::string remaining;
    for (const std::string& t : tables) {
      sqlite3_stmt* count = nullptr;
      std::string q = "SELECT count(*) FROM " + SqlIdentifier(t);
      sqlite3_prepare_v2(conn.db(), q.c_str(), -1, &count, nullptr);
      int64_t n = count && sqlite3_step(count) == SQLITE_ROW
                      ? sqlite3_column_int64(count, 0)
                      : 0;
      sqlite3_finalize(count);
      if (n > 0) {
        remaining += (remaining.empty() ? "" : ", ") + std::to_string(n) +
                     " in " + t;
      }
    }
    if (!remaining.empty()) {
      return Status::Conflict("conflicts remain (" + remaining +
                              "): resolve each and delete its row, then "
                              "continue the merge");
    }
    for (const std::string& t : tables) {
      LARIX_RETURN_IF_ERROR(conn.Exec("DROP TABLE " + SqlIdentifier(t)));
    }
    LARIX_RETURN_IF_ERROR(conn.Exec("DROP TABLE IF EXISTS larix_conflicts"));
    LARIX_RETURN_IF_ERROR(conn.Commit());
  }
  LARIX_ASSIGN_OR_RETURN(ObjectId state, store->refs()->Resolve(merging));
  LARIX_ASSIGN_OR_RETURN(ObjectId head, store->refs()->Resolve(ref));
  LARIX_ASSIGN_OR_RETURN(auto state_commit, store->commits()->Load(state));
  CommitRequest req;
  req.ref = ref;
  req.expected_head = head;
  req.tree = state_commit->tree;
  req.extra_parents = {*source};
  req.delete_refs = {merging, source_ref};
  req.message = "Merge into '" + short_name + "' (conflicts resolved)";
  LARIX_ASSIGN_OR_RETURN(CommitResult r, store->CommitPages(req));
  result->kind = MergeResult::Kind::kMerged;
  result->commit = r.commit;
  return Status::OK();
}

Status AbortMerge(Engine* engine, const std::string& target) {
  LARIX_ASSIGN_OR_RETURN(std::string ref, engine->ResolveBranchRef(target));
  std::string short_name(ShortRefName(ref));
  if (!engine->store()->refs()->Read(kMergingPrefix + short_name).ok()) {
    return Status::NotFound("no merge into '" + short_name + "' is in progress");
  }
  RefTransaction tx;
  tx.Delete(kMergingPrefix + short_name, std::nullopt, "merge aborted");
  tx.Delete(kMergeSourcePrefix + short_name, std::nullopt, "merge aborted");
  return engine->store()->UpdateRefs(tx);
}

namespace {

Status PickOrRevert(Engine* engine, const std::string& target,
                    const std::string& rev, MergePolicy policy, bool revert,
                    MergeResult* result) {
  *result = MergeResult();
  Store* store = engine->store();
  LARIX_RETURN_IF_ERROR(CheckNoMergeInProgress(engine, target));
  LARIX_ASSIGN_OR_RETURN(ObjectId commit, store->ResolveRevision(rev));
  LARIX_ASSIGN_OR_RETURN(auto c, store->commits()->Load(commit));
  ObjectId parent = c->parents.empty() ? ObjectId() : c->parents[0];
  MergeConnection conn;
  LARIX_RETURN_IF_ERROR(conn.Open(engine, target));
  std::string first_line = c->message.substr(0, c->message.find('\n'));
  if (revert) {
    return ApplyThreeWay(engine, &conn, commit, parent, {}, policy,
                         "Revert " + commit.ShortHex() + ": " + first_line,
                         result);
  }
  return ApplyThreeWay(engine, &conn, parent, commit, {}, policy,
                       "Cherry-pick " + commit.ShortHex() + ": " + first_line,
                       result);
}

}  // namespace

Status CherryPick(Engine* engine, const std::string& target,
                  const std::string& rev, MergePolicy policy,
                  MergeResult* result) {
  return PickOrRevert(engine, target, rev, policy, false, result);
}

Status Revert(Engine* engine, const std::string& target,
              const std::string& rev, MergePolicy policy,
              MergeResult* result) {
  return PickOrRevert(engine, target, rev, policy, true, result);
}

// The SQL functions larix_merge_continue / larix_merge_abort.
Status MergeContinueSql(Engine* engine, const std::string& target,
                        bool abort) {
  if (abort) return AbortMerge(engine, target);
  MergeResult result;
  return ContinueMerge(engine, target, &result);
}

// The SQL functions larix_cherry_pick / larix_revert (sql/functions.cc).
Status CherryPickSql(Engine* engine, const std::string& target,
                     const std::string& rev, const std::string& policy_name,
                     bool revert) {
  LARIX_ASSIGN_OR_RETURN(MergePolicy policy, ParseMergePolicy(policy_name));
  MergeResult result;
  return revert ? Revert(engine, target, rev, policy, &result)
                : CherryPick(engine, target, rev, policy, &result);
}

// The SQL function larix_merge_branch (sql/functions.cc) calls this.
Status MergeBranches(Engine* engine, sqlite3*, const std::string& source,
                     const std::string& target, const std::string& policy_name,
                     bool delete_after) {
  LARIX_ASSIGN_OR_RETURN(MergePolicy policy, ParseMergePolicy(policy_name));
  MergeResult result;
  LARIX_RETURN_IF_ERROR(MergeBranch(engine, source, target, policy, &result));
  if (delete_after) return DropBranch(engine, source, /*if_exists=*/false);
  return Status::OK();
}

}  // namespace larix
