// Larix's SQL functions and eponymous virtual tables, registered on every
// connection (sql/connection.cc).  TranslateStatement (sql/translate.cc)
// rewrites Larix's statements into calls of these; they can also be called
// directly.  Each function's errors are SQL errors with Larix's message.
//
//   larix_create_branch(name, from|NULL, kind, value, options, if_not_exists)
//   larix_drop_branch(name, if_exists)      larix_rename_branch(old, new)
//   larix_reset_branch(name, rev)           larix_use_branch(name)
//   larix_set_alias(alias, branch, create)  larix_drop_alias(alias, if_exists)
//   larix_create_tag(name, branch|NULL, kind, value, if_not_exists)
//   larix_drop_tag(name, if_exists)
//   larix_merge_branch(source, target, policy, delete_after)
//   larix_cherry_pick(rev, policy|NULL)     larix_revert(rev, policy|NULL)
//   larix_merge_continue(branch|NULL)       larix_merge_abort(branch|NULL)
//   larix_set_retention(seconds)            larix_retention() -> seconds
//   larix_hashof(rev) -> commit id          current_branch() -> name
//   larix_translate(sql) -> sql             larix_parameter_origin(sql) -> text
//
//   pg_database_branches() / larix_branches, larix_log[(branch)], larix_tags

#include <sqlite3.h>

#include <functional>
#include <string>
#include <vector>

#include "objects/commit_graph.h"
#include "refs/ref_db.h"
#include "refs/ref_name.h"
#include "sql/branches.h"
#include "sql/history_tables.h"
#include "sql/snapshot_table.h"
#include "sql/time_travel.h"
#include "sql/translate.h"
#include "sql/vfs.h"

namespace larix {

// sql/merge.cc.
Status MergeBranches(Engine* engine, sqlite3* db, const std::string& source,
                     const std::string& target, const std::string& policy,
                     bool delete_after);

// sql/merge.cc.
Status MergeContinueSql(Engine* engine, const std::string& target, bool abort);
Status CherryPickSql(Engine* engine, const std::string& target,
                     const std::string& rev, const std::string& policy,
                     bool revert);

namespace {

std::string Text(sqlite3_value* v) {
  const unsigned char* t = sqlite3_value_text(v);
  return t ? std::string(reinterpret_cast<const char*>(t)) : "";
}

bool IsNull(sqlite3_value* v) { return sqlite3_value_type(v) == SQLITE_NULL; }

// The connection's Larix file, or an error result.
BranchFile* FileOf(sqlite3_context* ctx) {
  BranchFile* f = GetBranchFile(sqlite3_context_db_handle(ctx));
  if (f == nullptr || BranchFileControl::engine(f) == nullptr) {
    sqlite3_result_error(ctx,
                         "this connection is not on a Larix store (or the "
                         "store is held by another process)",
                         -1);
    return nullptr;
  }
  return f;
}

void Finish(sqlite3_context* ctx, const Status& s) {
  if (s.ok()) {
    sqlite3_result_null(ctx);
    return;
  }
  sqlite3_result_error(ctx, s.message().c_str(), -1);
  if (s.IsBusy()) sqlite3_result_error_code(ctx, SQLITE_BUSY);
}

// Wraps a Status-returning body as a SQL function of `n` arguments.
using Body = std::function<Status(sqlite3_context*, BranchFile*,
                                  sqlite3_value**)>;

void RunBody(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto* body = static_cast<Body*>(sqlite3_user_data(ctx));
  BranchFile* f = FileOf(ctx);
  if (f == nullptr) return;
  Finish(ctx, (*body)(ctx, f, argv));
}

std::vector<std::pair<std::string, std::string>> ParseOptions(
    const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl - pos);
    size_t eq = line.find('=');
    if (eq != std::string::npos) {
      out.emplace_back(line.substr(0, eq), line.substr(eq + 1));
    }
    pos = nl == std::string::npos ? text.size() : nl + 1;
  }
  return out;
}

