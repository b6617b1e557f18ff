// The verbs merge, cherry-pick, revert and reset (see commands.h).
//
// Like branch and tag (refs.cc), each runs Larix's own SQL on a connection
// (session.h), translated as `larix sql` translates it: MERGE DATABASE
// BRANCH, larix_merge_continue / larix_merge_abort, larix_cherry_pick,
// larix_revert, ALTER DATABASE BRANCH ... RESET TO.  The merge itself, its
// checks and its messages (a policy 'fail' conflict lists the conflicts)
// are the SQL layer's (sql/merge.h); this file only names the target and
// reports the outcome, read back through SQL: larix_hashof before and
// after, and the parents of the new head from larix_log.
//
// A manual merge that stops with conflicts leaves the target in the merge
// state (larix_conflicts and larix_conflicts_<table> on connections to
// it); the verb prints the summary and how to go on, and exits 1.

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/session.h"
#include "larix/store.h"
#include "sql/translate.h"

namespace larix::cli {
namespace {

// Session::Open with the branch a flag (--into, --onto) names, which must
// agree with STORE@branch; the message names the flag.
Status OpenOn(Session* session, const std::string& store,
              const std::string& flag_value, const char* flag_name) {
  StoreSpec spec = ParseStoreSpec(store);
  if (!spec.branch.empty() && !flag_value.empty() &&
      spec.branch != flag_value) {
    return Status::InvalidArgument("two branches given: '" + spec.branch +
                                   "' (after '@') and '" + flag_value +
                                   "' (" + flag_name + ")");
  }
  return session->Open(store, flag_value);
}

Result<std::string> HeadOf(Session* session, const std::string& branch) {
  return session->Scalar("SELECT larix_hashof(?1)", {branch});
}

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The parents and the message of commit `id` on `branch`, from larix_log.
struct LogEntry {
  std::vector<std::string> parents;
  std::string message;
};
Result<LogEntry> LogOf(Session* session, const std::string& branch,
                       const std::string& id) {
  std::vector<Row> rows;
  LARIX_RETURN_IF_ERROR(session->Run(
      "SELECT parents, message FROM larix_log(?1) WHERE commit_id = ?2",
      {branch, id}, &rows));
  if (rows.empty()) {
    return Status::NotFound("commit " + id.substr(0, 12) +
                            " is not in the log of '" + branch + "'");
  }
  return LogEntry{Words(Value(rows[0][0])), Value(rows[0][1])};
}

// Whether the connection's branch is in the middle of a manual merge.
Result<bool> MergeInProgress(Session* session) {
  LARIX_ASSIGN_OR_RETURN(
      std::string n,
      session->Scalar("SELECT count(*) FROM sqlite_master WHERE type = "
                      "'table' AND name = 'larix_conflicts'"));
  return n != "0" && !n.empty();
}

std::string Plural(int64_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// The summary of a merge stopped with conflicts, and what to do next.
int ReportConflicts(Session* session, const std::string& source,
                    const std::string& target) {
  std::vector<Row> rows;
  Status s = session->Run(
      "SELECT table_name, num_conflicts FROM larix_conflicts "
      "ORDER BY table_name",
      {}, &rows);
  if (!s.ok()) return Fail(s);
  int64_t total = 0;
  size_t width = 0;
  for (const Row& r : rows) {
    total += std::stoll(Value(r[1]).empty() ? "0" : Value(r[1]));
    width = std::max(width, Value(r[0]).size());
  }
  std::string spec = session->path() + "@" + target;
  std::printf("Merge of %s into %s stopped: %s in %s\n", source.c_str(),
              target.c_str(), Plural(total, "conflict").c_str(),
              Plural(static_cast<int64_t>(rows.size()), "table").c_str());
  for (const Row& r : rows) {
    std::string table = Value(r[0]);
    std::printf("  %s%s  %s  (larix_conflicts_%s)\n", table.c_str(),
                std::string(width - table.size(), ' ').c_str(),
                Plural(std::stoll(Value(r[1]).empty() ? "0" : Value(r[1])),
                       "conflict")
                    .c_str(),
                table.c_str());
  }
  std::printf(
      "Resolve each conflict with SQL on %s (fix the row, then delete it "
      "from larix_conflicts_<table>):\n"
      "  larix sql %s\n"
      "then commit the merge with 'larix merge %s --continue', or give it up "
      "with 'larix merge %s --abort'.\n",
      target.c_str(), spec.c_str(), spec.c_str(), spec.c_str());
  return Fail("merge of " + source + " into " + target + " stopped with " +
              Plural(total, "conflict") + " to resolve");
}

// What a merge commit merged, named for the user: a branch whose head is
// its second parent, else that commit's short id.
std::string MergedSource(Session* session, const LogEntry& entry,
                         const std::string& target) {
  if (entry.parents.size() < 2) return "";
  const std::string& source = entry.parents[1];
  std::vector<Row> rows;
  if (session
          ->Run("SELECT branch_name FROM pg_database_branches() WHERE head = "
                "?1 AND kind = 'branch' AND branch_name <> ?2 "
                "ORDER BY branch_name LIMIT 1",
                {source, target}, &rows)
          .ok() &&
      !rows.empty() && rows[0][0]) {
    return *rows[0][0];
  }
  return source.substr(0, 12);
}

// Fails, naming the way out, if a manual merge into the connection's
// branch is in progress (nothing else may commit to it meanwhile).
Status RefuseDuringMerge(Session* session) {
  LARIX_ASSIGN_OR_RETURN(bool stopped, MergeInProgress(session));
  if (!stopped) return Status::OK();
  std::string spec = session->path() + "@" + session->branch();
  return Status::Busy("a merge into '" + session->branch() +
                      "' is in progress: finish it with 'larix merge " + spec +
                      " --continue' or give it up with --abort");
}

int ContinueOrAbort(Session* session, bool abort) {
  const std::string& target = session->branch();
  Status s = session->Run(abort ? "SELECT larix_merge_abort(?1)"
                                : "SELECT larix_merge_continue(?1)",
                          {target});
  if (!s.ok()) return Fail(s);
  Result<std::string> head = HeadOf(session, target);
  if (!head.ok()) return Fail(head.status());
  if (abort) {
    std::printf("Aborted the merge into %s; %s stays at %s\n",
                target.c_str(), target.c_str(), head->substr(0, 12).c_str());
    return kExitOk;
  }
  Result<LogEntry> entry = LogOf(session, target, *head);
  if (!entry.ok()) return Fail(entry.status());
  std::string source = MergedSource(session, *entry, target);
  std::printf("Merged %s%s: commit %s\n",
              source.empty() ? "" : (source + " ").c_str(),
              ("into " + target).c_str(), head->substr(0, 12).c_str());
  return kExitOk;
}

}  // namespace

int RunMerge(const MergeArgs& args) {
  bool resume = args.continue_merge || args.abort_merge;
  if (args.continue_merge && args.abort_merge) {
    return Fail("give either --continue or --abort");
  }
  if (resume && (!args.source.empty() || !args.strategy.empty() ||
                 args.delete_branch)) {
    return Fail(std::string(args.continue_merge ? "--continue" : "--abort") +
                " takes no SOURCE, --strategy or --delete-branch");
  }
  if (!resume && args.source.empty()) {
    return Fail("name the SOURCE branch to merge (or --continue / --abort "
                "a merge in progress)");
  }
  Session session;
  Status s = OpenOn(&session, args.store, args.into, "--into");
  if (!s.ok()) return Fail(s);
  if (resume) return ContinueOrAbort(&session, args.abort_merge);

  s = RefuseDuringMerge(&session);
  if (!s.ok()) return Fail(s);
  const std::string& target = session.branch();
  Result<std::string> before = HeadOf(&session, target);
  if (!before.ok()) return Fail(before.status());
  Result<std::string> source_head = HeadOf(&session, args.source);
  if (!source_head.ok()) return Fail(source_head.status());

  std::string sql = "MERGE DATABASE BRANCH " + SqlIdentifier(args.source) +
                    " INTO " + SqlIdentifier(target);
  std::vector<std::string> options;
  if (!args.strategy.empty()) {
    options.push_back("conflict_resolution = " + SqlQuote(args.strategy));
  }
  if (args.delete_branch) options.push_back("delete_branch_after = true");
  for (size_t i = 0; i < options.size(); i++) {
    sql += (i == 0 ? " WITH (" : ", ") + options[i];
  }
  if (!options.empty()) sql += ")";
  s = session.Run(sql);
  if (!s.ok()) return Fail(s);

  Result<bool> stopped = MergeInProgress(&session);
  if (!stopped.ok()) return Fail(stopped.status());
  if (*stopped) return ReportConflicts(&session, args.source, target);

  Result<std::string> after = HeadOf(&session, target);
  if (!after.ok()) return Fail(after.status());
  if (*after == *before) {
    std::printf("Already up to date\n");
  } else {
    Result<LogEntry> entry = LogOf(&session, target, *after);
    if (!entry.ok()) return Fail(entry.status());
    if (entry->parents.size() >= 2 && entry->parents[0] == *before) {
      std::printf("Merged %s into %s: commit %s\n", args.source.c_str(),
                  target.c_str(), after->substr(0, 12).c_str());
    } else {
      std::printf("Fast-forward %s to %s\n", target.c_str(),
                  after->substr(0, 12).c_str());
    }
  }
  if (args.delete_branch) {
    std::printf("Deleted branch %s (was %s)\n", args.source.c_str(),
                source_head->substr(0, 12).c_str());
  }
  return kExitOk;
}

int RunCherryPick(const PickArgs& args, bool revert) {
  Session session;
  Status s = OpenOn(&session, args.store, args.onto, "--onto");
  if (!s.ok()) return Fail(s);
  s = RefuseDuringMerge(&session);
  if (!s.ok()) return Fail(s);
  const std::string& target = session.branch();
  Result<ObjectId> commit = ResolveRev(session.store(), args.rev);
  if (!commit.ok()) return Fail(commit.status());
  Result<std::string> before = HeadOf(&session, target);
  if (!before.ok()) return Fail(before.status());
  std::string policy =
      args.strategy.empty() ? std::string("NULL") : SqlQuote(args.strategy);
  s = session.Run(std::string("SELECT ") +
                      (revert ? "larix_revert" : "larix_cherry_pick") +
                      "(?1, " + policy + ")",
                  {commit->ToHex()});
  if (!s.ok()) return Fail(s);
  Result<std::string> after = HeadOf(&session, target);
  if (!after.ok()) return Fail(after.status());
  std::string picked = commit->ToHex().substr(0, 12);
  if (*after == *before) {
    std::printf("Nothing to %s: %s changes nothing on %s\n",
                revert ? "revert" : "cherry-pick", picked.c_str(),
                target.c_str());
  } else {
    std::printf("%s %s %s %s: commit %s\n",
                revert ? "Reverted" : "Cherry-picked", picked.c_str(),
                revert ? "on" : "onto", target.c_str(),
                after->substr(0, 12).c_str());
  }
  return kExitOk;
}

int RunReset(const ResetArgs& args) {
  Session session;
  Status s = session.Open(args.store, "");
  if (!s.ok()) return Fail(s);
  Result<ObjectId> commit = ResolveRev(session.store(), args.rev);
  if (!commit.ok()) return Fail(commit.status());
  Result<std::string> before = HeadOf(&session, args.branch);
  if (!before.ok()) return Fail(before.status());
  s = session.Run("ALTER DATABASE BRANCH " + SqlIdentifier(args.branch) +
                  " RESET TO " + SqlQuote(commit->ToHex()));
  if (!s.ok()) return Fail(s);
  Result<std::string> after = HeadOf(&session, args.branch);
  if (!after.ok()) return Fail(after.status());
  std::printf("Reset %s: %s -> %s\n", args.branch.c_str(),
              before->substr(0, 12).c_str(), after->substr(0, 12).c_str());
  return kExitOk;
}

}  // namespace larix::cli
