// The verbs of the `larix` command other than `sql` (cli/repl.h), and what
// every verb shares: naming a store, reporting an error, exit codes.
//
// Each Run* function takes its already-parsed arguments (cli/main.cc does
// the parsing with CLI11), does its work through the public API
// (include/larix/), prints its results on stdout and its progress and
// errors on stderr, and returns the process exit code.  No function here
// throws.
//
// Exit codes (docs/cli.md):
//   0  success
//   1  failure: an error, a SQL error, fsck found problems
//   2  usage: the command line could not be parsed

#ifndef LARIX_CLI_COMMANDS_H_
#define LARIX_CLI_COMMANDS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "larix/status.h"

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
};
int RunLog(const LogArgs& args);

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