Result<AsOfPoint> PointArg(sqlite3_value* v) {
  return IsNull(v) ? Result<AsOfPoint>(AsOfPoint::kNow)
                   : ParseAsOfPoint(Text(v));
}

const std::vector<std::pair<const char*, std::pair<int, Body>>>& Bodies() {
  static const auto* bodies =
      new std::vector<std::pair<const char*, std::pair<int, Body>>>{
          {"larix_create_branch",
           {6,
            [](sqlite3_context*, BranchFile* f, sqlite3_value** a) -> Status {
              LARIX_ASSIGN_OR_RETURN(AsOfPoint point, PointArg(a[2]));
              return CreateBranch(BranchFileControl::engine(f), Text(a[0]),
                                  IsNull(a[1]) ? "" : Text(a[1]),
                                  BranchFileControl::branch(f), point,
                                  Text(a[3]), ParseOptions(Text(a[4])),
                                  sqlite3_value_int(a[5]) != 0);
            }}},
          {"larix_drop_branch",
           {2,
            [](sqlite3_context*, BranchFile* f, sqlite3_value** a) {
              return DropBranch(BranchFileControl::engine(f), Text(a[0]),
                                sqlite3_value_int(a[1]) != 0);
            }}},
          {"larix_rename_branch",
           {2,
            [](sqlite3_context*, BranchFile* f, sqlite3_value** a) {
              return RenameBranch(BranchFileControl::engine(f), Text(a[0]),
                                  Text(a[1]));
            }}},
          {"larix_reset_branch",
           {2,
            [](sqlite3_context*, BranchFile* f, sqlite3_value** a) {
              return ResetBranch(BranchFileControl::engine(f), Text(a[0]),
                                 Text(a[1]));
            }}},
          {"larix_use_branch",
           {1,
            [](sqlite3_context*, BranchFile* f, sqlite3_value** a) {
              return BranchFileControl::SwitchBranch(f, Text(a[0]));
            }}},
          {"larix_set_alias",
           {3,
            [](sqlite3_context*, BranchFile* f, sqlite3_value** a) {
              return SetBranchAlias(BranchFileControl::engine(f), Text(a[0]),
                                    Text(a[1]), sqlite3_value_int(a[2]) != 0);
            }}},
          {"larix_drop_alias",
           {2,
            [](sqlite3_context*, BranchFile* f, sqlite3_value** a) {
              return DropBranchAlias(BranchFileControl::engine(f), Text(a[0]),
                                     sqlite3_value_int(a[1]) != 0);
            }}},
          {"larix_create_tag",
           {5,
            [](sqlite3_context*, BranchFile* f, sqlite3_value** a) -> Status {
              LARIX_ASSIGN_OR_RETURN(AsOfPoint point, PointArg(a[2]));
              return CreateTagAt(BranchFileControl::engine(f), Text(a[0]),
                                 IsNull(a[1]) ? BranchFileControl::branch(f)
                                              : Text(a[1]),
                                 point, Text(a[3]),
                                 sqlite3_value_int(a[4]) != 0);
            }}},
          {"larix_drop_tag",
           {2,
            [](sqlite3_context*, BranchFile* f, sqlite3_value** a) {
              return DropTag(BranchFileControl::engine(f), Text(a[0]),
                             sqlite3_value_int(a[1]) != 0);
            }}},
          {"larix_set_retention",
           {1,
            [](sqlite3_context*, BranchFile* f, sqlite3_value** a) {
              // Seconds of history to keep (GC) and to allow AS OF into.
              return BranchFileControl::engine(f)->store()->SetHistoryRetention(
                  static_cast<int64_t>(sqlite3_value_double(a[0]) * 1e6));
            }}},
          {"larix_cherry_pick",
           {2,
            [](sqlite3_context*, BranchFile* f, sqlite3_value** a) {
              return CherryPickSql(BranchFileControl::engine(f),
                                   BranchFileControl::branch(f), Text(a[0]),
                                   IsNull(a[1]) ? "fail" : Text(a[1]), false);
            }}},
          {"larix_revert",
           {2,
            [](sqlite3_context*, BranchFile* f, sqlite3_value** a) {
              return CherryPickSql(BranchFileControl::engine(f),
                                   BranchFileControl::branch(f), Text(a[0]),
                                   IsNull(a[1]) ? "fail" : Text(a[1]), true);
            }}},
          {"larix_merge_continue",
           {1,
            [](sqlite3_context*, BranchFile* f, sqlite3_value** a) {
              return MergeContinueSql(BranchFileControl::engine(f),
                                      IsNull(a[0]) ? BranchFileControl::branch(f)
                                                   : Text(a[0]),
                                      false);
            }}},
          {"larix_merge_abort",
           {1,
            [](sqlite3_context*, BranchFile* f, sqlite3_value** a) {
              return MergeContinueSql(BranchFileControl::engine(f),
                                      IsNull(a[0]) ? BranchFileControl::branch(f)
                                                   : Text(a[0]),
                                      true);
            }}},
          {"larix_merge_branch",
           {4,
            [](sqlite3_context* ctx, BranchFile* f, sqlite3_value** a) {
              return MergeBranches(BranchFileControl::engine(f),
                                   sqlite3_context_db_handle(ctx), Text(a[0]),
                                   Text(a[1]), Text(a[2]),
                                   sqlite3_value_int(a[3]) != 0);
            }}},
      };
  return *bodies;
}

