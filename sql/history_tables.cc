#include "sql/history_tables.h"

#include <map>
#include <memory>

#include "larix/store.h"
#include "objects/commit_graph.h"
#include "refs/ref_name.h"
#include "sql/row_diff.h"
#include "sql/sqlite_values.h"
#include "sql/snapshot_table.h"
#include "sql/time_travel.h"
#include "sql/tokenizer.h"
#include "sql/translate.h"
#include "sql/vfs.h"

namespace larix {
namespace {

enum class Kind { kDiff, kHistory, kBlame };

const char* ModuleName(Kind k) {
  switch (k) {
    case Kind::kDiff: return "larix_rowdiff";
    case Kind::kHistory: return "larix_rowhistory";
    case Kind::kBlame: return "larix_rowblame";
  }
  return "";
}

const char* Prefix(Kind k) {
  switch (k) {
    case Kind::kDiff: return "larix_diff_";
    case Kind::kHistory: return "larix_history_";
    case Kind::kBlame: return "larix_blame_";
  }
  return "";
}

// The names of main.`table`'s columns; empty if there is no such table.
std::vector<std::string> ColumnsOf(sqlite3* db, const std::string& table) {
  std::vector<std::string> names;
  for (const TableColumn& c : TableColumns(db, "main", table)) {
    names.push_back(c.name);
  }
  return names;
}

// A computed result row: values by column index.
using OutRow = std::vector<SqlValue>;

struct HistoryVtab {
  sqlite3_vtab base;
  sqlite3* db;
  Kind kind;
  std::string table;
  std::vector<std::string> columns;  // the table's columns
  int ncols_visible;                  // columns before the hidden ones
};

struct HistoryCursor {
  sqlite3_vtab_cursor base;
  std::vector<OutRow> rows;
  size_t pos = 0;
  std::vector<SqlValue> args;
};

std::string Declaration(Kind kind, const std::vector<std::string>& cols) {
  std::string d = "CREATE TABLE x(";
  switch (kind) {
    case Kind::kDiff:
      d += "diff_type TEXT";
      for (const auto& c : cols) d += ", " + SqlIdentifier("from_" + c);
      for (const auto& c : cols) d += ", " + SqlIdentifier("to_" + c);
      d += ", from_commit TEXT, to_commit TEXT, larix_from HIDDEN, "
           "larix_to HIDDEN)";
      break;
    case Kind::kHistory:
      for (const auto& c : cols) d += SqlIdentifier(c) + ", ";
      d += "system_time TEXT, system_time_end TEXT, commit_id TEXT, "
           "txn INTEGER, system_time_us HIDDEN, system_time_end_us HIDDEN, "
           "larix_branch HIDDEN)";
      break;
    case Kind::kBlame:
      for (const auto& c : cols) d += SqlIdentifier(c) + ", ";
      d += "commit_id TEXT, time TEXT, txn INTEGER, author TEXT, "
           "message TEXT, larix_branch HIDDEN)";
      break;
  }
  return d;
}

int VisibleCount(Kind kind, size_t ncols) {
  switch (kind) {
    case Kind::kDiff: return 1 + 2 * static_cast<int>(ncols) + 2;
    case Kind::kHistory: return static_cast<int>(ncols) + 4 + 2;
    case Kind::kBlame: return static_cast<int>(ncols) + 5;
  }
  return 0;
}

template <Kind K>
int Connect(sqlite3* db, void*, int argc, const char* const* argv,
            sqlite3_vtab** out, char** err) {
  if (argc < 4) {
    *err = sqlite3_mprintf("%s needs the table name", ModuleName(K));
    return SQLITE_ERROR;
  }
  std::string table = argv[3];
  if (table.size() >= 2 && (table[0] == '\'' || table[0] == '"')) {
    table = table.substr(1, table.size() - 2);
  }
  std::vector<std::string> cols = ColumnsOf(db, table);
  if (cols.empty()) {
    *err = sqlite3_mprintf("no such table: %s", table.c_str());
    return SQLITE_ERROR;
  }
  int rc = sqlite3_declare_vtab(db, Declaration(K, cols).c_str());
  if (rc != SQLITE_OK) return rc;
  auto* v = new HistoryVtab();
  v->db = db;
  v->kind = K;
  v->table = table;
  v->columns = std::move(cols);
  v->ncols_visible = VisibleCount(K, v->columns.size());
  *out = &v->base;
  return SQLITE_OK;
}

int Disconnect(sqlite3_vtab* v) {
  delete reinterpret_cast<HistoryVtab*>(v);
  return SQLITE_OK;
}

// Hidden argument columns are those at and after the last two (diff) or
// the last one (history, blame); equality constraints on them become
// arguments in column order.
int BestIndex(sqlite3_vtab* base, sqlite3_index_info* info) {
  auto* v = reinterpret_cast<HistoryVtab*>(base);
  int first_arg = v->ncols_visible;  // the hidden argument columns
  int mask = 0;
  int slots[4] = {-1, -1, -1, -1};
  for (int i = 0; i < info->nConstraint; i++) {
    const auto& c = info->aConstraint[i];
    if (!c.usable || c.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    int arg = c.iColumn - first_arg;
    if (arg < 0 || arg > 3) continue;
    slots[arg] = i;
    mask |= 1 << arg;
  }
  int argv_index = 1;
  for (int a = 0; a < 4; a++) {
    if (slots[a] < 0) continue;
    info->aConstraintUsage[slots[a]].argvIndex = argv_index++;
    info->aConstraintUsage[slots[a]].omit = 1;
  }
  if (v->kind == Kind::kDiff && (mask & 3) != 3) {
    sqlite3_free(base->zErrMsg);
    base->zErrMsg = sqlite3_mprintf("larix_diff needs a table and two revisions: "
                                    "larix_diff('t', 'from', 'to')");
    return SQLITE_CONSTRAINT;
  }
  info->idxNum = mask;
  info->estimatedCost = 1e5;
  return SQLITE_OK;
}

int Open(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  *out = &(new HistoryCursor())->base;
  return SQLITE_OK;
}

int Close(sqlite3_vtab_cursor* c) {
  delete reinterpret_cast<HistoryCursor*>(c);
  return SQLITE_OK;
}

std::string Text(sqlite3_value* v) {
  const unsigned char* t = sqlite3_value_text(v);
  return t ? std::string(reinterpret_cast<const char*>(t)) : "";
}

// A revision as larix_diff takes it: branch, tag, alias, commit prefix, or
// a timestamp on the connection's branch.
Result<ObjectId> ResolveAny(Store* store, const std::string& branch_ref,
                            const std::string& rev) {
  Result<ObjectId> id = store->ResolveRevision(rev);
  if (id.ok() || !ParseTimestamp(rev).ok()) return id;
  return ResolveAsOf(store, branch_ref, AsOfPoint::kTimestamp, rev);
}

SqlValue TextValue(std::string s) { return SqlValue::Text(std::move(s)); }

// Values of `result` (in its union column order) mapped onto `columns`.
std::vector<SqlValue> Project(const std::vector<std::string>& columns,
                              const RowDiffResult& result,
                              const std::vector<SqlValue>& values) {
  std::vector<SqlValue> out(columns.size());
  if (values.empty()) return out;
  for (size_t i = 0; i < columns.size(); i++) {
    for (size_t j = 0; j < result.columns.size() && j < values.size(); j++) {
      if (sql::AsciiLower(result.columns[j]) == sql::AsciiLower(columns[i])) {
        out[i] = values[j];
        break;
      }
    }
  }
  return out;
}

Status FillDiff(HistoryVtab* v, Store* store, const std::string& ref,
                const std::string& from_rev, const std::string& to_rev,
                std::vector<OutRow>* rows) {
  LARIX_ASSIGN_OR_RETURN(ObjectId from, ResolveAny(store, ref, from_rev));
  LARIX_ASSIGN_OR_RETURN(ObjectId to, ResolveAny(store, ref, to_rev));
  RowDiffResult result;
  LARIX_RETURN_IF_ERROR(DiffTable(store, from, to, v->table, &result));
  for (const RowChange& c : result.changes) {
    OutRow row;
    row.push_back(TextValue(RowChangeTypeName(c.type)));
    for (const SqlValue& x : Project(v->columns, result, c.old_values)) {
      row.push_back(x);
    }
    for (const SqlValue& x : Project(v->columns, result, c.new_values)) {
      row.push_back(x);
    }
    row.push_back(TextValue(from.ToHex()));
    row.push_back(TextValue(to.ToHex()));
    rows->push_back(std::move(row));
  }
  return Status::OK();
}

// Walks the branch's first-parent history oldest first and reports row
// versions: fn(values, start commit, end commit or null).
Status WalkVersions(
    HistoryVtab* v, Store* store, const ObjectId& head,
    const std::function<void(const std::vector<SqlValue>&, const ObjectId&,
                             const Commit&, const Commit*)>& fn) {
  std::vector<std::pair<ObjectId, std::shared_ptr<const Commit>>> chain;
  LARIX_RETURN_IF_ERROR(store->commits()->FirstParentLog(
      head, 0, [&](const ObjectId& id, const Commit&) {
        chain.emplace_back(id, nullptr);
        return true;
      }));
  std::reverse(chain.begin(), chain.end());
  for (auto& [id, c] : chain) {
    LARIX_ASSIGN_OR_RETURN(c, store->commits()->Load(id));
  }
  struct Open {
    std::vector<SqlValue> values;
    ObjectId commit;
    std::shared_ptr<const Commit> start;
  };
  std::map<std::string, Open> open;
  ObjectId prev;
  for (const auto& [id, commit] : chain) {
    RowDiffResult result;
    Status s = DiffTable(store, prev, id, v->table, &result);
    prev = id;
    if (s.IsNotFound()) continue;  // the table did not exist on either side
    LARIX_RETURN_IF_ERROR(s);
    for (const RowChange& c : result.changes) {
      std::string key = c.key.ToString();
      auto it = open.find(key);
      if (it != open.end()) {
        fn(it->second.values, it->second.commit, *it->second.start,
           commit.get());
        open.erase(it);
      }
      if (!c.new_values.empty()) {
        open[key] = {Project(v->columns, result, c.new_values), id, commit};
      }
    }
  }
  for (const auto& [key, o] : open) fn(o.values, o.commit, *o.start, nullptr);
  return Status::OK();
}

int Filter(sqlite3_vtab_cursor* cur, int idx_num, const char*, int argc,
           sqlite3_value** argv) {
  auto* c = reinterpret_cast<HistoryCursor*>(cur);
  auto* v = reinterpret_cast<HistoryVtab*>(cur->pVtab);
  c->rows.clear();
  c->pos = 0;
  auto fail = [&](const Status& s) {
    sqlite3_free(cur->pVtab->zErrMsg);
    cur->pVtab->zErrMsg = sqlite3_mprintf("%s", s.message().c_str());
    return SQLITE_ERROR;
  };
  BranchFile* f = GetBranchFile(v->db);
  Engine* engine = f ? BranchFileControl::engine(f) : nullptr;
  if (engine == nullptr) {
    return fail(Status::InvalidArgument("not a connection on a Larix store"));
  }
  Store* store = engine->store();
  Result<BranchHead> head = BranchFileControl::CurrentHead(f);
  if (!head.ok()) return fail(head.status());
  std::string ref = head->ref;
  if (v->kind == Kind::kDiff) {
    Status s = FillDiff(v, store, ref, Text(argv[0]), Text(argv[1]), &c->rows);
    return s.ok() ? SQLITE_OK : fail(s);
  }
  ObjectId tip = head->commit;
  if ((idx_num & 1) && argc > 0) {
    Result<ObjectId> other = store->ResolveRevision(Text(argv[0]));
    if (!other.ok()) return fail(other.status());
    tip = *other;
  }
  Status s = WalkVersions(
      v, store, tip,
      [&](const std::vector<SqlValue>& values, const ObjectId& id,
          const Commit& start, const Commit* end) {
        if (v->kind == Kind::kBlame && end != nullptr) return;
        OutRow row(values.begin(), values.end());
        if (v->kind == Kind::kHistory) {
          row.push_back(TextValue(FormatTimestamp(start.time_us)));
          row.push_back(end ? TextValue(FormatTimestamp(end->time_us))
                            : SqlValue::Null());
          row.push_back(TextValue(id.ToHex()));
          row.push_back(SqlValue::Integer(static_cast<int64_t>(start.txn)));
          row.push_back(SqlValue::Integer(start.time_us));
          row.push_back(end ? SqlValue::Integer(end->time_us) : SqlValue::Null());
        } else {
          row.push_back(TextValue(id.ToHex()));
          row.push_back(TextValue(FormatTimestamp(start.time_us)));
          row.push_back(SqlValue::Integer(static_cast<int64_t>(start.txn)));
          row.push_back(TextValue(start.author));
          row.push_back(TextValue(start.message));
        }
        c->rows.push_back(std::move(row));
      });
  return s.ok() ? SQLITE_OK : fail(s);
}

int Next(sqlite3_vtab_cursor* cur) {
  reinterpret_cast<HistoryCursor*>(cur)->pos++;
  return SQLITE_OK;
}

int Eof(sqlite3_vtab_cursor* cur) {
  auto* c = reinterpret_cast<HistoryCursor*>(cur);
  return c->pos >= c->rows.size();
}

int Column(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int i) {
  auto* c = reinterpret_cast<HistoryCursor*>(cur);
  const OutRow& row = c->rows[c->pos];
  if (i >= static_cast<int>(row.size())) {
    sqlite3_result_null(ctx);
    return SQLITE_OK;
  }
  ResultSqlValue(ctx, row[i]);
  return SQLITE_OK;
}

int Rowid(sqlite3_vtab_cursor* cur, sqlite3_int64* rowid) {
  *rowid = static_cast<sqlite3_int64>(reinterpret_cast<HistoryCursor*>(cur)->pos);
  return SQLITE_OK;
}

template <Kind K>
sqlite3_module MakeModule() {
  sqlite3_module m{};
  m.xCreate = Connect<K>;
  m.xConnect = Connect<K>;
  m.xBestIndex = BestIndex;
  m.xDisconnect = Disconnect;
  m.xDestroy = Disconnect;
  m.xOpen = Open;
  m.xClose = Close;
  m.xFilter = Filter;
  m.xNext = Next;
  m.xEof = Eof;
  m.xColumn = Column;
  m.xRowid = Rowid;
  return m;
}

sqlite3_module kDiffModule = MakeModule<Kind::kDiff>();
sqlite3_module kHistoryModule = MakeModule<Kind::kHistory>();
sqlite3_module kBlameModule = MakeModule<Kind::kBlame>();

// Creates (or re-creates, when the table's columns changed) the per-table
// virtual table of `kind` for `table`; returns its name.
Result<std::string> EnsureTable(sqlite3* db, Kind kind,
                                const std::string& table) {
  std::vector<std::string> cols = ColumnsOf(db, table);
  if (cols.empty()) return Status::NotFound("no such table: " + table);
  std::string name = Prefix(kind) + table;
  std::string want = Declaration(kind, cols);
  // The declaration is remembered in a temp table of our own, so a column
  // change is noticed without inspecting the virtual table.
  std::string check =
      "CREATE TEMP TABLE IF NOT EXISTS larix_vtab_decl(name TEXT PRIMARY KEY, "
      "decl TEXT)";
  sqlite3_exec(db, check.c_str(), nullptr, nullptr, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT decl FROM temp.larix_vtab_decl WHERE name = ?",
                     -1, &stmt, nullptr);
  sqlite3_bind_text(stmt, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  std::string have;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    have = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  if (have == want) return name;
  std::string sql = "DROP TABLE IF EXISTS temp." + SqlIdentifier(name) +
                    "; CREATE VIRTUAL TABLE temp." + SqlIdentifier(name) +
                    " USING " + ModuleName(kind) + "(" + SqlQuote(table) +
                    "); INSERT OR REPLACE INTO temp.larix_vtab_decl VALUES (" +
                    SqlQuote(name) + ", " + SqlQuote(want) + ")";
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "cannot create history table";
    sqlite3_free(err);
    return Status::IOError(msg);
  }
  return name;
}

}  // namespace

int RegisterHistoryModules(sqlite3* db) {
  int rc = sqlite3_create_module(db, "larix_rowdiff", &kDiffModule, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_module(db, "larix_rowhistory", &kHistoryModule, nullptr);
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_create_module(db, "larix_rowblame", &kBlameModule, nullptr);
  }
  return rc;
}

Result<std::vector<sql::SqlEdit>> RewriteHistoryCalls(sqlite3* db,
                                                      std::string_view text) {
  std::vector<sql::SqlEdit> edits;
  std::vector<sql::Token> tokens;
  for (const sql::Token& t : sql::Tokenize(text)) {
    if (t.IsSignificant()) tokens.push_back(t);
  }
  for (size_t i = 0; i + 3 < tokens.size(); i++) {
    const sql::Token& name = tokens[i];
    if (name.kind != sql::TokenKind::kIdentifier) continue;
    std::string n = sql::AsciiLower(std::string(name.text));
    Kind kind;
    if (n == "larix_diff") kind = Kind::kDiff;
    else if (n == "larix_history") kind = Kind::kHistory;
    else if (n == "larix_blame") kind = Kind::kBlame;
    else continue;
    if (i > 0 && tokens[i - 1].IsOperator(".")) continue;  // schema.name
    if (!tokens[i + 1].IsOperator("(") ||
        tokens[i + 2].kind != sql::TokenKind::kString) {
      continue;
    }
    std::string table = tokens[i + 2].value();
    LARIX_ASSIGN_OR_RETURN(std::string vtab, EnsureTable(db, kind, table));
    size_t end = tokens[i + 2].end();
    std::string replacement = "temp." + SqlIdentifier(vtab) + "(";
    if (tokens[i + 3].IsOperator(",")) {
      end = tokens[i + 3].end();
    }
    edits.push_back({{name.offset, end - name.offset}, replacement});
  }
  return edits;
}

Result<std::string> HistoryTableExpr(sqlite3* db,
                                     const sql::TimeTravelRef& ref) {
  LARIX_ASSIGN_OR_RETURN(std::string vtab,
                         EnsureTable(db, Kind::kHistory, ref.table));
  std::string expr = "(SELECT * FROM temp." + SqlIdentifier(vtab);
  auto ts = [](const sql::Value& v) { return "larix_ts(" + SqlValueExpr(v) + ")"; };
  switch (ref.kind) {
    case sql::TimeTravelKind::kSystemTimeAll:
      break;
    case sql::TimeTravelKind::kSystemTimeBetween:
      // SQL:2011: versions that overlap [a, b], b included.
      expr += " WHERE system_time_us <= " + ts(ref.values[1]) +
              " AND (system_time_end_us IS NULL OR system_time_end_us > " +
              ts(ref.values[0]) + ")";
      break;
    case sql::TimeTravelKind::kSystemTimeFromTo:
      // SQL:2011: versions that overlap [a, b), b excluded.
      expr += " WHERE system_time_us < " + ts(ref.values[1]) +
              " AND (system_time_end_us IS NULL OR system_time_end_us > " +
              ts(ref.values[0]) + ")";
      break;
    default:
      return Status::InvalidArgument("not a FOR SYSTEM_TIME range");
  }
  return expr + ")";
}

}  // namespace larix
