#include "sql/snapshot_table.h"

#include <map>
#include <memory>
#include <vector>

#include "larix/database.h"
#include "refs/ref_name.h"
#include "sql/dialect.h"
#include "sql/engine.h"
#include "sql/time_travel.h"
#include "sql/translate.h"
#include "sql/vfs.h"

namespace larix {
namespace {

constexpr char kModule[] = "larix_snapshot";
constexpr char kPrefix[] = "larix_asof_";

bool HasRowid(sqlite3* db, const std::string& table) {
  std::string q = "SELECT rowid FROM main." + SqlIdentifier(table) + " LIMIT 0";
  sqlite3_stmt* stmt = nullptr;
  bool ok = sqlite3_prepare_v2(db, q.c_str(), -1, &stmt, nullptr) == SQLITE_OK;
  sqlite3_finalize(stmt);
  return ok;
}

// One connection on one commit, with its statements by plan.
struct Snapshot {
  sqlite3* db = nullptr;
  std::vector<std::string> select_list;  // per vtab column: expr or NULL
  bool has_rowid = true;
  std::map<std::string, sqlite3_stmt*> statements;  // by idxStr
  ~Snapshot() {
    for (auto& [k, s] : statements) sqlite3_finalize(s);
    sqlite3_close(db);
  }
};

struct SnapshotVtab {
  sqlite3_vtab base;
  sqlite3* db;  // the connection the table lives on
  std::string table;
  std::vector<TableColumn> columns;
  std::map<ObjectId, std::unique_ptr<Snapshot>> snapshots;
};

struct SnapshotCursor {
  sqlite3_vtab_cursor base;
  sqlite3_stmt* stmt = nullptr;  // owned by a Snapshot
  bool eof = true;
  sqlite3_int64 counter = 0;
  std::string kind, value;
};

int SetError(sqlite3_vtab* vtab, const std::string& msg) {
  sqlite3_free(vtab->zErrMsg);
  vtab->zErrMsg = sqlite3_mprintf("%s", msg.c_str());
  return SQLITE_ERROR;
}

int Connect(sqlite3* db, void*, int argc, const char* const* argv,
            sqlite3_vtab** out, char** err) {
  if (argc < 4) {
    *err = sqlite3_mprintf("%s needs the table name", kModule);
    return SQLITE_ERROR;
  }
  std::string table = argv[3];
  if (table.size() >= 2 && (table[0] == '"' || table[0] == '\'')) {
    table = table.substr(1, table.size() - 2);
  }
  std::vector<TableColumn> cols = TableColumns(db, "main", table);
  if (cols.empty()) {
    *err = sqlite3_mprintf("no such table: %s", table.c_str());
    return SQLITE_ERROR;
  }
  std::string decl = "CREATE TABLE x(";
  for (const TableColumn& c : cols) {
    decl += SqlIdentifier(c.name) + " " + c.type + ", ";
  }
  decl += "larix_kind HIDDEN, larix_value HIDDEN)";
  int rc = sqlite3_declare_vtab(db, decl.c_str());
  if (rc != SQLITE_OK) return rc;
  auto* vtab = new SnapshotVtab();
  vtab->db = db;
  vtab->table = table;
  vtab->columns = std::move(cols);
  *out = &vtab->base;
  return SQLITE_OK;
}

int Disconnect(sqlite3_vtab* base) {
  delete reinterpret_cast<SnapshotVtab*>(base);
  return SQLITE_OK;
}

// Plans: the two hidden arguments are required (argv 1 and 2); every usable
// comparison on a real column or the rowid is passed down too.  idxStr
// lists them as "column:op," with column -1 for the rowid.
int BestIndex(sqlite3_vtab* base, sqlite3_index_info* info) {
  auto* vtab = reinterpret_cast<SnapshotVtab*>(base);
  int ncols = static_cast<int>(vtab->columns.size());
  int kind_arg = -1, value_arg = -1;
  std::string plan;
  int next_arg = 3;
  double cost = 1e6;
  for (int i = 0; i < info->nConstraint; i++) {
    const auto& c = info->aConstraint[i];
    if (!c.usable) continue;
    if (c.iColumn == ncols && c.op == SQLITE_INDEX_CONSTRAINT_EQ) {
      kind_arg = i;
    } else if (c.iColumn == ncols + 1 && c.op == SQLITE_INDEX_CONSTRAINT_EQ) {
      value_arg = i;
    } else if (c.iColumn < ncols) {
      const char* op = nullptr;
      switch (c.op) {
        case SQLITE_INDEX_CONSTRAINT_EQ: op = "="; cost /= 100; break;
        case SQLITE_INDEX_CONSTRAINT_GT: op = ">"; cost /= 3; break;
        case SQLITE_INDEX_CONSTRAINT_GE: op = ">="; cost /= 3; break;
        case SQLITE_INDEX_CONSTRAINT_LT: op = "<"; cost /= 3; break;
        case SQLITE_INDEX_CONSTRAINT_LE: op = "<="; cost /= 3; break;
        default: break;
      }
      if (op == nullptr) continue;
      info->aConstraintUsage[i].argvIndex = next_arg++;
      plan += std::to_string(c.iColumn) + ":" + op + ",";
    }
  }
  if (kind_arg < 0 || value_arg < 0) {
    return SetError(base, "larix_asof tables are read with AS OF");
  }
  info->aConstraintUsage[kind_arg].argvIndex = 1;
  info->aConstraintUsage[kind_arg].omit = 1;
  info->aConstraintUsage[value_arg].argvIndex = 2;
  info->aConstraintUsage[value_arg].omit = 1;
  info->idxStr = sqlite3_mprintf("%s", plan.c_str());
  info->needToFreeIdxStr = 1;
  info->estimatedCost = cost;
  return SQLITE_OK;
}

int Open(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  *out = &(new SnapshotCursor())->base;
  return SQLITE_OK;
}

int Close(sqlite3_vtab_cursor* cur) {
  auto* c = reinterpret_cast<SnapshotCursor*>(cur);
  if (c->stmt) sqlite3_reset(c->stmt);
  delete c;
  return SQLITE_OK;
}

// The snapshot connection for `commit`, opened on first use.
Result<Snapshot*> GetSnapshot(SnapshotVtab* vtab, Engine* engine,
                              const ObjectId& commit) {
  auto it = vtab->snapshots.find(commit);
  if (it != vtab->snapshots.end()) return it->second.get();
  auto snap = std::make_unique<Snapshot>();
  OpenOptions options;
  options.read_only = true;
  options.create = false;
  LARIX_RETURN_IF_ERROR(OpenDatabase(
      engine->name() + "@" + kCommitSpecPrefix + commit.ToHex(), options,
      &snap->db));
  std::vector<TableColumn> then = TableColumns(snap->db, "main", vtab->table);
  if (then.empty()) {
    return Status::NotFound("table '" + vtab->table +
                            "' did not exist at commit " +
                            commit.ShortHex());
  }
  for (const TableColumn& c : vtab->columns) {
    bool present = false;
    for (const TableColumn& t : then) {
      present |= sqlite3_stricmp(t.name.c_str(), c.name.c_str()) == 0;
    }
    snap->select_list.push_back(present ? SqlIdentifier(c.name) : "NULL");
  }
  snap->has_rowid = HasRowid(snap->db, vtab->table);
  if (vtab->snapshots.size() >= 8) vtab->snapshots.clear();
  Snapshot* raw = snap.get();
  vtab->snapshots[commit] = std::move(snap);
  return raw;
}

Result<sqlite3_stmt*> PlanStatement(SnapshotVtab* vtab, Snapshot* snap,
                                    const char* idx_str) {
  std::string key = idx_str ? idx_str : "";
  auto it = snap->statements.find(key);
  if (it != snap->statements.end()) {
    sqlite3_reset(it->second);
    sqlite3_clear_bindings(it->second);
    return it->second;
  }
  std::string sql = "SELECT ";
  sql += snap->has_rowid ? "rowid" : "NULL";
  for (const std::string& e : snap->select_list) sql += ", " + e;
  sql += " FROM main." + SqlIdentifier(vtab->table);
  std::string where;
  int arg = 1;
  size_t pos = 0;
  while (pos < key.size()) {
    size_t colon = key.find(':', pos), comma = key.find(',', pos);
    int col = std::stoi(key.substr(pos, colon - pos));
    std::string op = key.substr(colon + 1, comma - colon - 1);
    std::string lhs = col < 0 ? "rowid" : snap->select_list[col];
    where += (where.empty() ? " WHERE " : " AND ") + lhs + " " + op + " ?" +
             std::to_string(arg++);
    pos = comma + 1;
  }
  sql += where;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(snap->db, sql.c_str(), -1, &stmt, nullptr) !=
      SQLITE_OK) {
    return Status::IOError(std::string("reading history: ") +
                           sqlite3_errmsg(snap->db));
  }
  snap->statements[key] = stmt;
  return stmt;
}

int Next(sqlite3_vtab_cursor* cur) {
  auto* c = reinterpret_cast<SnapshotCursor*>(cur);
  int rc = sqlite3_step(c->stmt);
  c->counter++;
  if (rc == SQLITE_ROW) return SQLITE_OK;
  c->eof = true;
  if (rc == SQLITE_DONE) return SQLITE_OK;
  return SetError(cur->pVtab, std::string("reading history: ") +
                                  sqlite3_errmsg(sqlite3_db_handle(c->stmt)));
}

int Filter(sqlite3_vtab_cursor* cur, int, const char* idx_str, int argc,
           sqlite3_value** argv) {
  auto* c = reinterpret_cast<SnapshotCursor*>(cur);
  auto* vtab = reinterpret_cast<SnapshotVtab*>(cur->pVtab);
  if (c->stmt) sqlite3_reset(c->stmt);
  c->stmt = nullptr;
  c->eof = true;
  if (argc < 2 || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    return SetError(cur->pVtab, "AS OF needs a value");
  }
  auto text = [](sqlite3_value* v) {
    const unsigned char* t = sqlite3_value_text(v);
    return t ? std::string(reinterpret_cast<const char*>(t)) : "";
  };
  c->kind = text(argv[0]);
  c->value = text(argv[1]);
  BranchFile* f = GetBranchFile(vtab->db);
  Engine* engine = f ? BranchFileControl::engine(f) : nullptr;
  if (engine == nullptr) {
    return SetError(cur->pVtab, "AS OF needs a connection on a Larix store");
  }
  Result<AsOfPoint> point = ParseAsOfPoint(c->kind);
  if (!point.ok()) return SetError(cur->pVtab, point.status().message());
  Result<BranchHead> head = BranchFileControl::CurrentHead(f);
  if (!head.ok()) return SetError(cur->pVtab, head.status().message());
  std::string ref = head->read_only ? BranchRef(kDefaultBranch) : head->ref;
  Result<ObjectId> commit = ResolveAsOf(engine->store(), ref, *point, c->value);
  if (!commit.ok()) return SetError(cur->pVtab, commit.status().message());
  Result<Snapshot*> snap = GetSnapshot(vtab, engine, *commit);
  if (!snap.ok()) return SetError(cur->pVtab, snap.status().message());
  Result<sqlite3_stmt*> stmt = PlanStatement(vtab, *snap, idx_str);
  if (!stmt.ok()) return SetError(cur->pVtab, stmt.status().message());
  for (int i = 2; i < argc; i++) sqlite3_bind_value(*stmt, i - 1, argv[i]);
  c->stmt = *stmt;
  c->eof = false;
  c->counter = 0;
  return Next(cur);
}

int Eof(sqlite3_vtab_cursor* cur) {
  return reinterpret_cast<SnapshotCursor*>(cur)->eof;
}

int ColumnValue(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int i) {
  auto* c = reinterpret_cast<SnapshotCursor*>(cur);
  auto* vtab = reinterpret_cast<SnapshotVtab*>(cur->pVtab);
  int ncols = static_cast<int>(vtab->columns.size());
  if (i == ncols) {
    sqlite3_result_text(ctx, c->kind.c_str(), -1, SQLITE_TRANSIENT);
  } else if (i == ncols + 1) {
    sqlite3_result_text(ctx, c->value.c_str(), -1, SQLITE_TRANSIENT);
  } else {
    sqlite3_result_value(ctx, sqlite3_column_value(c->stmt, i + 1));
  }
  return SQLITE_OK;
}

int Rowid(sqlite3_vtab_cursor* cur, sqlite3_int64* rowid) {
  auto* c = reinterpret_cast<SnapshotCursor*>(cur);
  *rowid = sqlite3_column_type(c->stmt, 0) == SQLITE_NULL
               ? c->counter
               : sqlite3_column_int64(c->stmt, 0);
  return SQLITE_OK;
}

sqlite3_module kSnapshotModule = {
    /*iVersion=*/0,  Connect, Connect,  BestIndex, Disconnect, Disconnect,
    Open,          Close,   Filter,   Next,      Eof,        ColumnValue,
    Rowid,         nullptr, nullptr,  nullptr,   nullptr,    nullptr,
    nullptr,       nullptr, nullptr,  nullptr,   nullptr,    nullptr,
};

}  // namespace