void CurrentBranchFunc(sqlite3_context* ctx, int, sqlite3_value**) {
  BranchFile* f = GetBranchFile(sqlite3_context_db_handle(ctx));
  if (f == nullptr) {
    sqlite3_result_null(ctx);
    return;
  }
  const std::string& b = BranchFileControl::branch(f);
  sqlite3_result_text(ctx, b.data(), static_cast<int>(b.size()),
                      SQLITE_TRANSIENT);
}

// larix_error_detail(): the reason Larix recorded for the connection's
// last I/O, corruption, full-disk or open error in its current or last
// transaction (the text ErrorMessage appends), or NULL.  A statement that
// reads no table starts no transaction, so `SELECT larix_error_detail()`
// right after a failed statement still sees that statement's reason; the
// Python package appends it to the sqlite3 exception's message.
void ErrorDetailFunc(sqlite3_context* ctx, int, sqlite3_value**) {
  BranchFile* f = GetBranchFile(sqlite3_context_db_handle(ctx));
  std::string detail = f == nullptr ? "" : BranchFileControl::LastError(f);
  if (detail.empty()) {
    sqlite3_result_null(ctx);
    return;
  }
  sqlite3_result_text(ctx, detail.data(), static_cast<int>(detail.size()),
                      SQLITE_TRANSIENT);
}

void HashOfFunc(sqlite3_context* ctx, int, sqlite3_value** argv) {
  BranchFile* f = FileOf(ctx);
  if (f == nullptr) return;
  Engine* engine = BranchFileControl::engine(f);
  std::string rev = IsNull(argv[0]) ? BranchFileControl::branch(f)
                                    : Text(argv[0]);
  Result<ObjectId> id = engine->store()->ResolveRevision(rev);
  if (!id.ok()) {
    Finish(ctx, id.status());
    return;
  }
  sqlite3_result_text(ctx, id->ToHex().c_str(), -1, SQLITE_TRANSIENT);
}

void RetentionFunc(sqlite3_context* ctx, int, sqlite3_value**) {
  BranchFile* f = FileOf(ctx);
  if (f == nullptr) return;
  sqlite3_result_double(
      ctx, BranchFileControl::engine(f)->store()->history_retention_us() / 1e6);
}

// larix_ts(x): a timestamp (text, as AS OF TIMESTAMP takes it) as
// microseconds since the epoch; integers pass through.
void TimestampFunc(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_INTEGER) {
    sqlite3_result_int64(ctx, sqlite3_value_int64(argv[0]));
    return;
  }
  if (IsNull(argv[0])) {
    sqlite3_result_null(ctx);
    return;
  }
  Result<int64_t> t = ParseTimestamp(Text(argv[0]));
  if (!t.ok()) {
    Finish(ctx, t.status());
    return;
  }
  sqlite3_result_int64(ctx, *t);
}

