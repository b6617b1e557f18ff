// The verbs of the `larix` command other than `sql` (cli/repl.h), and what
// every verb shares: naming a store, reporting an error, exit codes.
//
// Each Run* function takes its already-parsed arguments (cli/main.cc does
// the parsing with CLI11), does its work through the public API
// (include/larix/) and the SQL layer (sql/), prints its results on stdout
// and its progress and errors on stderr, and returns the process exit
// code.  No function here throws.
//
// Where the verbs live:
//   commands.cc  init, log, import, export, fsck, gc, and the shared helpers
//   refs.cc      branch, tag: Larix's SQL on a connection (one path with
//                the SQL statements, their checks and their messages)
//   history.cc   show, diff, blame (row-level, sql/row_diff.h) and the
//                commit graph `log --graph` draws
//   merge.cc     merge, cherry-pick, revert, reset: Larix's SQL on a
//                connection, like refs.cc (session.h is their connection)
//
// Exit codes (docs/cli.md):
//   0  success
//   1  failure: an error, a SQL error, fsck found problems
//   2  usage: the command line could not be parsed

#ifndef LARIX_CLI_COMMANDS_H_
#define LARIX_CLI_COMMANDS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "larix/commit.h"
#include "larix/object_id.h"
#include "larix/status.h"

namespace larix {
class Store;
}

namespace larix::cli {

inline constexpr char kLarixVersion[] = "0.1.0";

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Prints "larix: <message>" on stderr (after flushing stdout, so the two
// streams stay in order on a terminal) and returns kExitFailure.
int Fail(const std::string& message);
int Fail(const Status& status);

// A store as the user names it: "STORE" or "STORE@branch".  The rule is
// OpenDatabase's: a path that exists is taken whole (even with an '@' in
// it); otherwise the last '@' after the last '/' starts the branch.
struct StoreSpec {
  std::string path;
  std::string branch;  // empty: not named
};
StoreSpec ParseStoreSpec(const std::string& spec);

// The branch named by `spec` and/or a --branch flag (`flag`); they must
// agree if both are given.  Empty if neither names one.
Result<std::string> ChooseBranch(const StoreSpec& spec,
                                 const std::string& flag);

// Opens the store at `path` (Store::Open; NotFound names a missing store,
// Busy the process holding it).
Status OpenStore(const std::string& path, bool create,
                 std::unique_ptr<Store>* store);

// For a verb that reads one branch: opens the store `store_arg` names
// (STORE or STORE@branch) and sets *rev to the branch it or `branch_flag`
// names (ChooseBranch), else to the store's default branch (DefaultBranch).
// *named, if given, says whether a branch was named.
Status OpenStoreAtBranch(const std::string& store_arg,
                         const std::string& branch_flag,
                         std::unique_ptr<Store>* store, std::string* rev,
                         bool* named = nullptr);

// "7d", "12h", "30m", "45s", "2w" or "0", in microseconds.
Result<int64_t> ParseDuration(std::string_view text);

// Microseconds since the epoch as ISO-8601 UTC: "2025-01-02T03:04:05Z",
// with ".123456" before the Z if `micros`.
std::string FormatTime(int64_t time_us, bool micros);

struct InitArgs {
  std::string store;
  std::string backend;  // "" = the default
};
int RunInit(const InitArgs& args);

struct LogArgs {
  std::string store;
  std::string branch;
  size_t max_count = 0;  // 0 = all
  bool oneline = false;
  bool graph = false;  // draw the commit graph (merges) on the left
  bool all = false;    // start from every branch and tag, not one branch
};
int RunLog(const LogArgs& args);

// Resolves a revision: what Store::ResolveRevision takes (a branch, alias,
// tag, full ref name or commit id prefix), optionally followed by git's
// suffixes "^" (first parent) and "~N" (N-th first-parent ancestor), which
// may repeat ("main~2^").  NotFound names the revision.
Result<ObjectId> ResolveRev(Store* store, const std::string& rev);

// The branch `larix` works on when none is named: the one the store's HEAD
// points at ("main" for every store `larix init` made).
std::string DefaultBranch(Store* store);

// The lines `log` prints for one commit: one line with `oneline`, else the
// "commit"/"Merge:"/"Author:"/"Date:"/"Txn:" header, a blank line and the
// indented message.  `decoration` ("main, tag: v1"), if any, is shown in
// parentheses after the id.
std::vector<std::string> CommitLines(const ObjectId& id, const Commit& commit,
                                     const std::string& decoration,
                                     bool oneline);

// For each commit a branch or tag points at, their names: "main, tag: v1".
std::map<ObjectId, std::string> RefDecorations(Store* store);

// "1.5 MiB"
std::string HumanBytes(uint64_t n);

struct BranchArgs {
  std::string store;
  std::string branch;  // --branch: the branch the connection is on
  std::string name;    // create NAME (empty: list)
  std::string from;    // --from REF
  std::string as_of;   // --as-of TIME|TXN
  std::string delete_name;                   // -d NAME
  std::vector<std::string> rename;           // -m OLD NEW
  bool verbose = false;
};
int RunBranch(const BranchArgs& args);

struct TagArgs {
  std::string store;  // STORE[@branch]
  std::string name;   // empty: list
  std::string rev;    // empty: the branch's head
  std::string delete_name;
};
int RunTag(const TagArgs& args);

struct MergeArgs {
  std::string store;     // STORE[@target]
  std::string source;    // the branch to merge (empty with --continue/--abort)
  std::string into;      // --into: the target (default: STORE@x, else HEAD's)
  std::string strategy;  // "" = fail
  bool delete_branch = false;
  bool continue_merge = false;  // --continue
  bool abort_merge = false;     // --abort
};
int RunMerge(const MergeArgs& args);

// cherry-pick (revert = false) and revert (revert = true).
struct PickArgs {
  std::string store;  // STORE[@branch]
  std::string rev;
  std::string onto;      // --onto (default: STORE@x, else HEAD's branch)
  std::string strategy;  // "" = fail
};
int RunCherryPick(const PickArgs& args, bool revert);

struct ResetArgs {
  std::string store;
  std::string branch;
  std::string rev;
};
int RunReset(const ResetArgs& args);

struct ShowArgs {
  std::string store;  // STORE[@branch]
  std::string rev;    // empty: the branch's head
};
int RunShow(const ShowArgs& args);

struct DiffArgs {
  std::string store;  // STORE[@branch]
  std::string from;
  std::string to;  // empty: the branch's head
  std::string table;
  bool stat = false;  // per-table counts only
};
int RunDiff(const DiffArgs& args);

struct BlameArgs {
  std::string store;
  std::string branch;
  std::string table;
};
int RunBlame(const BlameArgs& args);

struct ImportArgs {
  std::string file;
  std::string store;
  std::string branch;
  bool force = false;
  bool progress = false;
};
int RunImport(const ImportArgs& args);

struct ExportArgs {
  std::string store;
  std::string out;
  std::string branch;
  std::string commit;
  bool force = false;
  bool progress = false;
};
int RunExport(const ExportArgs& args);

struct FsckArgs {
  std::string store;
  bool progress = false;
};
int RunFsck(const FsckArgs& args);

struct GcArgs {
  std::string store;
  std::string retention;  // "" = the store's default (7 days)
  bool progress = false;
};
int RunGc(const GcArgs& args);

}  // namespace larix::cli

#endif  // LARIX_CLI_COMMANDS_H_
