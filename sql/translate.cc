#include "sql/translate.h"

#include <variant>

#include "sql/dialect.h"
#include "sql/tokenizer.h"
#include "sql/history_tables.h"
#include "sql/snapshot_table.h"
#include "sql/vfs.h"

namespace larix {
namespace {

using sql::Value;

std::string ValueExpr(const Value& v) { return SqlValueExpr(v); }

}  // namespace

std::string SqlValueExpr(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kParameter:
      if (!v.text.empty() && v.text[0] != '?') return v.text;  // :name etc.
      return std::string("?").append(std::to_string(v.parameter));
    case Value::Kind::kInteger:
    case Value::Kind::kFloat:
      return v.text;
    case Value::Kind::kBoolean:
      return v.text == "true" ? "1" : "0";
    case Value::Kind::kString:
    case Value::Kind::kName:
      return SqlQuote(v.text);
  }
  return "NULL";
}

namespace {

const char* AsOfKindText(sql::AsOfKind k) {
  switch (k) {
    case sql::AsOfKind::kNow: return "now";
    case sql::AsOfKind::kTimestamp: return "timestamp";
    case sql::AsOfKind::kTransaction: return "transaction";
    case sql::AsOfKind::kScn: return "scn";
    case sql::AsOfKind::kCommit: return "commit";
  }
  return "now";
}

std::string AsOfArgs(const std::optional<sql::AsOf>& as_of) {
  if (!as_of || as_of->kind == sql::AsOfKind::kNow || !as_of->value) {
    return "'now', NULL";
  }
  return std::string("'") + AsOfKindText(as_of->kind) + "', " +
         ValueExpr(*as_of->value);
}

// A statement whose whole effect is calling `call`; returns no rows.
std::string Call(const std::string& call) {
  return "SELECT NULL WHERE " + call + " IS NOT NULL";
}

// The time-travel kinds a snapshot table serves, as the text its first
// argument takes.
const char* SnapshotKind(sql::TimeTravelKind k) {
  switch (k) {
    case sql::TimeTravelKind::kAsOfTimestamp: return "timestamp";
    case sql::TimeTravelKind::kAsOfTransaction: return "transaction";
    case sql::TimeTravelKind::kAsOfScn: return "scn";
    case sql::TimeTravelKind::kAsOfCommit: return "commit";
    case sql::TimeTravelKind::kAsOfBranch: return "branch";
    case sql::TimeTravelKind::kAsOfTag: return "tag";
    case sql::TimeTravelKind::kSystemTimeAsOf: return "timestamp";
    default: return nullptr;
  }
}

Result<Translation> ApplyEdits(std::string_view text,
                               std::vector<sql::SqlEdit> edits);

Result<Translation> TranslateTimeTravel(sqlite3* db, std::string_view text,
                                        const sql::TimeTravelQuery& q) {
  std::vector<sql::SqlEdit> edits;
  for (const sql::TimeTravelRef& ref : q.refs) {
    if (!ref.schema.empty() && sqlite3_stricmp(ref.schema.c_str(), "main")) {
      return Status::NotSupported("time travel on a table of schema '" +
                                  ref.schema + "': only main is versioned");
    }
    std::string table_expr;
    if (ref.kind == sql::TimeTravelKind::kSystemTimeAll ||
        ref.kind == sql::TimeTravelKind::kSystemTimeBetween ||
        ref.kind == sql::TimeTravelKind::kSystemTimeFromTo) {
      LARIX_ASSIGN_OR_RETURN(table_expr, HistoryTableExpr(db, ref));
    } else {
      const char* kind = SnapshotKind(ref.kind);
      if (kind == nullptr || ref.values.size() != 1) {
        return Status::InvalidArgument("unsupported time-travel clause");
      }
      LARIX_ASSIGN_OR_RETURN(std::string vtab,
                             EnsureSnapshotTable(db, ref.table));
      table_expr = "temp." + SqlIdentifier(vtab) + "(" + SqlQuote(kind) +
                   ", " + ValueExpr(ref.values[0]) + ")";
    }
    if (ref.alias.empty()) table_expr += " AS " + SqlIdentifier(ref.table);
    edits.push_back({ref.table_span, table_expr});
    edits.push_back({ref.clause_span, ""});
  }
  LARIX_ASSIGN_OR_RETURN(std::vector<sql::SqlEdit> calls,
                         RewriteHistoryCalls(db, text));
  edits.insert(edits.end(), calls.begin(), calls.end());
  return ApplyEdits(text, std::move(edits));
}

Result<Translation> ApplyEdits(std::string_view text,
                               std::vector<sql::SqlEdit> edits) {
  LARIX_ASSIGN_OR_RETURN(sql::RewrittenSql rewritten,
                         sql::RewriteSql(text, std::move(edits)));
  Translation t;
  t.sql = std::move(rewritten.sql);
  t.changed = true;
  bool identity = true;
  for (size_t i = 0; i < rewritten.parameter_origin.size(); i++) {
    if (rewritten.parameter_origin[i] != static_cast<int>(i) + 1) {
      identity = false;
    }
  }
  if (!identity) t.parameter_origin = std::move(rewritten.parameter_origin);
  return t;
}

}  // namespace

std::vector<ScriptStatement> SplitScript(std::string_view script) {
  std::vector<ScriptStatement> out;
  for (const sql::StatementSlice& s : sql::SplitStatements(script)) {
    out.push_back({s.text, s.offset});
  }
  return out;
}