void TranslateFunc(sqlite3_context* ctx, int, sqlite3_value** argv) {
  Result<Translation> t =
      TranslateStatement(sqlite3_context_db_handle(ctx), Text(argv[0]));
  if (!t.ok()) {
    Finish(ctx, t.status());
    return;
  }
  sqlite3_result_text(ctx, t->sql.c_str(), static_cast<int>(t->sql.size()),
                      SQLITE_TRANSIENT);
}

void ParameterOriginFunc(sqlite3_context* ctx, int, sqlite3_value** argv) {
  Result<Translation> t =
      TranslateStatement(sqlite3_context_db_handle(ctx), Text(argv[0]));
  if (!t.ok()) {
    Finish(ctx, t.status());
    return;
  }
  if (t->parameter_origin.empty()) {
    sqlite3_result_null(ctx);
    return;
  }
  std::string out;
  for (int n : t->parameter_origin) {
    if (!out.empty()) out += ",";
    out += std::to_string(n);
  }
  sqlite3_result_text(ctx, out.c_str(), -1, SQLITE_TRANSIENT);
}

// --- Eponymous system tables ----------------------------------------------
//
// Each is materialised into rows of text/integer values when a scan
// starts: they list refs and commits, which are few or walked lazily by
// the caller's LIMIT.

using Row = std::vector<std::pair<int, std::string>>;  // (sqlite type, text)

struct TableDef {
  const char* schema;  // CREATE TABLE x(...)
  int hidden_args;     // trailing HIDDEN columns usable as arguments
  std::function<Status(BranchFile*, sqlite3_value**, int,
                       std::vector<Row>*)>
      fill;
};

struct SysVtab {
  sqlite3_vtab base;
  sqlite3* db;
  const TableDef* def;
};

struct SysCursor {
  sqlite3_vtab_cursor base;
  std::vector<Row> rows;
  size_t pos = 0;
};

int SysConnect(sqlite3* db, void* aux, int, const char* const*,
               sqlite3_vtab** out, char**) {
  auto* def = static_cast<const TableDef*>(aux);
  int rc = sqlite3_declare_vtab(db, def->schema);
  if (rc != SQLITE_OK) return rc;
  auto* v = new SysVtab();
  v->db = db;
  v->def = def;
  *out = &v->base;
  return SQLITE_OK;
}

int SysDisconnect(sqlite3_vtab* v) {
  delete reinterpret_cast<SysVtab*>(v);
  return SQLITE_OK;
}

