// Opening SQL connections on a Larix store.
//
//   sqlite3* db;
//   larix::Status s = larix::OpenDatabase("/data/shop@dev", {}, &db);
//   ... use db with the ordinary SQLite C API ...
//   sqlite3_close(db);
//
// The connection is an ordinary sqlite3 handle on the "larix" VFS: every
// committed transaction becomes a commit on the branch, and Larix's SQL
// functions and tables are registered on it.

#ifndef LARIX_DATABASE_H_
#define LARIX_DATABASE_H_

#include <string>
#include <string_view>
#include <vector>

#include "larix/status.h"

struct sqlite3;

namespace larix {

struct OpenOptions {
  // Branch to open when the spec names none ("STORE@branch" wins).
  std::string branch;
  // Create the store if it does not exist.
  bool create = true;
  bool read_only = false;
  // How long a writer waits for another writer on the same branch.
  int busy_timeout_ms = 5000;
};

// Registers the Larix VFS and an auto-extension that sets up every new
// connection on it (journal mode, functions).  Idempotent; OpenDatabase
// calls it.  Returns a SQLite result code.
int RegisterLarix();

// Splits "STORE@branch" into the store path and the branch name (empty if
// none is named).  A path naming an existing file or directory is taken
// whole even if it contains '@'.
void SplitStoreSpec(const std::string& spec, std::string* store,
                    std::string* branch);

// Opens a connection on `spec`: "STORE", "STORE@branch", or an in-memory
// store "larix-memory:NAME[@branch]" (shared by connections in this
// process that use the same NAME while any is open).  On failure *db is
// null and the Status says why (NotFound, InvalidArgument, Busy naming the
// process that holds the store, ...).
Status OpenDatabase(const std::string& spec, const OpenOptions& options,
                    sqlite3** db);

// sqlite3_errmsg(db), followed by Larix's own reason when the error came
// from the store in the current or last transaction ("disk I/O error: the
// page size of a Larix database cannot change ...").  Front ends show this
// instead of sqlite3_errmsg.
std::string ErrorMessage(sqlite3* db);

// One statement of a script: its text (from its first significant byte
// through its ';') and offset in the script.  Splits exactly where
// sqlite3_complete() would, CREATE TRIGGER bodies included.
struct ScriptStatement {
  std::string_view text;
  size_t offset = 0;
};
std::vector<ScriptStatement> SplitScript(std::string_view script);

// A statement as SQLite must see it.
struct Translation {
  std::string sql;       // what to prepare
  bool changed = false;  // false: `sql` is the statement, byte for byte
  // A Larix command (CREATE DATABASE BRANCH, USE BRANCH, ...): `sql` runs
  // it and returns no rows.
  bool is_command = false;
  // For each parameter of `sql` (index j-1 for parameter j), its number in
  // the original statement; empty when numbering is unchanged.
  std::vector<int> parameter_origin;
};

// Translates ONE statement's Larix extensions (CREATE DATABASE BRANCH, AS
// OF, ...) into SQL on Larix's functions and tables; every other statement
// comes back untouched.  Front ends run each statement through this before
// sqlite3_prepare.  Errors: InvalidArgument naming the offset of malformed
// extension syntax; NotFound if the connection's branch no longer exists;
// NotSupported.
Result<Translation> TranslateStatement(sqlite3* db, std::string_view sql);

}  // namespace larix

#endif  // LARIX_DATABASE_H_