std::string SqlQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::string SqlIdentifier(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

Result<Translation> TranslateStatement(sqlite3* db, std::string_view text) {
  LARIX_ASSIGN_OR_RETURN(sql::ParsedStatement parsed,
                         sql::ParseStatement(text));
  Translation t;
  t.changed = true;
  const auto& body = parsed.body;
  if (std::holds_alternative<sql::Passthrough>(body)) {
    // A connection whose branch was dropped or renamed gets a clear error
    // here rather than SQLite's "disk I/O error" at its first read.
    if (BranchFile* f = GetBranchFile(db)) {
      if (Engine* engine = BranchFileControl::engine(f)) {
        Result<BranchHead> head =
            engine->ReadHead(BranchFileControl::branch(f));
        if (!head.ok() && head.status().IsNotFound()) {
          return Status::NotFound(
              head.status().message() +
              " (it was dropped or renamed; USE BRANCH another one)");
        }
      }
    }
    LARIX_ASSIGN_OR_RETURN(std::vector<sql::SqlEdit> calls,
                           RewriteHistoryCalls(db, text));
    if (!calls.empty()) return ApplyEdits(text, std::move(calls));
    t.sql = std::string(text);
    t.changed = false;
    return t;
  }
  if (auto* q = std::get_if<sql::TimeTravelQuery>(&body)) {
    return TranslateTimeTravel(db, text, *q);
  }
  if (auto* s = std::get_if<sql::CreateBranch>(&body)) {
    std::string options;
    for (const sql::Option& o : s->options) {
      if (o.value.is_parameter()) {
        return Status::InvalidArgument("branch option '" + o.key +
                                       "' must be a literal, not a parameter");
      }
      options += o.key + "=" + o.value.text + "\n";
    }
    t.sql = Call("larix_create_branch(" + SqlQuote(s->name) + ", " +
                 (s->from_current ? std::string("NULL") : SqlQuote(s->parent)) +
                 ", " + AsOfArgs(s->as_of) + ", " + SqlQuote(options) + ", " +
                 (s->if_not_exists ? "1" : "0") + ")");
  } else if (auto* s = std::get_if<sql::DropBranch>(&body)) {
    t.sql = Call("larix_drop_branch(" + SqlQuote(s->name) + ", " +
                 (s->if_exists ? "1" : "0") + ")");
  } else if (auto* s = std::get_if<sql::RenameBranch>(&body)) {
    t.sql = Call("larix_rename_branch(" + SqlQuote(s->name) + ", " +
                 SqlQuote(s->new_name) + ")");
  } else if (auto* s = std::get_if<sql::ResetBranch>(&body)) {
    t.sql = Call("larix_reset_branch(" + SqlQuote(s->name) + ", " +
                 ValueExpr(s->target) + ")");
  } else if (auto* s = std::get_if<sql::CreateBranchAlias>(&body)) {
    t.sql = Call("larix_set_alias(" + SqlQuote(s->alias) + ", " +
                 SqlQuote(s->target) + ", 1)");
  } else if (auto* s = std::get_if<sql::AlterBranchAlias>(&body)) {
    t.sql = Call("larix_set_alias(" + SqlQuote(s->alias) + ", " +
                 SqlQuote(s->target) + ", 0)");
  } else if (auto* s = std::get_if<sql::DropBranchAlias>(&body)) {
    t.sql = Call("larix_drop_alias(" + SqlQuote(s->alias) + ", " +
                 (s->if_exists ? "1" : "0") + ")");
  } else if (auto* s = std::get_if<sql::MergeBranch>(&body)) {
    std::string policy = "fail";
    if (s->conflict_resolution) {
      switch (*s->conflict_resolution) {
        case sql::ConflictResolution::kBranchWins: policy = "branch_wins"; break;
        case sql::ConflictResolution::kTargetWins: policy = "target_wins"; break;
        case sql::ConflictResolution::kFail: policy = "fail"; break;
        case sql::ConflictResolution::kManual: policy = "manual"; break;
      }
    }
    t.sql = Call("larix_merge_branch(" + SqlQuote(s->source) + ", " +
                 SqlQuote(s->target) + ", " + SqlQuote(policy) + ", " +
                 (s->delete_branch_after ? "1" : "0") + ")");
  } else if (auto* s = std::get_if<sql::UseBranch>(&body)) {
    t.sql = Call("larix_use_branch(" + SqlQuote(s->name) + ")");
  } else if (auto* s = std::get_if<sql::CreateTag>(&body)) {
    t.sql = Call("larix_create_tag(" + SqlQuote(s->name) + ", " +
                 (s->from_branch.empty() ? std::string("NULL")
                                         : SqlQuote(s->from_branch)) +
                 ", " + AsOfArgs(s->as_of) + ", " +
                 (s->if_not_exists ? "1" : "0") + ")");
  } else if (auto* s = std::get_if<sql::DropTag>(&body)) {
    t.sql = Call("larix_drop_tag(" + SqlQuote(s->name) + ", " +
                 (s->if_exists ? "1" : "0") + ")");
  } else if (auto* s = std::get_if<sql::AddSystemVersioning>(&body)) {
    // Every table is versioned; check only that the table exists.
    std::string schema = s->schema.empty() ? "main" : s->schema;
    t.sql = "SELECT NULL FROM " + SqlIdentifier(schema) + "." +
            SqlIdentifier(s->table) + " WHERE 0";
  } else {
    return Status::NotSupported("statement not supported");
  }
  t.is_command = true;
  return t;
}

}  // namespace larix