int SysBestIndex(sqlite3_vtab* base, sqlite3_index_info* info) {
  auto* v = reinterpret_cast<SysVtab*>(base);
  int hidden = v->def->hidden_args;
  // Count visible columns from the schema: hidden ones are the last.
  int ncols = 0;
  for (const char* p = v->def->schema; *p; p++) ncols += *p == ',';
  ncols += 1;
  int first_hidden = ncols - hidden;
  int used = 0;
  for (int i = 0; i < info->nConstraint; i++) {
    const auto& c = info->aConstraint[i];
    if (!c.usable || c.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (c.iColumn >= first_hidden) {
      info->aConstraintUsage[i].argvIndex = c.iColumn - first_hidden + 1;
      info->aConstraintUsage[i].omit = 1;
      used |= 1 << (c.iColumn - first_hidden);
    }
  }
  info->idxNum = used;
  info->estimatedCost = 1000;
  return SQLITE_OK;
}

int SysOpen(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  *out = &(new SysCursor())->base;
  return SQLITE_OK;
}

int SysClose(sqlite3_vtab_cursor* c) {
  delete reinterpret_cast<SysCursor*>(c);
  return SQLITE_OK;
}

int SysFilter(sqlite3_vtab_cursor* cur, int idx_num, const char*, int argc,
              sqlite3_value** argv) {
  auto* c = reinterpret_cast<SysCursor*>(cur);
  auto* v = reinterpret_cast<SysVtab*>(cur->pVtab);
  c->rows.clear();
  c->pos = 0;
  BranchFile* f = GetBranchFile(v->db);
  if (f == nullptr || BranchFileControl::engine(f) == nullptr) {
    sqlite3_free(cur->pVtab->zErrMsg);
    cur->pVtab->zErrMsg =
        sqlite3_mprintf("this connection is not on a Larix store");
    return SQLITE_ERROR;
  }
  Status s = v->def->fill(f, argv, argc, &c->rows);
  if (!s.ok()) {
    sqlite3_free(cur->pVtab->zErrMsg);
    cur->pVtab->zErrMsg = sqlite3_mprintf("%s", s.message().c_str());
    return SQLITE_ERROR;
  }
  (void)idx_num;
  return SQLITE_OK;
}

int SysNext(sqlite3_vtab_cursor* cur) {
  reinterpret_cast<SysCursor*>(cur)->pos++;
  return SQLITE_OK;
}

int SysEof(sqlite3_vtab_cursor* cur) {
  auto* c = reinterpret_cast<SysCursor*>(cur);
  return c->pos >= c->rows.size();
}

int SysColumn(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int i) {
  auto* c = reinterpret_cast<SysCursor*>(cur);
  const Row& row = c->rows[c->pos];
  if (i >= static_cast<int>(row.size())) {
    sqlite3_result_null(ctx);
    return SQLITE_OK;
  }
  const auto& [type, text] = row[i];
  switch (type) {
    case SQLITE_INTEGER:
      sqlite3_result_int64(ctx, std::stoll(text));
      break;
    case SQLITE_NULL:
      sqlite3_result_null(ctx);
      break;
    default:
      sqlite3_result_text(ctx, text.c_str(), static_cast<int>(text.size()),
                          SQLITE_TRANSIENT);
  }
  return SQLITE_OK;
}

int SysRowid(sqlite3_vtab_cursor* cur, sqlite3_int64* rowid) {
  *rowid = static_cast<sqlite3_int64>(reinterpret_cast<SysCursor*>(cur)->pos);
  return SQLITE_OK;
}

sqlite3_module kSysModule = {
    0,       nullptr, SysConnect, SysBestIndex, SysDisconnect, nullptr,
    SysOpen, SysClose, SysFilter, SysNext,      SysEof,        SysColumn,
    SysRowid, nullptr, nullptr,   nullptr,      nullptr,       nullptr,
    nullptr, nullptr, nullptr,    nullptr,      nullptr,       nullptr,
};

std::pair<int, std::string> Txt(std::string s) { return {SQLITE_TEXT, std::move(s)}; }
std::pair<int, std::string> Int(int64_t v) {
  return {SQLITE_INTEGER, std::to_string(v)};
}
std::pair<int, std::string> Null() { return {SQLITE_NULL, ""}; }

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

Status FillBranches(BranchFile* f, sqlite3_value**, int, std::vector<Row>* rows) {
  std::vector<BranchInfo> branches;
  LARIX_RETURN_IF_ERROR(ListBranches(BranchFileControl::engine(f), &branches));
  for (const BranchInfo& b : branches) {
    std::string props = "{";
    for (const auto& [k, v] : b.properties) {
      if (props.size() > 1) props += ",";
      props += JsonString(k) + ":" + JsonString(v);
    }
    props += "}";
    rows->push_back({Txt(b.name),
                     b.parent.empty() ? Null() : Txt(b.parent),
                     b.head.IsNull() ? Null() : Txt(b.head.ToHex()),
                     b.created_at_us ? Txt(FormatTimestamp(b.created_at_us))
                                     : Null(),
                     Int(static_cast<int64_t>(b.size_bytes)),
                     Txt(b.name == BranchFileControl::branch(f) ? "current"
                                                                : "active"),
                     Txt(props), Txt(b.kind),
                     b.alias_target.empty() ? Null() : Txt(b.alias_target),
                     Int(static_cast<int64_t>(b.head_txn))});
  }
  return Status::OK();
}

Status FillLog(BranchFile* f, sqlite3_value** argv, int argc,
               std::vector<Row>* rows) {
  Engine* engine = BranchFileControl::engine(f);
  std::string branch = argc > 0 && !IsNull(argv[0])
                           ? Text(argv[0])
                           : BranchFileControl::branch(f);
  LARIX_ASSIGN_OR_RETURN(ObjectId head, engine->store()->ResolveRevision(branch));
  return engine->store()->commits()->FirstParentLog(
      head, 0, [&](const ObjectId& id, const Commit& c) {
        std::string parents;
        for (const ObjectId& p : c.parents) {
          if (!parents.empty()) parents += " ";
          parents += p.ToHex();
        }
        rows->push_back({Txt(id.ToHex()), Txt(parents),
                         Txt(FormatTimestamp(c.time_us)),
                         Int(static_cast<int64_t>(c.txn)), Txt(c.author),
                         Txt(c.message), Txt(branch)});
        return true;
      });
}

Status FillTags(BranchFile* f, sqlite3_value**, int, std::vector<Row>* rows) {
  std::vector<TagInfo> tags;
  LARIX_RETURN_IF_ERROR(ListTags(BranchFileControl::engine(f), &tags));
  for (const TagInfo& t : tags) {
    rows->push_back({Txt(t.name), Txt(t.commit.ToHex()), Txt(t.tagger),
                     t.time_us ? Txt(FormatTimestamp(t.time_us)) : Null(),
                     Txt(t.message)});
  }
  return Status::OK();
}

constexpr char kBranchesSchema[] =
    "CREATE TABLE x(branch_name TEXT, parent_branch TEXT, head TEXT, "
    "created_at TEXT, size_bytes INTEGER, status TEXT, properties TEXT, "
    "kind TEXT, alias_of TEXT, head_txn INTEGER)";

const TableDef kBranchesTable{kBranchesSchema, 0, FillBranches};
const TableDef kLogTable{
    "CREATE TABLE x(commit_id TEXT, parents TEXT, time TEXT, txn INTEGER, "
    "author TEXT, message TEXT, branch HIDDEN)",
    1, FillLog};
const TableDef kTagsTable{
    "CREATE TABLE x(tag_name TEXT, commit_id TEXT, tagger TEXT, time TEXT, "
    "message TEXT)",
    0, FillTags};

}  // namespace

