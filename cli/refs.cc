// The verbs branch and tag (see commands.h).
//
// Both work through a SQL connection with Larix's own statements (CREATE /
// DROP / ALTER DATABASE BRANCH, CREATE / DROP TAG) and tables
// (pg_database_branches(), larix_tags), translated exactly as `larix sql`
// translates them.  So there is one path for a branch operation whether it
// comes from SQL, Python or this command: the same checks, the same atomic
// ref transaction, the same error messages.
//
// The connection is opened on the branch the user names (STORE@branch or
// --branch), else on the one the store's HEAD points at, else (HEAD names
// a branch that was renamed or dropped) on the first branch there is; the
// Engine is acquired first so that the store is opened once.

#include <sqlite3.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "larix/database.h"
#include "larix/store.h"
#include "sql/branches.h"
#include "sql/engine.h"
#include "sql/translate.h"

namespace larix::cli {
namespace {

using Row = std::vector<std::optional<std::string>>;

// A connection on a store for the duration of one verb.
class Session {
 public:
  ~Session() {
    if (db_ != nullptr) sqlite3_close(db_);
  }

  // Opens `spec` (and/or `flag`, a --branch) as described at the top.
  Status Open(const std::string& spec_text, const std::string& flag) {
    StoreSpec spec = ParseStoreSpec(spec_text);
    Result<std::string> named = ChooseBranch(spec, flag);
    if (!named.ok()) return named.status();
    if (spec.path.empty()) return Status::InvalidArgument("no store path given");
    Result<std::shared_ptr<Engine>> engine =
        Engine::Acquire(spec.path, /*create=*/false);
    if (!engine.ok()) return engine.status();
    engine_ = *engine;
    head_branch_ = DefaultBranch(engine_->store());
    branch_ = *named;
    if (branch_.empty()) {
      branch_ = head_branch_;
      if (!engine_->ReadHead(branch_).ok()) {
        std::vector<BranchInfo> branches;
        LARIX_RETURN_IF_ERROR(ListBranches(engine_.get(), &branches));
        auto it = std::find_if(branches.begin(), branches.end(),
                               [](const BranchInfo& b) {
                                 return b.kind == "branch";
                               });
        if (it == branches.end()) {
          return Status::NotFound("the store at " + spec.path +
                                  " has no branches");
        }
        branch_ = it->name;
      }
    }
    OpenOptions options;
    options.branch = branch_;
    options.create = false;
    return OpenDatabase(spec.path, options, &db_);
  }

  // Runs one statement, Larix's SQL included, binding `params` as text to
  // ?1, ?2, ...; appends its rows (NULL as nullopt) to *rows if given.
  // Errors carry SQLite's (so Larix's) message.
  Status Run(const std::string& sql, const std::vector<std::string>& params = {},
             std::vector<Row>* rows = nullptr) {
    LARIX_ASSIGN_OR_RETURN(Translation t, TranslateStatement(db_, sql));
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, t.sql.c_str(), -1, &stmt, nullptr) !=
        SQLITE_OK) {
      return Status::InvalidArgument(sqlite3_errmsg(db_));
    }
    int count = sqlite3_bind_parameter_count(stmt);
    for (int j = 1; j <= count; j++) {
      size_t origin = t.parameter_origin.empty()
                          ? j
                          : static_cast<size_t>(t.parameter_origin[j - 1]);
      if (origin >= 1 && origin <= params.size()) {
        sqlite3_bind_text(stmt, j, params[origin - 1].c_str(), -1,
                          SQLITE_TRANSIENT);
      }
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (rows == nullptr) continue;
      Row row;
      for (int i = 0; i < sqlite3_column_count(stmt); i++) {
        const unsigned char* v = sqlite3_column_text(stmt, i);
        if (v == nullptr) {
          row.push_back(std::nullopt);
        } else {
          row.push_back(std::string(reinterpret_cast<const char*>(v)));
        }
      }
      rows->push_back(std::move(row));
    }
    Status s;
    if (rc != SQLITE_DONE) {
      std::string message = sqlite3_errmsg(db_);
      s = rc == SQLITE_BUSY ? Status::Busy(message)
                            : Status::InvalidArgument(message);
    }
    sqlite3_finalize(stmt);
    return s;
  }

