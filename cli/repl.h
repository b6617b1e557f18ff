// `larix sql`: run SQL against a branch, from -c, a script, or a REPL.
//
// Where the SQL comes from, in order of precedence:
//   -c SQL        the given text (one or more statements, or one
//                 meta-command); stop at the first error.
//   FILE          a script file ("-" = stdin); stop at the first error.
//   stdin         a script when stdin is not a terminal; otherwise the
//                 interactive REPL, where an error is reported and the
//                 session goes on.
// Scripts are read line by line and run statement by statement as each
// statement completes (sqlite3_complete), so arbitrarily large scripts run
// in constant memory and statements before an error stay committed.
//
// The REPL (line editing and history through libedit) and the
// meta-commands \d, \d NAME, \dS, \h, \q are described in docs/cli.md.

#ifndef LARIX_CLI_REPL_H_
#define LARIX_CLI_REPL_H_

#include <optional>
#include <string>

#include "cli/output.h"

namespace larix::cli {

struct SqlArgs {
  std::string store;                   // "STORE" or "STORE@branch"
  std::string branch;                  // --branch
  std::optional<std::string> command;  // -c
  std::string file;                    // FILE; "" = none, "-" = stdin
  OutputFormat format = OutputFormat::kTable;
};

// Returns the exit code: 0, or 1 after an error (in the REPL, only if the
// session could not start).
int RunSql(const SqlArgs& args);

}  // namespace larix::cli

#endif  // LARIX_CLI_REPL_H_
