// A SQL connection on a store for the duration of one verb: what the verbs
// that work through Larix's SQL share (refs.cc: branch, tag; merge.cc:
// merge, cherry-pick, revert, reset).
//
// Every statement goes through TranslateStatement, exactly as `larix sql`
// runs it, so a verb and the SQL it stands for are one path: the same
// checks, the same atomic ref transaction, the same error messages.
//
// The connection is opened on the branch the user names (STORE@branch or
// a flag such as --branch / --into / --onto), else on the one the store's
// HEAD points at, else (HEAD names a branch that was renamed or dropped) on
// the first branch there is; the Engine is acquired first so that the
// store is opened once.

#ifndef LARIX_CLI_SESSION_H_
#define LARIX_CLI_SESSION_H_

#include <sqlite3.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "larix/status.h"

namespace larix {
class Engine;
class Store;
}  // namespace larix

namespace larix::cli {

// One result row; NULL as nullopt.
using Row = std::vector<std::optional<std::string>>;

class Session {
 public:
  Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  // Opens `spec_text` (STORE or STORE@branch) and/or `flag` (a branch named
  // by an option; the two must agree) as described at the top.
  Status Open(const std::string& spec_text, const std::string& flag);

  // Runs one statement, Larix's SQL included, binding `params` as text to
  // ?1, ?2, ...; appends its rows to *rows if given.  Errors carry
  // SQLite's (so Larix's) message.
  Status Run(const std::string& sql, const std::vector<std::string>& params = {},
             std::vector<Row>* rows = nullptr);

  // The first column of the first row of `sql` ("" for none or NULL).
  Result<std::string> Scalar(const std::string& sql,
                             const std::vector<std::string>& params = {});

  Store* store();
  // The store's path, the branch the connection is on, and the one HEAD
  // names.
  const std::string& path() const { return path_; }
  const std::string& branch() const { return branch_; }
  const std::string& head_branch() const { return head_branch_; }

 private:
  std::shared_ptr<Engine> engine_;
  sqlite3* db_ = nullptr;
  std::string path_;
  std::string branch_;
  std::string head_branch_;
};

inline std::string Value(const std::optional<std::string>& v) {
  return v ? *v : "";
}

// The first 12 hex digits of a commit id, "(none)" for NULL.
inline std::string Short(const std::optional<std::string>& hex) {
  return hex ? hex->substr(0, 12) : std::string("(none)");
}

}  // namespace larix::cli

#endif  // LARIX_CLI_SESSION_H_
