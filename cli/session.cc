// See session.h.

#include "cli/session.h"

#include <algorithm>
#include <utility>

#include "cli/commands.h"
#include "larix/database.h"
#include "larix/store.h"
#include "sql/branches.h"
#include "sql/engine.h"
#include "sql/translate.h"

namespace larix::cli {

Session::~Session() {
  if (db_ != nullptr) sqlite3_close(db_);
}

Store* Session::store() { return engine_->store(); }

Status Session::Open(const std::string& spec_text, const std::string& flag) {
  StoreSpec spec = ParseStoreSpec(spec_text);
  Result<std::string> named = ChooseBranch(spec, flag);
  if (!named.ok()) return named.status();
  if (spec.path.empty()) return Status::InvalidArgument("no store path given");
  Result<std::shared_ptr<Engine>> engine =
      Engine::Acquire(spec.path, /*create=*/false);
  if (!engine.ok()) return engine.status();
  engine_ = *engine;
  path_ = spec.path;
  head_branch_ = DefaultBranch(engine_->store());
  branch_ = *named;
  if (branch_.empty()) {
    branch_ = head_branch_;
    if (!engine_->ReadHead(branch_).ok()) {
      std::vector<BranchInfo> branches;
      LARIX_RETURN_IF_ERROR(ListBranches(engine_.get(), &branches));
      auto it = std::find_if(
          branches.begin(), branches.end(),
          [](const BranchInfo& b) { return b.kind == "branch"; });
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

Status Session::Run(const std::string& sql,
                    const std::vector<std::string>& params,
                    std::vector<Row>* rows) {
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

Result<std::string> Session::Scalar(const std::string& sql,
                                    const std::vector<std::string>& params) {
  std::vector<Row> rows;
  LARIX_RETURN_IF_ERROR(Run(sql, params, &rows));
  if (rows.empty() || rows[0].empty()) return std::string();
  return Value(rows[0][0]);
}

}  // namespace larix::cli
