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

}  // namespace larix

#endif  // LARIX_DATABASE_H_
