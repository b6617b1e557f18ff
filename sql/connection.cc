// Connection set-up: the auto-extension every SQLite connection in the
// process runs at open, and OpenDatabase.

#include <sqlite3.h>

#include <mutex>

#include "larix/database.h"
#include "sql/engine.h"
#include "sql/vfs.h"

namespace larix {

// Registers Larix's SQL functions and tables on `db` (sql/functions.cc).
int RegisterSqlFunctions(sqlite3* db);

namespace {

// Notes writing statements for commit messages.  A user's own trace
// callback replaces this one; commits then get the generic message.
int TraceStatement(unsigned type, void* ctx, void* p, void*) {
  if (type != SQLITE_TRACE_STMT) return 0;
  sqlite3_stmt* stmt = static_cast<sqlite3_stmt*>(p);
  if (sqlite3_stmt_readonly(stmt)) return 0;
  BranchFile* f = static_cast<BranchFile*>(ctx);
  BranchFileControl::NoteStatement(f, sqlite3_sql(stmt));
  return 0;
}

// Runs for every new connection.  A connection on the Larix VFS keeps
// SQLite's default journal_mode=DELETE, with its journal in memory
// (sql/vfs.cc): the commit point makes the journal unnecessary for crash
// safety.
int SetUpConnection(sqlite3* db, char**,
                    const sqlite3_api_routines*) {
  if (BranchFile* f = GetBranchFile(db)) {
    sqlite3_trace_v2(db, SQLITE_TRACE_STMT, TraceStatement, f);
  }
  return RegisterSqlFunctions(db);
}

}  // namespace

int RegisterLarix() {
  static std::once_flag once;
  static int rc = SQLITE_OK;
  std::call_once(once, [] {
    rc = RegisterLarixVfs();
    if (rc == SQLITE_OK) {
      rc = sqlite3_auto_extension(
          reinterpret_cast<void (*)(void)>(&SetUpConnection));
    }
  });
  return rc;
}

std::string ErrorMessage(sqlite3* db) {
  std::string message = sqlite3_errmsg(db);
  int code = sqlite3_errcode(db);
  if (code != SQLITE_IOERR && code != SQLITE_CORRUPT && code != SQLITE_FULL &&
      code != SQLITE_CANTOPEN) {
    return message;
  }
  BranchFile* f = GetBranchFile(db);
  if (f == nullptr) return message;
  std::string detail = BranchFileControl::LastError(f);
  if (detail.empty()) return message;
  return message + ": " + detail;
}

Status OpenDatabase(const std::string& spec, const OpenOptions& options,
                    sqlite3** db) {
  *db = nullptr;
  if (RegisterLarix() != SQLITE_OK) {
    return Status::IOError("cannot register the Larix VFS with SQLite");
  }
  std::string store, branch;
  SplitStoreSpec(spec, &store, &branch);
  if (branch.empty()) branch = options.branch;
  // Open the store first, to turn its errors into clear Statuses (SQLite
  // would only say "unable to open database file").
  Result<std::shared_ptr<Engine>> engine =
      Engine::Acquire(store, options.create && !options.read_only);
  if (!engine.ok()) return engine.status();
  if (!branch.empty()) {
    Result<BranchHead> head = (*engine)->ReadHead(branch);
    if (!head.ok()) return head.status();
  }
  std::string name = branch.empty() ? store : store + "@" + branch;
  int flags = (options.read_only ? SQLITE_OPEN_READONLY
                                 : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
              SQLITE_OPEN_NOMUTEX;
  sqlite3* handle = nullptr;
  int rc = sqlite3_open_v2(name.c_str(), &handle, flags, kVfsName);
  if (rc != SQLITE_OK) {
    std::string msg = handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc);
    sqlite3_close(handle);
    return Status::IOError("cannot open " + spec + ": " + msg);
  }
  sqlite3_busy_timeout(handle, options.busy_timeout_ms);
  *db = handle;
  return Status::OK();
}

}  // namespace larix