  Store* store() { return engine_->store(); }
  // The branch the connection is on, and the one HEAD names.
  const std::string& branch() const { return branch_; }
  const std::string& head_branch() const { return head_branch_; }

 private:
  std::shared_ptr<Engine> engine_;
  sqlite3* db_ = nullptr;
  std::string branch_;
  std::string head_branch_;
};

std::string Value(const std::optional<std::string>& v) { return v ? *v : ""; }

std::string Short(const std::optional<std::string>& hex) {
  return hex ? hex->substr(0, 12) : std::string("(none)");
}

struct BranchRow {
  std::string name, parent, head, kind, alias_of;
  std::string txn;
};

Status ReadBranches(Session* session, std::vector<BranchRow>* out) {
  std::vector<Row> rows;
  LARIX_RETURN_IF_ERROR(session->Run(
      "SELECT branch_name, parent_branch, head, kind, alias_of, head_txn "
      "FROM pg_database_branches() ORDER BY branch_name",
      {}, &rows));
  for (const Row& r : rows) {
    out->push_back({Value(r[0]), Value(r[1]), Value(r[2]), Value(r[3]),
                    Value(r[4]), Value(r[5])});
  }
  return Status::OK();
}

const BranchRow* Find(const std::vector<BranchRow>& rows,
                      const std::string& name) {
  for (const BranchRow& r : rows) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

int ListBranchesVerb(Session* session, bool verbose) {
  std::vector<BranchRow> rows;
  Status s = ReadBranches(session, &rows);
  if (!s.ok()) return Fail(s);
  size_t width = 0;
  for (const BranchRow& r : rows) width = std::max(width, r.name.size());
  for (const BranchRow& r : rows) {
    const char* mark = r.name == session->head_branch() ? "* " : "  ";
    if (r.kind == "alias") {
      std::printf("%s%s -> %s\n", mark, r.name.c_str(), r.alias_of.c_str());
    } else if (!verbose) {
      std::printf("%s%s\n", mark, r.name.c_str());
    } else {
      std::string line = std::string(mark) + r.name +
                         std::string(width - r.name.size(), ' ') + "  " +
                         r.head.substr(0, 12) + "  txn " + r.txn;
      if (!r.parent.empty()) line += "  from " + r.parent;
      std::printf("%s\n", line.c_str());
    }
  }
  return kExitOk;
}

// The AS OF clause for --as-of: "now", a transaction number, or a time.
std::string AsOfClause(const std::string& as_of) {
  std::string lower = as_of;
  for (char& c : lower) c = static_cast<char>(tolower(c));
  if (lower == "now") return "NOW";
  bool digits = !as_of.empty() &&
                std::all_of(as_of.begin(), as_of.end(),
                            [](char c) { return c >= '0' && c <= '9'; });
  if (digits) return "TRANSACTION " + as_of;
  return "TIMESTAMP " + SqlQuote(as_of);
}

int CreateBranchVerb(Session* session, const BranchArgs& args) {
  std::vector<BranchRow> rows;
  Status s = ReadBranches(session, &rows);
  if (!s.ok()) return Fail(s);
  std::string sql = "CREATE DATABASE BRANCH " + SqlIdentifier(args.name);
  std::string from = args.from.empty() ? session->branch() : args.from;
  if (Find(rows, from) != nullptr) {
    sql += " FROM " + SqlIdentifier(from);
    sql += " AS OF " + (args.as_of.empty() ? "NOW" : AsOfClause(args.as_of));
  } else {
    // A tag, a commit or a revision like main~2: the branch starts there
    // (its recorded parent is the connection's branch).
    if (!args.as_of.empty()) {
      return Fail("--as-of needs --from to name a branch; '" + from +
                  "' is not one");
    }
    Result<ObjectId> commit = ResolveRev(session->store(), from);
    if (!commit.ok()) return Fail(commit.status());
    sql += " FROM CURRENT AS OF COMMIT " + SqlQuote(commit->ToHex());
  }
  s = session->Run(sql);
  if (!s.ok()) return Fail(s);
  rows.clear();
  s = ReadBranches(session, &rows);
  if (!s.ok()) return Fail(s);
  const BranchRow* created = Find(rows, args.name);
  if (created == nullptr) return Fail("branch '" + args.name + "' vanished");
  std::printf("created branch %s from %s at %s (txn %s)\n",
              args.name.c_str(), from.c_str(),
              created->head.substr(0, 12).c_str(), created->txn.c_str());
  return kExitOk;
}

int DeleteBranchVerb(Session* session, const std::string& name) {
  std::vector<BranchRow> rows;
  Status s = ReadBranches(session, &rows);
  if (!s.ok()) return Fail(s);
  const BranchRow* found = Find(rows, name);
  if (found == nullptr) return Fail("branch '" + name + "' does not exist");
  BranchRow was = *found;
  bool alias = was.kind == "alias";
  s = session->Run(std::string("DROP DATABASE BRANCH ") +
                   (alias ? "ALIAS " : "") + SqlIdentifier(name));
  if (!s.ok()) return Fail(s);
  if (alias) {
    std::printf("deleted alias %s (was -> %s)\n", name.c_str(),
                was.alias_of.c_str());
  } else {
    std::printf("deleted branch %s (was %s)\n", name.c_str(),
                was.head.substr(0, 12).c_str());
  }
  return kExitOk;
}

}  // namespace