int RegisterSqlFunctions(sqlite3* db) {
  int rc = SQLITE_OK;
  for (const auto& [name, entry] : Bodies()) {
    rc = sqlite3_create_function_v2(
        db, name, entry.first, SQLITE_UTF8 | SQLITE_DIRECTONLY,
        const_cast<Body*>(&entry.second), RunBody, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return rc;
  }
  struct Simple {
    const char* name;
    int nargs;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  for (const Simple& s : {Simple{"current_branch", 0, CurrentBranchFunc},
                          Simple{"larix_error_detail", 0, ErrorDetailFunc},
                          Simple{"larix_hashof", 1, HashOfFunc},
                          Simple{"larix_retention", 0, RetentionFunc},
                          Simple{"larix_ts", 1, TimestampFunc},
                          Simple{"larix_translate", 1, TranslateFunc},
                          Simple{"larix_parameter_origin", 1,
                                 ParameterOriginFunc}}) {
    rc = sqlite3_create_function_v2(db, s.name, s.nargs, SQLITE_UTF8, nullptr,
                                    s.fn, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return rc;
  }
  for (const auto& [name, def] :
       {std::pair{"pg_database_branches", &kBranchesTable},
        std::pair{"larix_branches", &kBranchesTable},
        std::pair{"larix_log", &kLogTable},
        std::pair{"larix_tags", &kTagsTable}}) {
    rc = sqlite3_create_module(db, name, &kSysModule,
                               const_cast<TableDef*>(def));
    if (rc != SQLITE_OK) return rc;
  }
  rc = RegisterSnapshotModule(db);
  if (rc != SQLITE_OK) return rc;
  return RegisterHistoryModules(db);
}

}  // namespace larix
