// Larix's SQL functions and eponymous virtual tables, registered on every
// connection (sql/connection.cc).  The dialect translator (sql/dialect.cc)
// rewrites Larix's statement extensions into calls of these.

#include <sqlite3.h>

#include "sql/vfs.h"

namespace larix {
namespace {

// current_branch(): the branch the connection is on.
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

}  // namespace

int RegisterSqlFunctions(sqlite3* db) {
  return sqlite3_create_function_v2(db, "current_branch", 0,
                                    SQLITE_UTF8, nullptr, CurrentBranchFunc,
                                    nullptr, nullptr, nullptr);
}

}  // namespace larix