std::vector<TableColumn> TableColumns(sqlite3* db, const std::string& schema,
                                      const std::string& table) {
  std::vector<TableColumn> cols;
  std::string q = "PRAGMA " + SqlIdentifier(schema) + ".table_info(" +
                  SqlQuote(table) + ")";
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, q.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    return cols;
  }
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    auto text = [&](int i) {
      const unsigned char* t = sqlite3_column_text(stmt, i);
      return t ? std::string(reinterpret_cast<const char*>(t)) : "";
    };
    cols.push_back({text(1), text(2)});
  }
  sqlite3_finalize(stmt);
  return cols;
}

int RegisterSnapshotModule(sqlite3* db) {
  return sqlite3_create_module(db, kModule, &kSnapshotModule, nullptr);
}

Result<std::string> EnsureSnapshotTable(sqlite3* db, const std::string& table) {
  std::vector<TableColumn> now = TableColumns(db, "main", table);
  if (now.empty()) {
    return Status::NotFound("no such table: " + table +
                            " (AS OF reads the past of tables that exist)");
  }
  std::string name = kPrefix + table;
  std::vector<TableColumn> have = TableColumns(db, "temp", name);
  std::vector<TableColumn> want = now;
  want.push_back({"larix_kind", ""});
  want.push_back({"larix_value", ""});
  bool same = have.size() == want.size();
  for (size_t i = 0; same && i < have.size(); i++) {
    same = have[i].name == want[i].name;
  }
  if (!same) {
    std::string sql;
    if (!have.empty()) sql += "DROP TABLE temp." + SqlIdentifier(name) + ";";
    sql += "CREATE VIRTUAL TABLE temp." + SqlIdentifier(name) + " USING " +
           kModule + "(" + SqlQuote(table) + ")";
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "cannot create snapshot table";
      sqlite3_free(err);
      return Status::IOError(msg);
    }
  }
  return name;
}

}  // namespace larix