int RunBranch(const BranchArgs& args) {
  int modes = !args.name.empty() + !args.delete_name.empty() +
              !args.rename.empty();
  if (modes > 1) {
    return Fail("give one of NAME (create), -d NAME or -m OLD NEW");
  }
  if (args.name.empty() && (!args.from.empty() || !args.as_of.empty())) {
    return Fail("--from and --as-of go with a NAME to create");
  }
  Session session;
  Status s = session.Open(args.store, args.branch);
  if (!s.ok()) return Fail(s);
  if (!args.name.empty()) return CreateBranchVerb(&session, args);
  if (!args.delete_name.empty()) {
    return DeleteBranchVerb(&session, args.delete_name);
  }
  if (!args.rename.empty()) {
    const std::string& from = args.rename[0];
    const std::string& to = args.rename[1];
    s = session.Run("ALTER DATABASE BRANCH " + SqlIdentifier(from) +
                    " RENAME TO " + SqlIdentifier(to));
    if (!s.ok()) return Fail(s);
    std::printf("renamed branch %s to %s\n", from.c_str(), to.c_str());
    return kExitOk;
  }
  return ListBranchesVerb(&session, args.verbose);
}

int RunTag(const TagArgs& args) {
  if (!args.name.empty() && !args.delete_name.empty()) {
    return Fail("give either NAME (create) or -d NAME");
  }
  Session session;
  Status s = session.Open(args.store, "");
  if (!s.ok()) return Fail(s);
  std::vector<Row> tags;
  s = session.Run(
      "SELECT tag_name, commit_id FROM larix_tags ORDER BY tag_name", {},
      &tags);
  if (!s.ok()) return Fail(s);

  if (!args.delete_name.empty()) {
    auto it = std::find_if(tags.begin(), tags.end(), [&](const Row& r) {
      return Value(r[0]) == args.delete_name;
    });
    if (it == tags.end()) {
      return Fail("tag '" + args.delete_name + "' does not exist");
    }
    std::string was = Short((*it)[1]);
    s = session.Run("DROP TAG " + SqlIdentifier(args.delete_name));
    if (!s.ok()) return Fail(s);
    std::printf("deleted tag %s (was %s)\n", args.delete_name.c_str(),
                was.c_str());
    return kExitOk;
  }
  if (!args.name.empty()) {
    std::string rev = args.rev.empty() ? session.branch() : args.rev;
    Result<ObjectId> commit = ResolveRev(session.store(), rev);
    if (!commit.ok()) return Fail(commit.status());
    s = session.Run("CREATE TAG " + SqlIdentifier(args.name) +
                    " AS OF COMMIT " + SqlQuote(commit->ToHex()));
    if (!s.ok()) return Fail(s);
    std::printf("tagged %s (%s) as %s\n", commit->ShortHex().c_str(),
                rev.c_str(), args.name.c_str());
    return kExitOk;
  }
  size_t width = 0;
  for (const Row& r : tags) width = std::max(width, Value(r[0]).size());
  for (const Row& r : tags) {
    std::string name = Value(r[0]);
    std::printf("%s%s  %s\n", name.c_str(),
                std::string(width - name.size(), ' ').c_str(),
                Short(r[1]).c_str());
  }
  return kExitOk;
}

}  // namespace larix::cli
