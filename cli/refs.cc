// The verbs branch and tag (see commands.h).
//
// Both work through a SQL connection (cli/session.h) with Larix's own
// statements (CREATE / DROP / ALTER DATABASE BRANCH, CREATE / DROP TAG) and
// tables (pg_database_branches(), larix_tags), translated exactly as
// `larix sql` translates them.  So there is one path for a branch operation
// whether it comes from SQL, Python or this command: the same checks, the
// same atomic ref transaction, the same error messages.

#include <sqlite3.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/session.h"
#include "larix/database.h"
#include "larix/store.h"
#include "sql/branches.h"
#include "sql/engine.h"
#include "sql/translate.h"

namespace larix::cli {
namespace {

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
